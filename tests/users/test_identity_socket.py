"""Clerk session tokens on the Socket.IO handshake of a real clerk-mode server process."""

import asyncio
import urllib.parse

import pytest
import socketio

from chat.models import Message
from tests.users.clerk_tokens import ISSUER, PARTY
from tests.users.conftest import BAD_TOKEN_NAMES, bad_tokens

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 10


@pytest.fixture(scope="module")
def clerk_server(asgi_server_factory, clerk_key):
    return asgi_server_factory(
        AUTH_MODE="clerk", CLERK_JWT_KEY=clerk_key.public_pem, CLERK_AUTHORIZED_PARTIES=PARTY, CLERK_ISSUER=ISSUER
    )


@pytest.fixture
def trio(make_user):
    """Users made before the test's event loop runs (the ORM is sync-only inside it)."""
    return make_user("alice"), make_user("bob"), make_user("carol")


class Peer:
    """A Socket.IO client whose every received event lands in a queue."""

    def __init__(self):
        self.client = socketio.AsyncClient(reconnection=False)
        self.events: asyncio.Queue = asyncio.Queue()

        @self.client.on("*")
        async def any_event(event, data=None):
            await self.events.put((event, data))

    async def connect(self, url, *, token=None, via="auth", headers=None):
        kwargs = {"headers": dict(headers or {})}
        if token is not None and via == "auth":
            kwargs["auth"] = {"token": token}
        elif token is not None and via == "header":
            kwargs["headers"]["Authorization"] = f"Bearer {token}"
        elif token is not None and via == "query":
            url = f"{url}?{urllib.parse.urlencode({'token': token})}"
        await self.client.connect(url, transports=["websocket"], wait_timeout=WAIT, **kwargs)
        return self

    async def next(self, name):
        while True:
            event, data = await asyncio.wait_for(self.events.get(), WAIT)
            if event == name:
                return data

    async def register(self, clerk_id):
        await self.client.emit("register_user", {"clerkId": clerk_id})
        return await self.next("registered")

    async def close(self):
        if self.client.connected:
            await self.client.disconnect()


@pytest.mark.parametrize("via", ["auth", "header", "query"])
async def test_valid_token_connects_as_its_subject(clerk_server, clerk_key, trio, via):
    alice = trio[0]
    peer = await Peer().connect(clerk_server.url, token=clerk_key.mint(alice.clerk_id), via=via)
    try:
        registered = await peer.register(alice.clerk_id)
        assert registered["success"] is True and registered["clerkId"] == alice.clerk_id
    finally:
        await peer.close()


@pytest.mark.parametrize("case", [*BAD_TOKEN_NAMES, "missing"])
async def test_bad_token_is_refused_at_the_handshake(clerk_server, clerk_key, other_key, case):
    token = None if case == "missing" else bad_tokens(clerk_key, other_key, "user_alice")[case]
    peer = Peer()
    reasons = []
    peer.client.on("connect_error", lambda data=None: reasons.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await peer.connect(clerk_server.url, token=token)
    assert not peer.client.connected
    # The client learns why (socket.io-client: the `connect_error` event's message).
    assert reasons and "session token" in str(reasons[0]), reasons


async def test_x_clerk_id_alone_is_no_identity(clerk_server, trio):
    alice = trio[0]
    with pytest.raises(socketio.exceptions.ConnectionError):
        await Peer().connect(clerk_server.url, headers={"x-clerk-id": alice.clerk_id})


async def test_a_token_cannot_register_as_another_user(clerk_server, clerk_key, trio):
    alice, bob, _ = trio
    peer = await Peer().connect(
        clerk_server.url, token=clerk_key.mint(alice.clerk_id), headers={"x-clerk-id": bob.clerk_id}
    )
    try:
        refused = await peer.register(bob.clerk_id)
        assert refused["success"] is False and "does not match" in refused["error"]
        # The socket stays alice's, whatever the header or the payload said.
        assert (await peer.register(alice.clerk_id))["clerkId"] == alice.clerk_id
    finally:
        await peer.close()


async def test_a_token_cannot_send_as_another_user(clerk_server, clerk_key, trio):
    alice, bob, carol = trio
    peer = await Peer().connect(clerk_server.url, token=clerk_key.mint(alice.clerk_id))
    try:
        await peer.register(alice.clerk_id)
        await peer.client.emit(
            "send_message", {"fromClerkId": bob.clerk_id, "toClerkId": carol.clerk_id, "text": "as bob"}
        )
        failed = await peer.next("message_failed")
        assert "fromClerkId" in failed["error"]
    finally:
        await peer.close()
    assert not await Message.objects.filter(sender_id=bob.clerk_id).aexists()


def test_dev_mode_without_debug_warns_in_the_server_log(asgi_server_factory, clerk_server):
    dev = asgi_server_factory(AUTH_MODE="dev", DEBUG="false")
    assert "identity is NOT verified" in dev.log()
    assert "identity is NOT verified" not in clerk_server.log()
