"""Cross-process delivery loses nothing stored, and `delivered` is true.

Two server processes share a private Redis on a free loopback port, which a test stops and
starts again: a recipient who stays connected on the other process still gets every message,
once each, in order. A process killed with SIGKILL leaves its users' presence leases behind: a
message announced "delivered" on their strength is announced "saved" again, and stays
undelivered in the database."""

import asyncio
import signal
import subprocess
import time

import pytest

from tests.chat.realtime.conftest import db
from tests.conftest import free_port

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

OUTAGE_SECONDS = 3.0


class PrivateRedis:
    def __init__(self):
        self.port = free_port()
        self.process = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout != b"PONG\n":
            assert time.monotonic() < deadline, "private Redis did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture
def private_redis():
    redis = PrivateRedis()
    yield redis
    redis.stop()


async def _texts_until(client, last: str, timeout: float = 20) -> list[str]:
    """The texts of the receive_message events the client gets, up to and including `last`."""
    texts = []
    while not texts or texts[-1] != last:
        texts.append((await client.next("receive_message", timeout=timeout))["text"])
    return texts


async def test_a_connected_recipient_gets_every_message_across_a_redis_outage(
    private_redis, own_servers, clients, alice, bob
):
    one = own_servers(REDIS_URL=private_redis.url)
    two = own_servers(REDIS_URL=private_redis.url)
    sender = await clients(one, alice.clerk_id)
    far = await clients(two, bob.clerk_id)  # the recipient on the other process
    near = await clients(one, bob.clerk_id)  # and on the sender's process

    assert (await sender.send(bob.clerk_id, "before"))["success"]
    for device in (far, near):
        assert (await device.next("receive_message"))["text"] == "before"

    private_redis.stop()
    during = [f"during {i}" for i in range(10)]
    for text in during:  # spread over the outage
        assert (await sender.send(bob.clerk_id, text))["success"], text
        await asyncio.sleep(OUTAGE_SECONDS / len(during))
    # The sender's process delivers to its own sockets at once.
    assert await _texts_until(near, during[-1], timeout=5) == during
    private_redis.start()

    after = [f"after {i}" for i in range(5)]
    for text in after:
        assert (await sender.send(bob.clerk_id, text))["success"], text
    assert await _texts_until(far, after[-1]) == [*during, *after]
    assert await _texts_until(near, after[-1]) == after
    # Nothing more comes: a later message is the next one each socket gets.
    marker = await sender.send(bob.clerk_id, "marker")
    for device in (far, near):
        assert (await device.next("receive_message"))["messageId"] == marker["messageId"]
        assert device.pending("receive_message") == []


async def test_a_message_to_a_killed_process_is_not_left_delivered(own_servers, clients, alice, bob):
    from chat.models import Message

    quick = {"DELIVERY_CONFIRM_SECONDS": "1"}
    survivor, doomed = own_servers(**quick), own_servers(**quick)
    sender = await clients(survivor, alice.clerk_id)
    await clients(doomed, bob.clerk_id)

    def delivered_at(message_id):
        return db(lambda: Message.objects.get(pk=message_id).delivered_at)()

    # The other process confirms what reached its socket: the channel works.
    reached = await sender.send(bob.clerk_id, "hello")
    assert reached["status"] == "delivered"
    deadline = time.monotonic() + 10
    while await delivered_at(reached["messageId"]) is None:
        assert time.monotonic() < deadline, "the delivery was never confirmed"
        await asyncio.sleep(0.05)

    doomed.stop(signal.SIGKILL)

    lost = await sender.send(bob.clerk_id, "into the void")
    # Bob's lease outlives his process: announced delivered, then corrected.
    assert lost["status"] == "delivered"
    correction = await sender.next_matching(
        "message_delivered", lambda p: p["messageId"] == lost["messageId"] and p["status"] == "saved"
    )
    assert correction["timestamp"] == lost["timestamp"]
    assert await delivered_at(lost["messageId"]) is None
    # The first message was never corrected.
    assert not [
        p
        for e, p in sender.log
        if e == "message_delivered" and p["messageId"] == reached["messageId"] and p["status"] == "saved"
    ]


