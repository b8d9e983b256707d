"""A Clerk `user.deleted` webhook, posted to a running server, drops the user's open sockets."""

import asyncio
import json
import urllib.request
import uuid
from datetime import datetime, timezone

import pytest
import socketio
from svix.webhooks import Webhook

from tests.users.test_webhooks import SECRET

pytestmark = pytest.mark.django_db(transaction=True)


def post_signed(url, event_type, data):
    body = json.dumps({"type": event_type, "object": "event", "data": data})
    msg_id, at = f"msg_{uuid.uuid4().hex}", datetime.now(timezone.utc)
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


@pytest.fixture
def alice(make_user):
    return make_user("alice")


async def _deleted_user_is_disconnected(socket_server, webhook_server, clerk_id):
    client = socketio.AsyncClient(reconnection=False)
    registered, gone = asyncio.Future(), asyncio.Future()
    client.on("registered", lambda data: registered.done() or registered.set_result(data))
    client.on("disconnect", lambda *args: gone.done() or gone.set_result(True))
    await client.connect(socket_server.url, transports=["websocket"], wait_timeout=10)
    try:
        await client.emit("register_user", {"clerkId": clerk_id})
        assert (await asyncio.wait_for(registered, 10))["success"] is True

        status, body = await asyncio.to_thread(
            post_signed, webhook_server.url, "user.deleted", {"id": clerk_id, "object": "user", "deleted": True}
        )
        assert (status, body["result"]) == (200, "deactivated")
        assert await asyncio.wait_for(gone, 10)
    finally:
        if client.connected:
            await client.disconnect()


@pytest.fixture(scope="module")
def webhook_servers(asgi_server_factory):
    return [asgi_server_factory(AUTH_MODE="dev", DEBUG="true", CLERK_WEBHOOK_SECRET=SECRET) for _ in range(2)]


async def test_deleted_user_is_disconnected(webhook_servers, alice):
    await _deleted_user_is_disconnected(webhook_servers[0], webhook_servers[0], alice.clerk_id)


@pytest.mark.redis
async def test_deleted_user_is_disconnected_from_another_process(webhook_servers, alice):
    await _deleted_user_is_disconnected(webhook_servers[1], webhook_servers[0], alice.clerk_id)
