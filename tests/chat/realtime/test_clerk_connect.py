"""In clerk mode the handshake token decides the socket's user (verification itself is tested
with users/identity.py); here: the namespace binds it at connect and refuses without it."""

import asyncio
import time

import jwt
import pytest
import socketio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.chat.realtime.client import Client

pytestmark = pytest.mark.django_db(transaction=True)

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_PUBLIC_PEM = (
    _KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
)


def _token(sub: str) -> str:
    now = int(time.time())
    return jwt.encode({"sub": sub, "iat": now, "exp": now + 60}, _KEY, algorithm="RS256")


@pytest.fixture(scope="module")
def clerk_server(asgi_server_factory):
    return asgi_server_factory(AUTH_MODE="clerk", CLERK_JWT_KEY=_PUBLIC_PEM.replace("\n", "\\n"))


async def test_the_token_binds_the_user_at_connect(clerk_server, clients, alice, bob):
    receiver = Client(clerk_server.url)
    await receiver.connect(auth={"token": _token(bob.clerk_id)})
    sender = Client(clerk_server.url)
    await sender.connect(auth={"token": _token(alice.clerk_id)})
    try:
        # No register_user needed; it only confirms, and refuses another id.
        ack = await sender.call(
            "send_message", {"fromClerkId": alice.clerk_id, "toClerkId": bob.clerk_id, "text": "hi"}
        )
        assert ack["success"] is True and ack["status"] == "delivered"
        assert (await receiver.next("receive_message"))["text"] == "hi"
        await sender.emit("register_user", {"clerkId": bob.clerk_id})
        assert (await sender.next("registered"))["success"] is False
        await sender.emit("register_user", {"clerkId": alice.clerk_id})
        assert await sender.next("registered") == {"success": True, "clerkId": alice.clerk_id, "socketId": sender.sid}
    finally:
        await sender.close()
        await receiver.close()


@pytest.mark.parametrize("auth", [None, {"token": "not-a-jwt"}, {"token": 5}])
async def test_a_connection_without_a_valid_token_is_refused(clerk_server, auth):
    client = Client(clerk_server.url)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(auth=auth)


async def test_a_suspension_that_lands_during_the_handshake_still_closes_the_socket(clerk_server, alice):
    """The suspension's own disconnect can reach the process before the socket counts as
    connected (python-socketio ignores it then); here it is lost altogether: the suspension is
    written straight to the database the moment the socket is connected. The socket still goes
    within a second."""
    from django.utils import timezone

    from tests.chat.realtime.conftest import db
    from users.models import User

    client = Client(clerk_server.url)
    await client.connect(auth={"token": _token(alice.clerk_id)})
    try:
        await db(lambda: User.objects.filter(pk=alice.clerk_id).update(suspended_at=timezone.now()))()
        await asyncio.wait_for(client.disconnected.wait(), 1.0)
    finally:
        await client.close()
