"""Connection state recovery with the real socket.io-client (tests/realtime_js): a transport
drops while a user is sent messages, read receipts and removals; on reconnect the client is
recovered and gets each missed event once, in order, with the payloads a live socket got."""

from __future__ import annotations

import pytest

from tests.chat.realtime.client import Client
from tests.chat.realtime.jsclient import JsClient, install_socketio_client
from tests.chat.test_moderation_live import _staff_session

pytestmark = pytest.mark.django_db(transaction=True)

RECOVERABLE = ("receive_message", "message_delivered", "messages_read", "message_deleted")


@pytest.fixture(scope="session")
def socketio_client_js():
    install_socketio_client()


@pytest.fixture
async def js(socketio_client_js):
    started: list[JsClient] = []

    async def start(server, clerk_id: str, **options) -> JsClient:
        client = await JsClient.start(server.url, clerk_id, **options)
        started.append(client)
        return client

    yield start
    for client in started:
        await client.close()


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


async def test_a_dropped_transport_is_recovered_with_every_missed_event(asgi_server, clients, js, alice, bob):
    away = await js(asgi_server, alice.clerk_id)
    first = await away.connected()
    assert first["recovered"] is False and first["pid"]

    live = await missed_while_away(asgi_server, alice, bob, clients, away)
    assert [e for e, _ in live] == [
        "receive_message", "receive_message", "receive_message", "messages_read", "message_delivered",
        "message_deleted",
    ]  # fmt: skip
    assert after_drop(away) == []  # the channel is quiet while it is away

    await away.command("reconnect")
    again = await away.connected()
    assert again["recovered"] is True and again["pid"] == first["pid"]
    # A live event after the replay: everything before it has arrived.
    bob_again = await clients(asgi_server, bob.clerk_id)
    last = await bob_again.send(alice.clerk_id, "after the replay")
    marker = await away.next("event", "receive_message")
    assert marker["args"][0]["messageId"] == last["messageId"]
    assert_replayed_once_in_order(away, [*live, ("receive_message", marker["args"][0])])
