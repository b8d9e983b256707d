"""send_message end to end: answers to the sender, delivery to every device, idempotency, order."""

import asyncio
import re

import pytest

from tests.chat.realtime.conftest import db

pytestmark = pytest.mark.django_db(transaction=True)

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def test_send_message_answers_the_sender_and_reaches_every_device(asgi_server, clients, alice, bob, transport):
    sender = await clients(asgi_server, alice.clerk_id, transport)
    sender_tab = await clients(asgi_server, alice.clerk_id, transport)
    phone = await clients(asgi_server, bob.clerk_id, transport)
    laptop = await clients(asgi_server, bob.clerk_id, transport)

    ack = await sender.send(bob.clerk_id, "Hello, how are you?")

    sent = await sender.next("message_sent")
    delivered = await sender.next("message_delivered")
    message_id = sent["messageId"]
    assert isinstance(message_id, int) and isinstance(sent["conversationId"], int)
    assert ISO_Z.match(sent["timestamp"])
    assert delivered == {"messageId": message_id, "status": "delivered", "timestamp": sent["timestamp"]}
    assert ack["success"] is True
    assert {k: ack[k] for k in ("messageId", "conversationId", "status", "timestamp")} == {
        "messageId": message_id,
        "conversationId": sent["conversationId"],
        "status": "delivered",
        "timestamp": sent["timestamp"],
    }
    expected = {
        "messageId": message_id,
        "from": alice.clerk_id,
        "fromClerkId": alice.clerk_id,
        "toClerkId": bob.clerk_id,
        "text": "Hello, how are you?",
        "content": "Hello, how are you?",
        "timestamp": sent["timestamp"],
        "conversationId": sent["conversationId"],
        "messageType": "text",
    }
    for device in (phone, laptop, sender_tab):
        received = await device.next("receive_message")
        assert {k: received[k] for k in expected} == expected
    # The sending socket gets message_sent instead; anything for it arrived before its answer.
    assert sender.pending("receive_message") == []


async def test_status_is_saved_when_the_recipient_is_offline(asgi_server, clients, alice, bob, transport):
    sender = await clients(asgi_server, alice.clerk_id, transport)
    ack = await sender.send(bob.clerk_id, "are you there?")
    assert ack["status"] == "saved"
    await sender.next("message_sent")
    assert (await sender.next("message_delivered"))["status"] == "saved"

    from chat.models import Message
    from contacts.models import Contact

    message = await db(Message.objects.get)(pk=ack["messageId"])
    assert (message.content, message.delivered_at, message.is_read) == ("are you there?", None, False)
    receiver_row = await db(Contact.objects.get)(owner_id=bob.clerk_id, contact_id=alice.clerk_id)
    sender_row = await db(Contact.objects.get)(owner_id=alice.clerk_id, contact_id=bob.clerk_id)
    assert (receiver_row.unread_count, receiver_row.last_message_preview) == (1, "are you there?")
    assert (sender_row.unread_count, sender_row.last_message_preview) == (0, "are you there?")


async def test_a_retry_with_the_same_client_message_id_is_acknowledged_not_repeated(
    asgi_server, clients, alice, bob, transport
):
    sender = await clients(asgi_server, alice.clerk_id, transport)
    receiver = await clients(asgi_server, bob.clerk_id, transport)

    first = await sender.send(bob.clerk_id, "only once", clientMessageId="c-1")
    await sender.next("message_sent")
    await sender.next("message_delivered")
    assert (await receiver.next("receive_message"))["messageId"] == first["messageId"]

    retry = await sender.send(bob.clerk_id, "only once", clientMessageId="c-1")
    assert retry["success"] is True and retry["messageId"] == first["messageId"]
    assert retry["clientMessageId"] == "c-1"
    assert (await sender.next("message_sent"))["messageId"] == first["messageId"]
    assert (await sender.next("message_delivered"))["messageId"] == first["messageId"]

    # A later, different message arrives next: the retry was not delivered again.
    other = await sender.send(bob.clerk_id, "second")
    assert (await receiver.next("receive_message"))["messageId"] == other["messageId"]
    from chat.models import Message
    from contacts.models import Contact

    assert await db(Message.objects.filter(sender_id=alice.clerk_id).count)() == 2
    row = await db(Contact.objects.get)(owner_id=bob.clerk_id, contact_id=alice.clerk_id)
    assert row.unread_count == 2


