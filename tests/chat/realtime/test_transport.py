"""Both transports at /socket.io/, and the Socket.IO origin check follows CORS_ORIGIN."""

import urllib.error
import urllib.request

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


async def test_another_origin_is_refused(asgi_server):
    # Over long-polling too: see the next test (python-engineio's client closes its session on
    # a refusal before reading the answer, so it can fail with "Connection closed" instead).
    client = Client(asgi_server.url, "websocket")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(headers={"Origin": "http://evil.example"})


async def test_polling_upgrades_to_websocket(asgi_server, clients, alice, bob):
    # The browser client's default: start on long-polling, then upgrade.
    receiver = await clients(asgi_server, bob.clerk_id)
    client = await clients(asgi_server, alice.clerk_id, "polling+websocket")
    assert (await client.send(bob.clerk_id, "upgraded"))["success"] is True
    assert (await receiver.next("receive_message"))["text"] == "upgraded"
    assert client.sio.transport() == "websocket"


def test_polling_refuses_another_origin_with_a_sized_answer(asgi_server):
    for origin, status in ((None, 200), ("http://evil.example", 400)):
        request = urllib.request.Request(asgi_server.url + "/socket.io/?EIO=4&transport=polling")
        if origin:
            request.add_header("Origin", origin)
        try:
            response = urllib.request.urlopen(request, timeout=10)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            body = response.read()
            assert response.status == status
            assert response.headers["Content-Length"] == str(len(body)) and "Transfer-Encoding" not in response.headers
            assert (b"not an accepted origin" in body.lower()) == (status == 400)
