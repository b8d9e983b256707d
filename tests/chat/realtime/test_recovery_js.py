"""Connection state recovery with the real socket.io-client (tests/realtime_js): a transport
drops while a user is sent messages, read receipts and removals; on reconnect the client is
recovered and gets each missed event once, in order, with the payloads a live socket got."""

from __future__ import annotations

import pytest

from tests.chat.realtime.client import Client
from tests.chat.realtime.jsclient import JsClient
from tests.chat.test_moderation_live import _staff_session

pytestmark = pytest.mark.django_db(transaction=True)

RECOVERABLE = ("receive_message", "message_delivered", "messages_read", "message_deleted")


def payloads(client: Client) -> list[tuple[str, dict]]:
    return [(event, payload) for event, payload in client.log if event in RECOVERABLE]


async def until_logged(client: Client, count: int) -> list[tuple[str, dict]]:
    """The recoverable events a live python client got, once there are `count` of them."""
    await client.until(lambda: len(payloads(client)) >= count)
    return payloads(client)


async def missed_while_away(server, alice, bob, clients, away: JsClient) -> list[tuple[str, dict]]:
    """Drop `away` (alice), then send her messages, a read receipt and a removal; returns what
    her live second device got meanwhile."""
    alice_live = await clients(server, alice.clerk_id)
    bob_phone = await clients(server, bob.clerk_id)
    mine = await alice_live.send(bob.clerk_id, "from alice")
    await bob_phone.next("receive_message")
    await away.next("event", "receive_message")  # her own message, from her other device
    before = len(payloads(alice_live))

    await away.drop()
    sent = [await bob_phone.send(alice.clerk_id, f"while away {i}") for i in range(3)]
    await bob_phone.call("mark_as_read", {"messageIds": [mine["messageId"]]})
    staff = await _staff_session(server)
    try:
        await staff.action("/admin/chat/message/", "remove_messages", [sent[1]["messageId"]])
    finally:
        await staff.close()
    # 3 messages, messages_read + message_delivered(read), message_deleted
    return (await until_logged(alice_live, before + 6))[before:]


def after_drop(client: JsClient) -> list[tuple[str, list]]:
    events, dropped = [], False
    for item in client.seen:
        dropped = dropped or item["type"] == "disconnect"
        if dropped and item["type"] == "event" and item["event"] in RECOVERABLE:
            events.append((item["event"], item["args"]))
    return events


def assert_replayed_once_in_order(client: JsClient, live: list[tuple[str, dict]]) -> None:
    got = after_drop(client)
    assert [(event, args[0]) for event, args in got] == live
    offsets = [args[-1] for _, args in got]
    assert all(isinstance(o, str) and len(args) == 2 for o, (_, args) in zip(offsets, got))
    keys = [tuple(int(p) for p in o.split("-")) for o in offsets]
    assert keys == sorted(set(keys))


async def reconnected_with_all_it_missed(server, clients, away: JsClient, first, live, alice, bob) -> None:
    """`away` reconnects to `server`, is recovered, and gets `live` once each, in order, before
    a message sent after the replay (so that nothing else can be on its way)."""
    await away.command(f"reconnect {server.url}")
    again = await away.connected()
    assert again["recovered"] is True and again["pid"] == first["pid"]
    bob_again = await clients(server, bob.clerk_id)
    last = await bob_again.send(alice.clerk_id, "after the replay")
    marker = await away.next("event", "receive_message")
    assert marker["args"][0]["messageId"] == last["messageId"]
    assert_replayed_once_in_order(away, [*live, ("receive_message", marker["args"][0])])


async def test_a_dropped_transport_is_recovered_with_every_missed_event(own_servers, clients, js, alice, bob):
    # A server of its own: its admin action must not leave the shared server's content-type
    # cache pointing at rows a later flush of the test database renumbers.
    asgi_server = own_servers()
    away = await js(asgi_server, alice.clerk_id)
    first = await away.connected()
    assert first["recovered"] is False and first["pid"]

    live = await missed_while_away(asgi_server, alice, bob, clients, away)
    assert [e for e, _ in live] == [
        "receive_message", "receive_message", "receive_message", "messages_read", "message_delivered",
        "message_deleted",
    ]  # fmt: skip
    assert after_drop(away) == []  # the channel is quiet while it is away

    await reconnected_with_all_it_missed(asgi_server, clients, away, first, live, alice, bob)


@pytest.mark.redis
async def test_it_recovers_on_another_process(own_servers, clients, js, alice, bob):
    one, two = own_servers(), own_servers()
    away = await js(one, alice.clerk_id)
    first = await away.connected()
    live = await missed_while_away(two, alice, bob, clients, away)

    await reconnected_with_all_it_missed(two, clients, away, first, live, alice, bob)


async def test_clients_that_do_not_speak_it_get_exactly_the_arguments_they_took(asgi_server, clients, js, alice, bob):
    python_client = await clients(asgi_server, alice.clerk_id)  # python-socketio: recognised, no offsets
    opted_out = await js(asgi_server, alice.clerk_id, auth={"recovery": False})
    assert (await opted_out.connected()).get("pid") is None  # no pid offered
    opted_in = Client(asgi_server.url)  # a python client may ask for it
    await opted_in.connect(auth={"recovery": True})
    await opted_in.register(alice.clerk_id)
    try:
        bob_phone = await clients(asgi_server, bob.clerk_id)
        ack = await bob_phone.send(alice.clerk_id, "one argument each")
        assert (await python_client.next("receive_message"))["messageId"] == ack["messageId"]
        assert len((await opted_out.next("event", "receive_message"))["args"]) == 1
        payload, offset = await opted_in.next("receive_message")
        assert payload["messageId"] == ack["messageId"] and isinstance(offset, str)

        await opted_out.drop()
        await opted_out.command("reconnect")
        assert (await opted_out.connected())["recovered"] is False
    finally:
        await opted_in.close()
