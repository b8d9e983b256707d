"""Presence: users.status follows connected sockets; contacts hear user_status; offline delivery.

Disconnects are tested over websocket (a polling client's disconnect takes ~30 s to notice).
"""

import re

import pytest

from tests.chat.realtime.conftest import db

pytestmark = pytest.mark.django_db(transaction=True)

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _status(clerk_id):
    from users.models import User

    return db(lambda: User.objects.values_list("status", "last_seen_at").get(clerk_id=clerk_id))()


@pytest.fixture
def bob_watches_alice(alice, bob):
    from contacts.models import Contact

    Contact.objects.create(owner=bob, contact=alice)


async def test_status_follows_the_first_and_last_socket(asgi_server, clients, alice, bob, bob_watches_alice):
    watcher = await clients(asgi_server, bob.clerk_id)

    first = await clients(asgi_server, alice.clerk_id)
    online = await watcher.next("user_status")
    assert online["clerkId"] == alice.clerk_id and online["status"] == "online" and ISO_Z.match(online["lastSeen"])
    assert (await _status(alice.clerk_id))[0] == "online"

    second = await clients(asgi_server, alice.clerk_id)
    await first.close()
    # Still online through the second socket; a round trip shows no status event came meanwhile.
    await watcher.call("mark_as_read", {"messageIds": [1]})
    assert watcher.pending("user_status") == []
    assert (await _status(alice.clerk_id))[0] == "online"

    await second.close()
    offline = await watcher.next("user_status")
    assert offline["clerkId"] == alice.clerk_id and offline["status"] == "offline"
    status, last_seen = await _status(alice.clerk_id)
    assert status == "offline" and last_seen is not None


async def test_only_watchers_hear_status(asgi_server, clients, make_user, alice, bob, bob_watches_alice):
    stranger_user = await db(make_user)("stranger")
    stranger = await clients(asgi_server, stranger_user.clerk_id)
    watcher = await clients(asgi_server, bob.clerk_id)
    await clients(asgi_server, alice.clerk_id)
    assert (await watcher.next("user_status"))["clerkId"] == alice.clerk_id
    await stranger.call("mark_as_read", {"messageIds": [1]})
    assert stranger.pending("user_status") == []


async def test_messages_waiting_offline_are_reported_delivered_when_the_recipient_connects(
    asgi_server, clients, alice, bob, transport
):
    sender = await clients(asgi_server, alice.clerk_id, transport)
    first = await sender.send(bob.clerk_id, "while you were away")
    second = await sender.send(bob.clerk_id, "and this")
    assert first["status"] == second["status"] == "saved"
    sender.pending("message_delivered")

    await clients(asgi_server, bob.clerk_id, transport)

    notices = [await sender.next("message_delivered") for _ in range(2)]
    assert [(n["messageId"], n["status"]) for n in notices] == [
        (first["messageId"], "delivered"),
        (second["messageId"], "delivered"),
    ]
    assert all(ISO_Z.match(n["timestamp"]) for n in notices)
    from chat.models import Message

    delivered = await db(
        lambda: list(Message.objects.filter(recipient_id=bob.clerk_id).values_list("delivered_at", flat=True))
    )()
    assert all(delivered)


async def test_a_suspended_user_cannot_register(asgi_server, clients, make_user):
    from django.utils import timezone

    suspended = await db(make_user)("suspended", suspended_at=timezone.now())
    client = await clients(asgi_server)
    await client.emit("register_user", {"clerkId": suspended.clerk_id})
    answer = await client.next("registered")
    assert answer["success"] is False and "cannot connect" in answer["error"]
    assert (await _status(suspended.clerk_id))[0] == "offline"


async def test_many_sockets_registering_at_once_each_get_their_own_answer(
    asgi_server, clients, make_user, alice, bob, bob_watches_alice
):
    # Registrations arriving together are recorded in one batch (chat/realtime/connectqueue.py):
    # a suspended user among them is refused alone, everyone else is online, and a watcher hears
    # of the one they watch.
    import asyncio

    from django.conf import settings
    from django.utils import timezone

    from delivery import leases

    watcher = await clients(asgi_server, bob.clerk_id)
    others = [await db(make_user)(f"crowd{i}") for i in range(8)]
    suspended = await db(make_user)("crowdsuspended", suspended_at=timezone.now())
    sockets = [await clients(asgi_server) for _ in range(len(others) + 2)]
    who = [alice, *others, suspended]
    for client, user in zip(sockets, who):
        await client.emit("register_user", {"clerkId": user.clerk_id})
    answers = await asyncio.gather(*(client.next("registered") for client in sockets))

    assert answers[-1]["success"] is False and "cannot connect" in answers[-1]["error"]
    assert all(a.get("success") is not False and a["clerkId"] == u.clerk_id for a, u in zip(answers, who[:-1]))
    if settings.REDIS_URL:  # without Redis, presence lives in the server's process only
        online = await db(leases.online_among)([u.clerk_id for u in who])
        assert online == {u.clerk_id for u in who[:-1]}
    assert [(await _status(u.clerk_id))[0] for u in who] == ["online"] * (len(who) - 1) + ["offline"]
    status = await watcher.next("user_status")
    assert status["clerkId"] == alice.clerk_id and status["status"] == "online"
