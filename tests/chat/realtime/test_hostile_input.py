"""Any payload, forged identity or excess gets a clear failure answer; the socket keeps working."""

import asyncio

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def _bad_sends(me, other):
    ok = {"fromClerkId": me, "toClerkId": other, "text": "hi"}
    return [
        ("a string", "must be an object"),
        (42, "must be an object"),
        (None, "must be an object"),
        ([ok], "must be an object"),
        ({"nested": ok}, "fromClerkId"),
        ({**ok, "text": None}, "text"),
        ({**ok, "text": "   "}, "text"),
        ({**ok, "text": ["hi"]}, "text"),
        ({**ok, "text": {"$gt": ""}}, "text"),
        ({**ok, "text": "x" * 4001}, "longer than 4000"),
        ({k: v for k, v in ok.items() if k != "toClerkId"}, "toClerkId"),
        ({**ok, "toClerkId": ""}, "toClerkId"),
        ({**ok, "toClerkId": 7}, "toClerkId"),
        ({**ok, "toClerkId": "user_nobody_here"}, "Recipient not found"),
        ({**ok, "toClerkId": me}, "yourself"),
        ({**ok, "clientMessageId": {"id": 1}}, "clientMessageId"),
        ({**ok, "clientMessageId": "c" * 101}, "clientMessageId"),
        ({**ok, "text": "nul\x00byte"}, "NUL"),  # PostgreSQL cannot store it
        ({**ok, "clientMessageId": "nul\x00id"}, "clientMessageId"),
        # Identity forgery: someone else's id, a blank one, none.
        ({**ok, "fromClerkId": other}, "fromClerkId"),
        ({**ok, "fromClerkId": ""}, "fromClerkId"),
        ({k: v for k, v in ok.items() if k != "fromClerkId"}, "fromClerkId"),
    ]


async def test_every_bad_send_message_fails_clearly(asgi_server, clients, alice, bob, transport):
    sender = await clients(asgi_server, alice.clerk_id, transport)
    receiver = await clients(asgi_server, bob.clerk_id, transport)
    for payload, reason in _bad_sends(alice.clerk_id, bob.clerk_id):
        ack = await sender.call("send_message", payload)
        failed = await sender.next("message_failed")
        assert ack["success"] is False and ack["error"] == failed["error"], payload
        assert reason.lower() in (failed["error"] + str(failed.get("details"))).lower(), (payload, failed)
    failed = await sender.call(
        "send_message", {"fromClerkId": alice.clerk_id, "toClerkId": bob.clerk_id, "text": "x" * 4001}
    )
    assert failed["details"]["maxLength"] == 4000

    # Nothing was stored or delivered, and the same socket still sends.
    ack = await sender.send(bob.clerk_id, "still here", clientMessageId="after")
    assert ack["success"] is True
    received = await receiver.next("receive_message")
    assert received["text"] == "still here"
    assert receiver.pending("receive_message") == []
    from chat.models import Message
    from tests.chat.realtime.conftest import db

    assert await db(Message.objects.count)() == 1


async def test_a_failure_names_the_client_message_id(asgi_server, clients, alice):
    sender = await clients(asgi_server, alice.clerk_id)
    await sender.emit(
        "send_message", {"fromClerkId": alice.clerk_id, "toClerkId": "user_x", "text": "t", "clientMessageId": "c9"}
    )
    assert (await sender.next("message_failed"))["clientMessageId"] == "c9"


@pytest.mark.parametrize(
    "payload",
    [None, "x", 1, [], {}, {"messageIds": "1"}, {"messageIds": []}, {"messageIds": [True]}, {"messageIds": [-1]},
     {"messageIds": [1.5]}, {"messageIds": ["1"]}, {"messageIds": [2**70]}, {"messageIds": list(range(1, 502))}],
)  # fmt: skip
async def test_bad_mark_as_read_gets_an_error_event(asgi_server, clients, alice, payload):
    reader = await clients(asgi_server, alice.clerk_id)
    ack = await reader.call("mark_as_read", payload)
    error = await reader.next("error")
    assert ack["success"] is False and error["event"] == "mark_as_read" and error["error"] == ack["error"]
    assert (await reader.call("mark_as_read", {"messageIds": [1]}))["success"] is True


async def test_bad_typing_payloads_get_an_error_event(asgi_server, clients, alice, bob, transport):
    typist = await clients(asgi_server, alice.clerk_id, transport)
    watcher = await clients(asgi_server, bob.clerk_id, transport)
    for event in ("typing_start", "typing_stop"):
        for payload in (None, "x", [1], {"toClerkId": bob.clerk_id}, {"fromClerkId": bob.clerk_id, "toClerkId": alice.clerk_id},
                        {"fromClerkId": alice.clerk_id, "toClerkId": "user_nobody_here"},
                        {"fromClerkId": alice.clerk_id, "toClerkId": {"a": 1}}):  # fmt: skip
            ack = await typist.call(event, payload)
            assert ack["success"] is False and (await typist.next("error"))["event"] == event, payload
    await typist.call("typing_start", {"fromClerkId": alice.clerk_id, "toClerkId": bob.clerk_id})
    assert await watcher.next("user_typing") == {
        "userId": alice.clerk_id,
        "fromClerkId": alice.clerk_id,
        "isTyping": True,
    }
    assert watcher.pending("user_typing") == []


