"""Packets whose JSON cannot be decoded (a lone UTF-16 surrogate, which a JS client makes by
cutting text inside an emoji; nesting deeper than the parser allows) are answered like any
refused event, ack included, and the socket keeps working."""

import sys

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

CUT_EMOJI = "I need \ud83d"  # the first half of 😀 alone


def nested(depth: int):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.fixture
def deep_encoding():
    # The test client's own encoder must be able to write what the server refuses to read.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)
    yield
    sys.setrecursionlimit(limit)


@pytest.mark.parametrize("text", [CUT_EMOJI, "deep"])
async def test_an_undecodable_send_message_gets_message_failed_and_a_failure_ack(
    asgi_server, clients, alice, bob, deep_encoding, text
):
    sender = await clients(asgi_server, alice.clerk_id)
    payload = {"fromClerkId": alice.clerk_id, "toClerkId": bob.clerk_id, "text": text}
    if text == "deep":
        payload["text"] = nested(2_000)
    ack = await sender.call("send_message", payload)
    assert ack["success"] is False and ack["error"].startswith("Could not decode the payload")
    failed = await sender.next("message_failed")
    assert failed["error"] == ack["error"]
    # The socket lives on: the next send goes through.
    assert (await sender.send(bob.clerk_id, "I need water"))["success"] is True


async def test_other_undecodable_events_get_an_error_event(asgi_server, clients, alice):
    reader = await clients(asgi_server, alice.clerk_id)
    ack = await reader.call("mark_as_read", {"messageIds": [1], "note": CUT_EMOJI})
    assert ack["success"] is False
    error = await reader.next("error")
    assert error["event"] == "mark_as_read" and "surrogate" in error["error"]
    # An event whose very name cannot be read is still answered.
    await reader.emit(CUT_EMOJI, {})
    assert (await reader.next("error"))["event"] == "unknown"
    assert (await reader.call("typing_stop", {"fromClerkId": alice.clerk_id, "toClerkId": alice.clerk_id}))[
        "success"
    ] is False  # answered normally (typing to yourself is refused): the socket still works
