"""A Clerk `user.deleted` webhook, posted to a running server, drops the user's open sockets."""

import asyncio
import json
import urllib.request
import uuid
from datetime import UTC, datetime

import pytest
import socketio
from svix.webhooks import Webhook

from tests.users.test_webhooks import SECRET

pytestmark = pytest.mark.django_db(transaction=True)


def post_signed(url, event_type, data):
    body = json.dumps({"type": event_type, "object": "event", "data": data})
    msg_id, at = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
    request = urllib.request.Request(
        url + "/webhooks/clerk",
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "svix-id": msg_id,
            "svix-timestamp": str(int(at.timestamp())),
            "svix-signature": Webhook(SECRET).sign(msg_id, at, body),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


class Peer:
    def __init__(self):
        self.client = socketio.AsyncClient(reconnection=False)
        self.events: asyncio.Queue = asyncio.Queue()
        self.gone = asyncio.Future()
        self.client.on("*", self._record)
        self.client.on("disconnect", lambda *args: self.gone.done() or self.gone.set_result(True))

    async def _record(self, event, data=None):
        await self.events.put((event, data))

    async def join(self, server, clerk_id):
        await self.client.connect(server.url, transports=["websocket"], wait_timeout=10)
        await self.client.emit("register_user", {"clerkId": clerk_id})
        assert (await self.next("registered"))["success"] is True
        return self

    async def next(self, name, match=lambda data: True):
        while True:
            event, data = await asyncio.wait_for(self.events.get(), 10)
            if event == name and match(data):
                return data


@pytest.fixture
def alice_and_watcher(make_user):
    from contacts.models import Contact

    alice, bob = make_user("alice"), make_user("bob")
    Contact.objects.create(owner=bob, contact=alice)
    return alice, bob


async def _deleted_user_is_disconnected(socket_server, webhook_server, alice, bob):
    alices, bobs, again = Peer(), Peer(), Peer()
    try:
        await bobs.join(socket_server, bob.clerk_id)
        await alices.join(socket_server, alice.clerk_id)
        await bobs.next("user_status", lambda data: data["clerkId"] == alice.clerk_id and data["status"] == "online")

        status, body = await asyncio.to_thread(
            post_signed, webhook_server.url, "user.deleted", {"id": alice.clerk_id, "object": "user", "deleted": True}
        )
        assert (status, body["result"]) == (200, "deactivated")
        assert await asyncio.wait_for(alices.gone, 10)
        # Her contacts see her go offline, as for any last socket leaving.
        await bobs.next("user_status", lambda data: data["clerkId"] == alice.clerk_id and data["status"] == "offline")
        # And she cannot come back.
        await again.client.connect(socket_server.url, transports=["websocket"], wait_timeout=10)
        await again.client.emit("register_user", {"clerkId": alice.clerk_id})
        assert (await again.next("registered"))["success"] is False
    finally:
        for peer in (alices, bobs, again):
            if peer.client.connected:
                await peer.client.disconnect()


@pytest.fixture(scope="module")
def webhook_servers(asgi_server_factory):
    return [asgi_server_factory(AUTH_MODE="dev", DEBUG="true", CLERK_WEBHOOK_SECRET=SECRET) for _ in range(2)]


async def test_deleted_user_is_disconnected(webhook_servers, alice_and_watcher):
    await _deleted_user_is_disconnected(webhook_servers[0], webhook_servers[0], *alice_and_watcher)


@pytest.mark.redis
async def test_deleted_user_is_disconnected_from_another_process(webhook_servers, alice_and_watcher):
    await _deleted_user_is_disconnected(webhook_servers[1], webhook_servers[0], *alice_and_watcher)
