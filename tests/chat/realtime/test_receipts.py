"""mark_as_read: every id, only the reader's incoming messages, receipts to the sender's sockets."""

import re

import pytest

from tests.chat.realtime.conftest import db

pytestmark = pytest.mark.django_db(transaction=True)

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def _sent(sender, to, text) -> int:
    ack = await sender.send(to, text)
    assert ack["success"], ack
    return ack["messageId"]


async def test_mark_as_read_marks_all_ids_and_tells_both_sides(asgi_server, clients, alice, bob, transport):
    sender = await clients(asgi_server, alice.clerk_id, transport)
    sender_tab = await clients(asgi_server, alice.clerk_id, transport)
    reader = await clients(asgi_server, bob.clerk_id, transport)
    m1, m2, m3 = [await _sent(sender, bob.clerk_id, f"m{i}") for i in range(3)]
    own = await _sent(reader, alice.clerk_id, "bob's own message")
    for device in (sender, sender_tab):
        device.pending("message_delivered")
        device.pending("messages_read")

    # Bob's own message, one that does not exist, and a duplicate are not his to mark.
    ack = await reader.call("mark_as_read", {"messageIds": [m3, m1, own, 999_999_999, m1]})

    assert ack["success"] is True and ack["messageIds"] == [m1, m3]
    mine = await reader.next("messages_read")
    assert mine["messageIds"] == [m1, m3] and ISO_Z.match(mine["readAt"]) and "readBy" not in mine
    for device in (sender, sender_tab):
        receipt = await device.next("messages_read")
        assert receipt == {"messageIds": [m1, m3], "readAt": mine["readAt"], "readBy": bob.clerk_id}
        statuses = [await device.next("message_delivered") for _ in range(2)]
        assert statuses == [
            {"messageId": m1, "status": "read", "timestamp": mine["readAt"]},
            {"messageId": m3, "status": "read", "timestamp": mine["readAt"]},
        ]

    from chat.models import Message
    from contacts.models import Contact

    read = await db(lambda: dict(Message.objects.filter(pk__in=[m1, m2, m3, own]).values_list("pk", "is_read")))()
    assert read == {m1: True, m2: False, m3: True, own: False}
    row = await db(Contact.objects.get)(owner_id=bob.clerk_id, contact_id=alice.clerk_id)
    assert row.unread_count == 1

    # Marking again reads nothing new: counts do not drop twice, nobody is told again.
    again = await reader.call("mark_as_read", {"messageIds": [m1, m3]})
    assert again["success"] is True and again["messageIds"] == []
    assert (await db(Contact.objects.get)(owner_id=bob.clerk_id, contact_id=alice.clerk_id)).unread_count == 1


async def test_nobody_marks_messages_addressed_to_someone_else(asgi_server, clients, alice, bob, transport):
    sender = await clients(asgi_server, alice.clerk_id, transport)
    await clients(asgi_server, bob.clerk_id, transport)
    message_id = await _sent(sender, bob.clerk_id, "for bob only")

    ack = await sender.call("mark_as_read", {"messageIds": [message_id]})

    assert ack["success"] is True and ack["messageIds"] == []
    from chat.models import Message

    assert (await db(Message.objects.get)(pk=message_id)).is_read is False