async def test_a_burst_of_50_is_stored_and_delivered_in_send_order(asgi_server, clients, alice, bob, transport):
    sender = await clients(asgi_server, alice.clerk_id, transport)
    receiver = await clients(asgi_server, bob.clerk_id, transport)
    texts = [f"queued {i}" for i in range(50)]

    # Emitted without awaiting one another, as a reconnecting client flushes its outbox.
    acks = await asyncio.gather(
        *(sender.send(bob.clerk_id, text, clientMessageId=f"q{i}") for i, text in enumerate(texts))
    )

    assert all(ack["success"] for ack in acks), [ack for ack in acks if not ack["success"]][:3]
    ids = [ack["messageId"] for ack in acks]
    assert ids == sorted(ids), "stored out of send order"
    received = [await receiver.next("receive_message") for _ in texts]
    assert [m["text"] for m in received] == texts
    assert [m["messageId"] for m in received] == ids
    sent = [await sender.next("message_sent") for _ in texts]
    assert [m["messageId"] for m in sent] == ids


async def test_both_users_can_message_each_other_in_one_conversation(asgi_server, clients, alice, bob, transport):
    a = await clients(asgi_server, alice.clerk_id, transport)
    b = await clients(asgi_server, bob.clerk_id, transport)
    first, second = await asyncio.gather(a.send(bob.clerk_id, "hi bob"), b.send(alice.clerk_id, "hi alice"))
    assert first["conversationId"] == second["conversationId"]
    assert (await b.next("receive_message"))["text"] == "hi bob"
    assert (await a.next("receive_message"))["text"] == "hi alice"


@pytest.fixture(scope="module")
def server_without_redis(asgi_server_factory):
    # Port 1: every Redis call is refused, as during an outage.
    return asgi_server_factory(REDIS_URL="redis://127.0.0.1:1/0")


async def test_a_redis_outage_does_not_stop_chat_on_one_process(server_without_redis, clients, alice, bob):
    sender = await clients(server_without_redis, alice.clerk_id)
    receiver = await clients(server_without_redis, bob.clerk_id)
    ack = await sender.send(bob.clerk_id, "still stored")
    # Redis presence is unknown, but the recipient's socket is on this very process, which
    # delivers it live: delivered, as with no Redis at all.
    assert ack["success"] is True and ack["status"] == "delivered"
    assert (await receiver.next("receive_message"))["text"] == "still stored"


async def test_concurrent_senders_in_both_directions_all_succeed(asgi_server, clients, make_user, transport):
    users = [await db(make_user)(f"u{i}") for i in range(4)]
    sockets = [await clients(asgi_server, user.clerk_id, transport) for user in users]
    pairs = [(i, j) for i in range(4) for j in range(4) if i != j]

    async def burst(i, j):
        return await asyncio.gather(*(sockets[i].send(users[j].clerk_id, f"{i}->{j} #{n}") for n in range(5)))

    results = await asyncio.gather(*(burst(i, j) for i, j in pairs))

    failures = [ack for acks in results for ack in acks if not ack["success"]]
    assert failures == []
    from contacts.models import Contact

    unread = await db(lambda: {(c.owner_id, c.contact_id): c.unread_count for c in Contact.objects.all()})()
    assert unread == {(users[j].clerk_id, users[i].clerk_id): 5 for i, j in pairs}


async def test_concurrent_sends_share_database_writes_and_keep_each_senders_order(asgi_server, clients, make_user):
    from tests.biosync.test_ops import _live_samples

    users = [await db(make_user)(f"b{i}") for i in range(4)]
    sockets = [await clients(asgi_server, user.clerk_id) for user in users]
    before = await _live_samples(asgi_server)

    async def burst(i):
        recipient = users[(i + 1) % 4].clerk_id
        return await asyncio.gather(*(sockets[i].send(recipient, f"{i} #{n}") for n in range(10)))

    results = await asyncio.gather(*(burst(i) for i in range(4)))

    after = await _live_samples(asgi_server)
    for acks in results:
        assert all(ack["success"] for ack in acks)
        ids = [ack["messageId"] for ack in acks]
        assert ids == sorted(ids)
    written = after[("biosync_send_batch_size_sum", ())] - before.get(("biosync_send_batch_size_sum", ()), 0)
    batches = after[("biosync_send_batch_size_count", ())] - before.get(("biosync_send_batch_size_count", ()), 0)
    assert written == 40
    assert batches < 40, "sends waiting together should have been written together"
