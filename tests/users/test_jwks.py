"""CLERK_JWKS_URL: keys fetched once and cached, refetched when a token names an unknown kid."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.users.clerk_tokens import SigningKey, forge_alg_none, forge_hs256_with_public_key
from users import identity
from users.identity import IdentityError, verify_session_token


class JwksServer:
    def __init__(self):
        self.keys: list[SigningKey] = []
        self.requests = 0
        self.status = 200
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests += 1
                if server.status != 200:
                    self.send_error(server.status)
                    return
                body = json.dumps({"keys": [key.jwk() for key in server.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks(settings, clerk_key):
    server = JwksServer()
    server.keys = [clerk_key]
    settings.AUTH_MODE = "clerk"
    settings.CLERK_JWT_KEY = ""
    settings.CLERK_JWKS_URL = server.url
    settings.CLERK_ISSUER = ""
    settings.CLERK_AUTHORIZED_PARTIES = []
    identity._jwks = None
    yield server
    identity._jwks = None
    server.close()


def test_jwks_is_fetched_once_for_many_tokens(jwks, clerk_key):
    for name in ("user_a", "user_b", "user_c", "user_a"):
        assert verify_session_token(clerk_key.mint(name)).clerk_id == name
    assert jwks.requests == 1


def test_unknown_kid_refetches_once_for_key_rotation(jwks, clerk_key, monkeypatch):
    monkeypatch.setattr(identity, "JWKS_MIN_REFETCH_SECONDS", 0)
    assert verify_session_token(clerk_key.mint("user_a")).clerk_id == "user_a"
    rotated = SigningKey.generate("ins_key_2")
    jwks.keys = [clerk_key, rotated]
    assert verify_session_token(rotated.mint("user_b")).clerk_id == "user_b"
    assert verify_session_token(clerk_key.mint("user_c")).clerk_id == "user_c"
    assert jwks.requests == 2


def test_unknown_kids_do_not_hammer_the_jwks_endpoint(jwks, clerk_key):
    verify_session_token(clerk_key.mint("user_a"))
    forged = SigningKey.generate("kid_forged")
    for n in range(5):
        forged.kid = f"kid_forged_{n}"
        with pytest.raises(IdentityError, match="unknown signing key"):
            verify_session_token(forged.mint("user_a"))
    assert jwks.requests == 1  # within JWKS_MIN_REFETCH_SECONDS of the first fetch


def test_jwks_refuses_forged_algorithms_and_other_keys_without_fetching(jwks, clerk_key, other_key):
    verify_session_token(clerk_key.mint("user_a"))
    for token in (
        forge_alg_none("user_a", clerk_key.kid),
        forge_hs256_with_public_key("user_a", clerk_key.kid, clerk_key.public_pem),
        other_key.mint("user_a"),  # same kid as clerk_key, signed by another key
    ):
        with pytest.raises(IdentityError):
            verify_session_token(token)
    assert jwks.requests == 1


def test_cached_keys_keep_working_while_the_jwks_endpoint_fails(jwks, clerk_key, monkeypatch):
    assert verify_session_token(clerk_key.mint("user_a")).clerk_id == "user_a"
    jwks.status = 503
    monkeypatch.setattr(identity, "JWKS_MIN_REFETCH_SECONDS", 0)
    with pytest.raises(IdentityError, match="unknown signing key"):
        verify_session_token(SigningKey.generate("kid_new").mint("user_a"))
    assert jwks.requests == 2  # the refetch was tried, and failed
    assert verify_session_token(clerk_key.mint("user_b")).clerk_id == "user_b"

    # A failed fetch also starts the wait: forged kids during an outage send no requests.
    monkeypatch.setattr(identity, "JWKS_MIN_REFETCH_SECONDS", 60)
    for n in range(3):
        with pytest.raises(IdentityError, match="unknown signing key"):
            verify_session_token(SigningKey.generate(f"kid_forged_{n}").mint("user_a"))
    assert jwks.requests == 2


def test_jwks_unreachable_refuses_tokens(settings, clerk_key):
    settings.AUTH_MODE = "clerk"
    settings.CLERK_JWT_KEY = ""
    settings.CLERK_JWKS_URL = "http://127.0.0.1:9/jwks.json"  # discard port: connection refused
    identity._jwks = None
    try:
        with pytest.raises(IdentityError, match="unknown signing key"):
            verify_session_token(clerk_key.mint("user_a"))
    finally:
        identity._jwks = None