async def test_what_a_process_held_when_it_died_in_a_redis_outage_still_arrives(
    private_redis, own_servers, clients, alice, bob
):
    doomed = own_servers(REDIS_URL=private_redis.url)
    survivor = own_servers(REDIS_URL=private_redis.url)
    sender = await clients(doomed, alice.clerk_id)
    recipient = await clients(survivor, bob.clerk_id)
    assert (await sender.send(bob.clerk_id, "before"))["success"]
    assert (await recipient.next("receive_message"))["text"] == "before"

    private_redis.stop()
    held = [f"held {i}" for i in range(3)]
    for text in held:  # stored; their events wait in the doomed process, which then dies
        assert (await sender.send(bob.clerk_id, text))["success"]
    doomed.stop(signal.SIGKILL)
    private_redis.start()

    # From the database, when the survivor's subscription comes back.
    assert await _texts_until(recipient, held[-1]) == held
    later = await clients(survivor, alice.clerk_id)
    marker = await later.send(bob.clerk_id, "marker")
    assert (await recipient.next("receive_message"))["messageId"] == marker["messageId"]
    assert recipient.pending("receive_message") == []


async def test_what_a_dead_process_stored_but_never_logged_reaches_connected_recipients(
    own_servers, clients, alice, bob, request
):
    from chat.models import Message
    from chat.services import conversation_get_or_create
    from delivery import leases
    from kernel import redis

    server = own_servers(PRESENCE_HEARTBEAT_SECONDS="0.3")
    sender = await clients(server, alice.clerk_id)
    recipient = await clients(server, bob.clerk_id)
    assert (await sender.send(bob.clerk_id, "before"))["success"]
    assert (await recipient.next("receive_message"))["text"] == "before"

    # A process stored this and died before its events reached Redis: only the database has it.
    def stored_by_a_dead_process():
        conversation = conversation_get_or_create(user_a=alice.clerk_id, user_b=bob.clerk_id)
        message = Message.objects.create(conversation=conversation, sender=alice, recipient=bob, content="orphan")
        dead = f"dead-{message.pk}"
        redis.client().zadd(leases._processes_key(), {dead: time.time() - 1})
        redis.client().hset(leases._logged_key(), dead, message.created_at.timestamp() - 1)
        return message.pk

    orphan = await db(stored_by_a_dead_process)()
    # Forgotten at the end: the servers of later tests share this Redis prefix.
    request.addfinalizer(lambda: redis.client().zrem(leases._processes_key(), f"dead-{orphan}"))
    got = await recipient.next("receive_message")
    assert (got["messageId"], got["text"]) == (orphan, "orphan")
    # Delivered once, and now truly delivered.
    marker = await sender.send(bob.clerk_id, "marker")
    assert (await recipient.next("receive_message"))["messageId"] == marker["messageId"]
    assert recipient.pending("receive_message") == []
    deadline = time.monotonic() + 10
    while await db(lambda: Message.objects.get(pk=orphan).delivered_at)() is None:
        assert time.monotonic() < deadline, "the catch-up's delivery was never confirmed"
        await asyncio.sleep(0.05)


async def test_socketio_client_gets_it_all_once_across_an_outage_and_a_recovery_after_it(
    private_redis, own_servers, clients, js, alice, bob
):
    one = own_servers(REDIS_URL=private_redis.url)
    two = own_servers(REDIS_URL=private_redis.url)
    sender = await clients(one, alice.clerk_id)
    far = await js(two, bob.clerk_id)  # socket.io-client: offered recovery, sent offsets
    assert (await far.connected())["recovered"] is False

    def texts() -> list[str]:
        return [args[0]["text"] for _, args in far.events("receive_message")]

    assert (await sender.send(bob.clerk_id, "before"))["success"]
    await far.until(lambda _: texts() == ["before"])

    private_redis.stop()
    during = [f"during {i}" for i in range(5)]
    for text in during:
        assert (await sender.send(bob.clerk_id, text))["success"], text
        await asyncio.sleep(OUTAGE_SECONDS / len(during))
    private_redis.start()
    assert (await sender.send(bob.clerk_id, "after"))["success"]
    await far.until(lambda _: "after" in texts(), timeout=20)
    assert texts() == ["before", *during, "after"]

    # A recovery right after the catch-up replays nothing it already had.
    await far.drop()
    await far.command("reconnect")
    assert (await far.connected())["recovered"] is True
    marker = await sender.send(bob.clerk_id, "marker")
    await far.until(lambda _: "marker" in texts())
    assert texts() == ["before", *during, "after", "marker"]
    assert far.events("receive_message")[-1][1][0]["messageId"] == marker["messageId"]