async def test_events_before_register_fail_clearly(asgi_server, clients, alice, bob, transport):
    client = await clients(asgi_server, transport=transport)
    pair = {"fromClerkId": alice.clerk_id, "toClerkId": bob.clerk_id}
    ack = await client.call("send_message", {**pair, "text": "hi"})
    assert ack["success"] is False and "register_user" in (await client.next("message_failed"))["error"]
    for event, payload in (("mark_as_read", {"messageIds": [1]}), ("typing_start", pair), ("typing_stop", pair)):
        assert (await client.call(event, payload))["success"] is False
        assert "register_user" in (await client.next("error"))["error"]
    for payload in (None, "x", {"clerkId": ""}, {"clerkId": {"$ne": None}}, {"clerkId": "has space"}):
        await client.emit("register_user", payload)
        assert (await client.next("registered"))["success"] is False, payload
    assert (await client.register(alice.clerk_id))["socketId"] == client.sid


async def test_a_socket_cannot_change_its_user(asgi_server, clients, alice, bob, transport):
    client = await clients(asgi_server, alice.clerk_id, transport)
    receiver = await clients(asgi_server, bob.clerk_id, transport)

    await client.emit("register_user", {"clerkId": bob.clerk_id})
    refused = await client.next("registered")
    assert refused["success"] is False and refused["error"]
    again = await client.register(alice.clerk_id)  # the same id is confirmed again
    assert again == {"success": True, "clerkId": alice.clerk_id, "socketId": client.sid}

    # Still alice: acting as bob fails, acting as alice works.
    ack = await client.call(
        "send_message", {"fromClerkId": bob.clerk_id, "toClerkId": alice.clerk_id, "text": "forged"}
    )
    assert ack["success"] is False
    assert (await client.send(bob.clerk_id, "genuine"))["success"] is True
    assert (await receiver.next("receive_message"))["text"] == "genuine"


async def test_odd_emits_do_not_break_the_socket(asgi_server, clients, alice, bob):
    client = await clients(asgi_server, alice.clerk_id)
    await client.sio.emit("send_message", ({"a": 1}, "second argument", 3))
    assert (await client.next("message_failed"))["error"]
    await client.sio.emit("send_message")
    assert (await client.next("message_failed"))["error"]
    await client.sio.emit("no_such_event", {"x": 1})
    await client.sio.emit("send_message", {"fromClerkId": alice.clerk_id, "toClerkId": bob.clerk_id, "text": b"bytes"})
    assert "text" in (await client.next("message_failed"))["error"]
    assert (await client.send(bob.clerk_id, "fine"))["success"] is True


@pytest.fixture(scope="module")
def strict_server(asgi_server_factory):
    return asgi_server_factory(RATE_LIMIT_MESSAGES="5", RATE_LIMIT_TYPING="3", RATE_LIMIT_WINDOW_SECONDS="60")


async def test_rate_limits_refuse_with_a_clear_error(strict_server, clients, alice, bob, transport):
    sender = await clients(strict_server, alice.clerk_id, transport)
    other_device = await clients(strict_server, alice.clerk_id, transport)
    for i in range(3):
        assert (await sender.send(bob.clerk_id, f"m{i}"))["success"] is True
    for i in range(2):
        assert (await other_device.send(bob.clerk_id, f"d{i}"))["success"] is True
    refused = await sender.send(bob.clerk_id, "one too many")  # the budget is per user, not per socket
    assert refused["success"] is False and "Too many" in refused["error"]
    failed = await sender.next_matching("message_failed", lambda p: True)
    assert failed["details"] == {"limit": 5, "windowSeconds": 60}

    pair = {"fromClerkId": alice.clerk_id, "toClerkId": bob.clerk_id}
    for _ in range(3):
        assert (await sender.call("typing_start", pair))["success"] is True
    assert (await sender.call("typing_start", pair))["success"] is False
    assert "Too many" in (await sender.next("error"))["error"]


async def test_a_bad_send_does_not_fail_the_sends_written_with_it(asgi_server, clients, alice, bob):
    """Sends arriving together are written together: one refused send fails alone."""
    sender = await clients(asgi_server, alice.clerk_id)
    good = {"fromClerkId": alice.clerk_id, "toClerkId": bob.clerk_id}
    payloads = [{**good, "text": f"ok {i}"} if i % 2 else {**good, "text": "nul\x00"} for i in range(20)]
    acks = await asyncio.gather(*(sender.call("send_message", p) for p in payloads))
    assert [ack["success"] for ack in acks] == [bool(i % 2) for i in range(20)]
