"""Blocking seen by live sockets, on one server process and across two (Redis): A blocks B
over REST, and B's messages, typing and A's presence stop reaching across, while A still
reaches B; unblocking restores them. A third user, C, on B's process, proves each silent
channel works: C hears what B would have heard, after the moment B would have heard it.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from chat.models import Message
from contacts.models import Contact
from tests.chat.realtime.conftest import db

pytestmark = pytest.mark.django_db(transaction=True)

REFUSAL = "Recipient cannot receive messages"


@pytest.fixture(params=["one process", pytest.param("two processes", marks=pytest.mark.redis)])
def servers(request, asgi_server, asgi_server_factory):
    """(A's server, B's and C's server)."""
    if request.param == "one process":
        return asgi_server, asgi_server
    return asgi_server, asgi_server_factory()


async def rest(server, who: str, method: str, path: str, body=None) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.request(
            method, server.url + path, data=json.dumps(body) if body is not None else None,
            headers={"x-clerk-id": who, "content-type": "application/json"},
        ) as response:  # fmt: skip
            return response.status, await response.json()


async def typing_refused(client, pair) -> dict:
    """typing_start until the socket's cached check of its partner expires (at most a second)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while (answer := await client.call("typing_start", pair))["success"] is True:
        assert loop.time() - started < 1.5, "the typing cache was never checked again"
        await asyncio.sleep(0.1)  # a typist's pace
    return answer


@pytest.fixture
def carol(make_user):
    return make_user("carol")


async def test_each_block_effect_live_both_directions(servers, clients, alice, bob, carol):
    a_server, b_server = servers
    a, b, c = alice, bob, carol
    for owner, contact in ((b, a), (c, a), (a, b)):
        await db(Contact.objects.create)(owner=owner, contact=contact)
    b_socket = await clients(b_server, b.clerk_id)
    c_socket = await clients(b_server, c.clerk_id)
    a_socket = await clients(a_server, a.clerk_id)
    for watcher in (b_socket, c_socket):
        assert (await watcher.next("user_status"))["status"] == "online"
    b_to_a = {"fromClerkId": b.clerk_id, "toClerkId": a.clerk_id}
    assert (await b_socket.call("typing_start", b_to_a))["success"] is True
    assert (await a_socket.next("user_typing")) == {"userId": b.clerk_id, "fromClerkId": b.clerk_id, "isTyping": True}

    status, body = await rest(a_server, a.clerk_id, "POST", "/blocks", {"clerkId": b.clerk_id})
    assert status == 200 and body["block"]["clerkId"] == b.clerk_id
    # B's indicator at A ends; A goes offline to B (to B only).
    assert (await a_socket.next("user_typing"))["isTyping"] is False
    assert (await b_socket.next("user_status"))["status"] == "offline"

    # Messages: B's fail like a deactivated account's and are never stored; A's still reach B.
    ack = await b_socket.send(a.clerk_id, "are you there?", clientMessageId="blocked-1")
    assert ack == {"success": False, "error": REFUSAL}
    failed = await b_socket.next("message_failed")
    assert failed["error"] == REFUSAL and failed["clientMessageId"] == "blocked-1"
    reply = await a_socket.send(b.clerk_id, "I can still write to you")
    assert (await b_socket.next("receive_message"))["messageId"] == reply["messageId"]
    assert not await db(Message.objects.filter(sender=b).exists)()

    # Typing: refused once the socket's cached check expires, and never reaches A.
    refused = await typing_refused(b_socket, b_to_a)
    assert refused["error"] == REFUSAL
    assert (await b_socket.next_matching("error", lambda e: e["event"] == "typing_start"))["error"] == REFUSAL
    c_to_a = {"fromClerkId": c.clerk_id, "toClerkId": a.clerk_id}
    assert (await c_socket.call("typing_start", c_to_a))["success"] is True
    await a_socket.next_matching("user_typing", lambda p: p["userId"] == c.clerk_id)
    assert not [p for p in a_socket.pending("user_typing") if p["userId"] == b.clerk_id and p["isTyping"]]
    a_to_b = {"fromClerkId": a.clerk_id, "toClerkId": b.clerk_id}
    assert (await a_socket.call("typing_start", a_to_b))["success"] is True
    assert (await b_socket.next("user_typing"))["userId"] == a.clerk_id

    # Presence: A leaves and comes back; C hears both, B hears nothing.
    await a_socket.close()
    assert (await c_socket.next("user_status"))["status"] == "offline"
    a_socket = await clients(a_server, a.clerk_id)
    assert (await c_socket.next("user_status"))["status"] == "online"
    assert b_socket.pending("user_status") == []
    status, contacts = await rest(b_server, b.clerk_id, "GET", "/contacts")
    assert [(row["contactClerkId"], row["status"]) for row in contacts["contacts"]] == [(a.clerk_id, "offline")]
    status, contacts = await rest(a_server, a.clerk_id, "GET", "/contacts")
    assert [(row["status"], row["isBlocked"]) for row in contacts["contacts"]] == [("online", True)]

    # Unblocking restores everything from now on; nothing refused before arrives.
    status, body = await rest(a_server, a.clerk_id, "DELETE", f"/blocks/{b.clerk_id}")
    assert body == {"success": True, "wasBlocked": True}
    assert (await b_socket.next("user_status"))["status"] == "online"
    ack = await b_socket.send(a.clerk_id, "hello again")
    assert ack["success"] is True
    assert (await a_socket.next("receive_message"))["text"] == "hello again"
    assert (await b_socket.call("typing_start", b_to_a))["success"] is True
    assert (await a_socket.next("user_typing"))["userId"] == b.clerk_id
    await a_socket.close()
    assert (await b_socket.next("user_status"))["status"] == "offline"
    assert [m for m in a_socket.log if m[0] == "receive_message" and m[1]["text"] == "are you there?"] == []
