"""Several server processes sharing Redis behave as one: delivery, typing, receipts, presence,
and a crashed process's users go offline when their leases run out."""

import asyncio
import signal

import pytest

from tests.chat.realtime.conftest import db

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def two_servers(asgi_server_factory):
    return asgi_server_factory(), asgi_server_factory()


async def test_two_processes_chat_as_one(two_servers, clients, alice, bob):
    one, two = two_servers
    alice_one = await clients(one, alice.clerk_id)
    alice_two = await clients(two, alice.clerk_id, "polling")
    bob_two = await clients(two, bob.clerk_id)

    ack = await alice_one.send(bob.clerk_id, "across processes")
    assert ack["status"] == "delivered"
    assert (await bob_two.next("receive_message"))["messageId"] == ack["messageId"]
    assert (await alice_two.next("receive_message"))["messageId"] == ack["messageId"]

    pair = {"fromClerkId": bob.clerk_id, "toClerkId": alice.clerk_id}
    await bob_two.call("typing_start", pair)
    for device in (alice_one, alice_two):
        assert (await device.next("user_typing"))["isTyping"] is True
    await bob_two.call("typing_stop", pair)
    for device in (alice_one, alice_two):
        assert (await device.next("user_typing"))["isTyping"] is False

    alice_one.pending("message_delivered")
    read = await bob_two.call("mark_as_read", {"messageIds": [ack["messageId"]]})
    assert read["messageIds"] == [ack["messageId"]]
    for device in (alice_one, alice_two):
        assert (await device.next("messages_read"))["readBy"] == bob.clerk_id
        assert await device.next_matching("message_delivered", lambda p: p["status"] == "read")


async def test_order_holds_across_processes(two_servers, clients, alice, bob):
    one, two = two_servers
    sender = await clients(one, alice.clerk_id)
    receiver = await clients(two, bob.clerk_id)
    texts = [f"n{i}" for i in range(50)]
    acks = await asyncio.gather(*(sender.send(bob.clerk_id, text) for text in texts))
    assert all(ack["success"] for ack in acks)
    assert [(await receiver.next("receive_message"))["text"] for _ in texts] == texts


async def test_presence_and_disconnect_user_span_processes(two_servers, clients, alice, bob):
    from contacts.models import Contact
    from delivery import emitter, leases
    from users.models import User

    one, two = two_servers
    await db(Contact.objects.create)(owner=bob, contact=alice)
    watcher = await clients(two, bob.clerk_id)
    phone = await clients(one, alice.clerk_id)
    laptop = await clients(two, alice.clerk_id)
    assert (await watcher.next("user_status"))["status"] == "online"
    assert await db(leases.is_online)(alice.clerk_id)
    assert sorted(await db(leases.sids_of)(alice.clerk_id)) == sorted([phone.sid, laptop.sid])

    # From outside any server process (a command, a worker), as moderation does.
    assert await db(emitter.disconnect_user)(alice.clerk_id) == 2
    await asyncio.wait_for(phone.disconnected.wait(), 10)
    await asyncio.wait_for(laptop.disconnected.wait(), 10)
    assert (await watcher.next("user_status"))["status"] == "offline"
    assert not await db(leases.is_online)(alice.clerk_id)
    assert await db(lambda: User.objects.get(pk=alice.clerk_id).status)() == "offline"


async def test_a_killed_process_loses_its_users_after_the_lease(asgi_server_factory, clients, make_user, alice, bob):
    from contacts.models import Contact
    from delivery import leases
    from users.models import User

    carol = await db(make_user)("carol")
    await db(Contact.objects.create)(owner=bob, contact=alice)
    short_leases = {"PRESENCE_HEARTBEAT_SECONDS": "0.5", "PRESENCE_LEASE_SECONDS": "2"}
    doomed, survivor = asgi_server_factory(**short_leases), asgi_server_factory(**short_leases)
    watcher = await clients(survivor, bob.clerk_id)
    await clients(doomed, alice.clerk_id)
    await clients(doomed, carol.clerk_id)
    await clients(survivor, carol.clerk_id)
    assert (await watcher.next("user_status"))["status"] == "online"

    doomed.stop(signal.SIGKILL)

    offline = await watcher.next("user_status", timeout=10)
    assert (offline["clerkId"], offline["status"]) == (alice.clerk_id, "offline")
    assert await db(lambda: User.objects.get(pk=alice.clerk_id).status)() == "offline"
    # Carol is still connected to the surviving process.
    assert await db(leases.is_online)(carol.clerk_id)
    assert await db(lambda: User.objects.get(pk=carol.clerk_id).status)() == "online"
