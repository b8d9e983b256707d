"""Unknown events and oversize frames are answered; the socket keeps working where the library lets it."""

import asyncio

import pytest

from chat.realtime.frames import FRAME_MAX_BYTES

pytestmark = pytest.mark.django_db(transaction=True)


async def test_an_unknown_event_gets_an_error_event_and_a_failure_ack(asgi_server, clients, alice, bob, transport):
    client = await clients(asgi_server, alice.clerk_id, transport)
    # The error channel works: a known event with a bad payload is answered on it.
    assert (await client.call("mark_as_read", {}))["success"] is False
    assert (await client.next("error"))["event"] == "mark_as_read"

    ack = await client.call("send_mesage", {"text": "typo"})
    error = await client.next("error")
    assert ack == {"success": False, "error": "Unknown event 'send_mesage'"}
    assert error == {"event": "send_mesage", "error": "Unknown event 'send_mesage'"}
    await client.emit("x" * 500)
    assert (await client.next("error"))["event"] == "x" * 100
    assert (await client.send(bob.clerk_id, "still here"))["success"] is True


async def test_an_unknown_event_before_register_is_answered_too(asgi_server, clients):
    client = await clients(asgi_server)
    assert (await client.call("hello"))["error"] == "Unknown event 'hello'"


async def test_a_huge_text_under_the_frame_limit_gets_message_failed(asgi_server, clients, alice, bob, transport):
    sender = await clients(asgi_server, alice.clerk_id, transport)
    text = "x" * (FRAME_MAX_BYTES // 2)
    ack = await sender.call("send_message", {"fromClerkId": alice.clerk_id, "toClerkId": bob.clerk_id, "text": text})
    failed = await sender.next("message_failed")
    assert ack["success"] is False and "longer than 4000" in failed["error"]
    assert (await sender.send(bob.clerk_id, "fine"))["success"] is True


async def test_a_websocket_frame_over_the_limit_is_answered_and_the_socket_lives(asgi_server, clients, alice, bob):
    sender = await clients(asgi_server, alice.clerk_id)
    text = "x" * (FRAME_MAX_BYTES + 10)
    payload = {"fromClerkId": alice.clerk_id, "toClerkId": bob.clerk_id, "text": text, "clientMessageId": "big"}
    ack = await sender.call("send_message", payload)
    failed = await sender.next("message_failed")
    error = f"Frame too large: the limit is {FRAME_MAX_BYTES} bytes"
    assert ack == {"success": False, "error": error, "details": {"maxBytes": FRAME_MAX_BYTES}}
    assert failed["error"] == error
    await sender.emit("mark_as_read", {"messageIds": [1] * FRAME_MAX_BYTES})
    assert (await sender.next("error")) == {
        "event": "mark_as_read",
        "error": error,
        "details": {"maxBytes": FRAME_MAX_BYTES},
    }
    assert (await sender.send(bob.clerk_id, "after the big one"))["success"] is True
    assert not sender.disconnected.is_set()


async def test_a_long_polling_post_over_the_limit_ends_the_session(asgi_server, clients, alice, bob):
    """What cannot be answered (README): python-engineio answers such a POST with 400 and closes."""
    sender = await clients(asgi_server, alice.clerk_id, "polling")
    assert (await sender.send(bob.clerk_id, "small"))["success"] is True
    text = "x" * (FRAME_MAX_BYTES + 10)
    await sender.emit("send_message", {"fromClerkId": alice.clerk_id, "toClerkId": bob.clerk_id, "text": text})
    await asyncio.wait_for(sender.disconnected.wait(), 10)


async def test_a_websocket_to_any_other_path_is_refused_cleanly(asgi_server, clients, alice):
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    ws_url = asgi_server.url.replace("http://", "ws://")
    # The WebSocket route works: Socket.IO's path accepts and registers.
    assert (await clients(asgi_server, alice.clerk_id)).sid
    logged_before = len(asgi_server.log())  # the shared server's log holds other tests' lines
    for path in ("/", "/chat/", "/socket.io.evil/", "/admin/"):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(ws_url + path, open_timeout=5):
                pass
        assert refused.value.response.status_code == 403, path
    assert "Traceback" not in asgi_server.log()[logged_before:]
