"""Connection state recovery at its edges, with the real socket.io-client: past the window, a
forged or someone else's pid, a suspended user, a restarted server (then /sync fills the gap),
and a burst of 500 events while away."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from django.conf import settings

from tests.chat.realtime.client import Client
from tests.chat.realtime.conftest import db
from tests.chat.realtime.test_clerk_connect import _PUBLIC_PEM, _token
from tests.chat.realtime.test_recovery_js import after_drop
from users.services import user_suspend

pytestmark = pytest.mark.django_db(transaction=True)


async def test_past_the_window_it_connects_fresh(own_servers, clients, js, alice, bob):
    server = own_servers(RECOVERY_WINDOW_SECONDS=1)
    away = await js(server, alice.clerk_id)
    await away.connected()
    bob_phone = await clients(server, bob.clerk_id)
    await away.drop()
    await bob_phone.send(alice.clerk_id, "while away")
    await asyncio.sleep(1.5)  # the window itself is what is tested: nothing to await but time
    await away.command("reconnect")
    assert (await away.connected())["recovered"] is False
    last = await bob_phone.send(alice.clerk_id, "once back")
    marker = await away.next("event", "receive_message")
    assert marker["args"][0]["messageId"] == last["messageId"]
    assert len(after_drop(away)) == 1  # nothing replayed before the live message


async def test_a_forged_pid_connects_fresh(asgi_server, js, alice):
    forged = await js(asgi_server, alice.clerk_id, auth={"pid": "forged-pid", "offset": "0-0"})
    first = await forged.connected()
    assert first["recovered"] is False and first["pid"] != "forged-pid"
    assert [i for i in forged.seen if i["type"] == "event" and i["event"] != "registered"] == []


@pytest.fixture
def mallory(make_user):
    return make_user("mallory")


async def test_another_users_pid_recovers_nothing_and_leaves_the_owner_hers(own_servers, js, alice, bob, mallory):
    server = own_servers(AUTH_MODE="clerk", CLERK_JWT_KEY=_PUBLIC_PEM.replace("\n", "\\n"))
    away = await js(server, alice.clerk_id, auth={"token": _token(alice.clerk_id)})
    pid = (await away.connected())["pid"]
    sender = Client(server.url)
    await sender.connect(auth={"token": _token(bob.clerk_id)})
    await sender.register(bob.clerk_id)
    thief = Client(server.url)
    try:
        await away.drop()
        await sender.send(alice.clerk_id, "for alice only")
        await thief.connect(auth={"token": _token(mallory.clerk_id), "pid": pid, "offset": "0-0"})
        for_mallory = await sender.send(mallory.clerk_id, "for mallory")
        # It presented a pid, so it speaks the protocol: (payload, offset).
        assert (await thief.next("receive_message"))[0]["messageId"] == for_mallory["messageId"]
        assert thief.pending("receive_message") == []

        await away.command("reconnect")
        assert (await away.connected())["recovered"] is True
        assert [args[0]["text"] for _, args in after_drop(away)] == ["for alice only"]
    finally:
        await thief.close()
        await sender.close()


async def test_a_suspended_user_is_not_recovered(asgi_server, clients, js, alice, bob):
    away = await js(asgi_server, alice.clerk_id)
    await away.connected()
    await away.drop()
    await db(user_suspend)(clerk_id=alice.clerk_id, reason="testing")
    await away.command("reconnect")
    assert (await away.connected())["recovered"] is False
    registered = [i for i in away.seen if i.get("event") == "registered"][-1]
    assert registered["args"][0]["success"] is False


async def test_after_a_restart_sync_fills_the_gap(own_servers, clients, js, alice, bob):
    first = own_servers()
    away = await js(first, alice.clerk_id)
    await away.connected()
    async with aiohttp.ClientSession() as http:
        sync_url = f"{first.url}/sync"
        async with http.get(sync_url, headers={"x-clerk-id": alice.clerk_id}) as response:
            cursor = (await response.json())["cursor"]
        await away.drop()
        first.stop()
        second = own_servers()
        sent = await (await clients(second, bob.clerk_id)).send(alice.clerk_id, "while the server restarted")
        await away.command(f"reconnect {second.url}")
        recovered = (await away.connected())["recovered"]
        # In one process the session died with it; with Redis it outlives the process.
        assert recovered is bool(settings.REDIS_URL)
        async with http.get(f"{second.url}/sync?after={cursor}", headers={"x-clerk-id": alice.clerk_id}) as response:
            changes = (await response.json())["changes"]
    assert [(c["type"], c["data"]["messageId"]) for c in changes] == [("receive_message", sent["messageId"])]


async def test_a_burst_of_500_while_away_arrives_once_in_order(own_servers, clients, js, alice, bob):
    server = own_servers(RATE_LIMIT_MESSAGES=2000)
    away = await js(server, alice.clerk_id)
    await away.connected()
    bob_phone = await clients(server, bob.clerk_id)
    await away.command("autodrop")  # the client reconnects by itself, during the burst
    acks = await asyncio.gather(*(bob_phone.send(alice.clerk_id, f"burst {i}") for i in range(500)))
    sent = [a["messageId"] for a in acks]

    await away.until(lambda seen: len(after_drop(away)) >= 500, timeout=60)
    got = [args[0]["messageId"] for event, args in after_drop(away) if event == "receive_message"]
    assert got == sorted(sent)
    assert any(i["type"] == "connect" and i["recovered"] for i in away.seen)
