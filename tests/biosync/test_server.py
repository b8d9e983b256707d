"""The ASGI app, served by daphne as the README's command does, answers HTTP and Socket.IO."""

import json
import urllib.request


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
