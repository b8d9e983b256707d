"""The ASGI app, served as the README's command does (uvicorn, or daphne with ASGI_SERVER=daphne),
answers HTTP and Socket.IO."""

import json
import urllib.request

import pytest

from tests.chat.realtime.client import Client


@pytest.fixture(scope="module")
def daphne_server(asgi_server_factory):
    return asgi_server_factory(ASGI_SERVER="daphne")


@pytest.fixture
def pair(make_user):
    return make_user("alice"), make_user("bob")


@pytest.mark.django_db(transaction=True)
async def test_daphne_serves_rest_and_a_websocket_chat_too(daphne_server, pair):
    """The design card's server stays a working choice: REST, and a message over a WebSocket."""
    with urllib.request.urlopen(daphne_server.url + "/", timeout=10) as response:
        assert json.loads(response.read())["status"] == "OK"
    alice, bob = pair
    sender, recipient = Client(daphne_server.url), Client(daphne_server.url)
    try:
        for client, user in ((sender, alice), (recipient, bob)):
            await client.connect()
            await client.register(user.clerk_id)
        await sender.emit("send_message", {"fromClerkId": alice.clerk_id, "toClerkId": bob.clerk_id, "text": "hi"})
        payload = await recipient.next("receive_message")
        assert (payload["content"], payload["fromClerkId"]) == ("hi", alice.clerk_id)
        assert (await sender.next("message_delivered"))["status"] == "delivered"
    finally:
        await sender.close()
        await recipient.close()


def test_root_answers_ok(asgi_server):
    with urllib.request.urlopen(asgi_server.url + "/", timeout=10) as response:
        assert response.status == 200
        body = json.loads(response.read())
    assert body["status"] == "OK"


def test_socketio_endpoint_answers_a_polling_handshake(asgi_server):
    with urllib.request.urlopen(asgi_server.url + "/socket.io/?EIO=4&transport=polling", timeout=10) as response:
        assert response.status == 200
        packet = response.read().decode()
    assert packet.startswith("0") and '"sid"' in packet


def test_unknown_path_is_a_json_404(asgi_server):
    try:
        urllib.request.urlopen(asgi_server.url + "/no/such/route", timeout=10)
    except urllib.error.HTTPError as error:
        assert error.code == 404
        assert json.loads(error.read()) == {"error": "Not found"}
    else:
        raise AssertionError("expected 404")


def test_an_unknown_asgi_server_is_refused_with_a_clear_message():
    import os
    import subprocess
    import sys

    env = {**os.environ, "ASGI_SERVER": "gunicorn"}
    done = subprocess.run([sys.executable, "-m", "biosync.serve"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "ASGI_SERVER must be uvicorn or daphne" in done.stderr
