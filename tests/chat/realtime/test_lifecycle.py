"""edit_message and delete_message over real sockets: acks, events on every device of both users
(on one process, and across two through Redis), and clear failures for bad input."""

import pytest
from django.utils import timezone

from chat.models import Message
from tests.chat.realtime.conftest import db

pytestmark = pytest.mark.django_db(transaction=True)


async def _devices(clients, server, alice, bob, other_server=None):
    """Alice's phone and tablet, Bob's phone and laptop (Bob's laptop on `other_server` if given)."""
    return (
        await clients(server, alice.clerk_id),
        await clients(server, alice.clerk_id, "polling"),
        await clients(server, bob.clerk_id),
        await clients(other_server or server, bob.clerk_id),
    )


async def _edit_and_delete_reach_every_device(clients, server, alice, bob, other_server=None):
    devices = await _devices(clients, server, alice, bob, other_server)
    phone = devices[0]
    ack = await phone.send(bob.clerk_id, "see you at 5")
    message_id, conversation_id = ack["messageId"], ack["conversationId"]
    for device in devices[1:]:
        assert (await device.next("receive_message"))["editedAt"] is None

    edited = await phone.call("edit_message", {"messageId": message_id, "text": "see you at 6"})
    assert edited["success"] is True and edited["text"] == edited["content"] == "see you at 6"
    expected = {k: edited[k] for k in ("messageId", "conversationId", "text", "content", "editedAt")}
    assert expected["messageId"] == message_id and expected["conversationId"] == conversation_id
    for device in devices:
        assert await device.next("message_edited") == expected

    deleted = await phone.call("delete_message", {"messageId": message_id})
    expected = {"messageId": message_id, "conversationId": conversation_id, "deletedBy": "sender"}
    assert deleted == {"success": True, **expected}
    for device in devices:
        assert await device.next("message_deleted") == expected

    # A retried delete succeeds quietly: the same ack, no second event (an edit after it proves
    # the channel still works and that nothing else came first).
    assert await phone.call("delete_message", {"messageId": message_id}) == {"success": True, **expected}
    second = await phone.send(bob.clerk_id, "one more")
    await phone.call("edit_message", {"messageId": second["messageId"], "text": "one more!"})
    for device in devices:
        assert (await device.next("message_edited"))["messageId"] == second["messageId"]
        assert device.pending("message_deleted") == []
    stored = await db(Message.objects.get)(pk=message_id)
    assert stored.deleted_at is not None and stored.content == "see you at 6"


async def test_edit_and_delete_reach_every_device_of_both_users(asgi_server, clients, alice, bob):
    await _edit_and_delete_reach_every_device(clients, asgi_server, alice, bob)


@pytest.mark.redis
async def test_edit_and_delete_reach_devices_on_another_process(asgi_server, asgi_server_factory, clients, alice, bob):
    await _edit_and_delete_reach_every_device(clients, asgi_server, alice, bob, other_server=asgi_server_factory())


def _bad_edits(mine, theirs, old):
    return [
        ("a string", "must be an object"),
        (None, "must be an object"),
        ([1], "must be an object"),
        ({"text": "x"}, "messageId"),
        ({"messageId": "12", "text": "x"}, "messageId"),
        ({"messageId": 0, "text": "x"}, "messageId"),
        ({"messageId": True, "text": "x"}, "messageId"),
        ({"messageId": 2**63, "text": "x"}, "messageId"),
        ({"messageId": mine}, "text"),
        ({"messageId": mine, "text": ["x"]}, "text"),
        ({"messageId": mine, "text": "  "}, "non-empty"),
        ({"messageId": mine, "text": "x" * 4001}, "longer than 4000"),
        ({"messageId": mine, "text": "a\x00b"}, "NUL"),
        ({"messageId": theirs, "text": "x"}, "only edit your own"),
        ({"messageId": theirs + 1000, "text": "x"}, "Message not found"),
        ({"messageId": old, "text": "x"}, "within 15 minutes"),
    ]


def _bad_deletes(theirs):
    return [
        (7, "must be an object"),
        ({}, "messageId"),
        ({"messageId": "x"}, "messageId"),
        ({"messageId": -1}, "messageId"),
        ({"messageId": theirs}, "only delete your own"),
        ({"messageId": theirs + 1000}, "Message not found"),
    ]


async def test_bad_edits_and_deletes_fail_clearly_and_the_socket_keeps_working(asgi_server, clients, alice, bob):
    me = await clients(asgi_server, alice.clerk_id)
    other = await clients(asgi_server, bob.clerk_id)
    mine = (await me.send(bob.clerk_id, "mine"))["messageId"]
    theirs = (await other.send(alice.clerk_id, "theirs"))["messageId"]
    old = (await me.send(bob.clerk_id, "old"))["messageId"]
    await db(Message.objects.filter(pk=old).update)(created_at=timezone.now() - timezone.timedelta(hours=1))

    cases = [("edit_message", d, e) for d, e in _bad_edits(mine, theirs, old)]
    cases += [("delete_message", d, e) for d, e in _bad_deletes(theirs)]
    for name, data, error in cases:
        ack = await me.call(name, data)
        assert ack["success"] is False and error in ack["error"], (name, data, ack)
        answer = await me.next("error")
        assert answer["event"] == name and answer["error"] == ack["error"]
    assert (await db(Message.objects.get)(pk=mine)).content == "mine"
    assert (await me.call("edit_message", {"messageId": mine, "text": "still works"}))["success"] is True
    assert other.pending("message_deleted") == []
