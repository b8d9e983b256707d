"""Both transports at /socket.io/, and the Socket.IO origin check follows CORS_ORIGIN."""

import pytest
import socketio

from tests.chat.realtime.client import Client

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_frontend_origin_connects(asgi_server, transport):
    client = Client(asgi_server.url, transport)
    await client.connect(headers={"Origin": "http://localhost:3001"})
    try:
        assert client.sio.transport() == transport
    finally:
        await client.close()


async def test_another_origin_is_refused(asgi_server, transport):
    client = Client(asgi_server.url, transport)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(headers={"Origin": "http://evil.example"})


async def test_polling_upgrades_to_websocket(asgi_server, clients, alice, bob):
    # The browser client's default: start on long-polling, then upgrade.
    receiver = await clients(asgi_server, bob.clerk_id)
    client = await clients(asgi_server, alice.clerk_id, "polling+websocket")
    assert (await client.send(bob.clerk_id, "upgraded"))["success"] is True
    assert (await receiver.next("receive_message"))["text"] == "upgraded"
    assert client.sio.transport() == "websocket"
