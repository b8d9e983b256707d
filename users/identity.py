"""The one place identity is decided, for REST (through users.authentication, DRF's class) and
Socket.IO. Read-only: it verifies and answers who someone is, and writes nothing.

- `clerk` mode: a Clerk session token (RS256 JWT), verified offline. Its `sub` is the user.
- `dev` mode: the seed's trusted `x-clerk-id` header (REST) or `register_user {clerkId}`
  (sockets), so the unchanged seed frontend runs in development.
Nothing else in the project reads headers, tokens or payload ids to decide who someone is.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from users.models import valid_clerk_id

logger = logging.getLogger(__name__)


class IdentityError(Exception):
    """The credentials presented do not prove who the caller is."""


@dataclass(frozen=True)
class Identity:
    clerk_id: str
    claims: dict = field(default_factory=dict, compare=False, repr=False)
    is_authenticated: bool = True

    @property
    def pk(self) -> str:
        return self.clerk_id


def auth_mode() -> str:
    return settings.AUTH_MODE


# --- Clerk session tokens -------------------------------------------------------------------
# An unknown `kid` refetches the JWKS, but not more often than this: a stream of forged tokens
# with random kids must not turn into a stream of requests to Clerk.
JWKS_MIN_REFETCH_SECONDS = 5.0
JWKS_FETCH_TIMEOUT_SECONDS = 5.0


class _PemKey:
    """CLERK_JWT_KEY parsed once (a key object, never the PEM text, reaches jwt.decode)."""

    _pem: str | None = None
    _key = None

    @staticmethod
    def normalized(pem: str) -> str:
        """A PEM however an env file mangled it: one line, spaces for newlines, or no armour."""
        body = re.sub(r"-----(BEGIN|END) (RSA )?PUBLIC KEY-----|\\n|\s", "", pem)
        rsa_pkcs1 = "BEGIN RSA PUBLIC KEY" in pem
        label = "RSA PUBLIC KEY" if rsa_pkcs1 else "PUBLIC KEY"
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""])

    @classmethod
    def get(cls, pem: str):
        if pem != cls._pem:
            try:
                key = serialization.load_pem_public_key(cls.normalized(pem).encode())
            except ValueError as exc:
                raise IdentityError("Server's CLERK_JWT_KEY is not a PEM public key") from exc
            if not isinstance(key, rsa.RSAPublicKey):
                raise IdentityError("Server's CLERK_JWT_KEY is not an RSA public key")
            cls._pem, cls._key = pem, key
        return cls._key


class _JwksRefetchTooSoon(jwt.PyJWKClientError):
    """The JWKS was fetched (or tried) less than JWKS_MIN_REFETCH_SECONDS ago."""


class _ClerkJwksClient(jwt.PyJWKClient):
    """Clerk's JWKS, fetched on first use and kept: PyJWKClient refetches it when a token names an
    unknown kid. Every attempt, failed ones included, starts the wait before the next one, so an
    outage does not turn each forged token into a request either; a failed fetch keeps the cache.
    """

    def __init__(self, url: str):
        # Never expires: new keys come through the unknown-kid refetch, and cached keys keep
        # working while Clerk is unreachable. PyJWKClient's own cooldown counts only successful
        # fetches; fetch_data applies ours.
        super().__init__(
            url,
            lifespan=math.inf,
            cooldown_duration=0,
            timeout=JWKS_FETCH_TIMEOUT_SECONDS,
            headers={"Accept": "application/json"},
        )
        self.url = url
        self._last_attempt: float | None = None

    def fetch_data(self):
        now = time.monotonic()
        if self._last_attempt is not None and now - self._last_attempt < JWKS_MIN_REFETCH_SECONDS:
            raise _JwksRefetchTooSoon("JWKS fetched too recently")
        self._last_attempt = now
        try:
            return super().fetch_data()
        except (jwt.PyJWTError, ValueError) as exc:
            logger.error("fetching the Clerk JWKS from %s failed: %s", self.uri, exc)
            raise

    def key(self, kid: str):
        try:
            key = self.get_signing_key(kid).key
        except (jwt.PyJWTError, ValueError) as exc:
            raise IdentityError("Invalid session token: unknown signing key") from exc
        if not isinstance(key, rsa.RSAPublicKey):
            raise IdentityError("Invalid session token: unknown signing key")
        return key


_jwks: _ClerkJwksClient | None = None


def jwks_cache() -> _ClerkJwksClient:
    global _jwks
    if _jwks is None or _jwks.url != settings.CLERK_JWKS_URL:
        try:
            _jwks = _ClerkJwksClient(settings.CLERK_JWKS_URL)
        except jwt.PyJWKClientError as exc:  # not an http(s) URL
            raise IdentityError(f"Server's CLERK_JWKS_URL is not usable: {exc}") from exc
    return _jwks


def _signing_key(token: str):
    if settings.CLERK_JWT_KEY:
        return _PemKey.get(settings.CLERK_JWT_KEY)
    if settings.CLERK_JWKS_URL:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise IdentityError(f"Invalid session token: {exc.__class__.__name__}") from exc
        # Checked before any fetch, so `alg: none` / HS256 tokens cannot trigger one.
        if header.get("alg") != "RS256":
            raise IdentityError("Invalid session token: InvalidAlgorithmError")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise IdentityError("Invalid session token: no key id")
        return jwks_cache().key(kid)
    raise IdentityError("Server has no Clerk key configured")


def verify_session_token(token: str) -> Identity:
    if not isinstance(token, str) or not token.strip():
        raise IdentityError("Missing session token")
    token = token.strip()
    key = _signing_key(token)
    try:
        # Only RS256, with an RSA key object: refuses `alg: none` and HMAC tokens signed with
        # the public key as secret.
        claims = jwt.decode(
            token,
            key=key,
            algorithms=["RS256"],
            leeway=settings.CLERK_LEEWAY_SECONDS,
            issuer=settings.CLERK_ISSUER or None,
            options={"require": ["sub", "exp", "iat"], "verify_aud": False},
        )
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise IdentityError(f"Invalid session token: {exc.__class__.__name__}") from exc
    parties = settings.CLERK_AUTHORIZED_PARTIES
    if parties and claims.get("azp") not in parties:
        raise IdentityError("Invalid session token: unauthorized party")
    if not valid_clerk_id(claims.get("sub")):
        raise IdentityError("Invalid session token: bad subject")
    return Identity(clerk_id=claims["sub"], claims=claims)


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, credentials = value.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


# --- REST -----------------------------------------------------------------------------------
def request_identity(meta) -> Identity | None:
    """Who an HTTP request is, from its headers (`request.META`); None when it presents nothing.

    Raises IdentityError for credentials that prove nothing (a bad token, a malformed id).
    """
    if auth_mode() == "clerk":
        token = _bearer(meta.get("HTTP_AUTHORIZATION"))
        return verify_session_token(token) if token is not None else None
    clerk_id = meta.get("HTTP_X_CLERK_ID")
    if clerk_id is None:
        return None
    if not valid_clerk_id(clerk_id):
        raise IdentityError("Invalid x-clerk-id header")
    return Identity(clerk_id=clerk_id)


# --- Socket.IO ------------------------------------------------------------------------------
def socket_identity_checked_at_connect() -> bool:
    """Whether `socket_identity_at_connect` verifies anything (else it answers None at once, and
    callers on an event loop need no worker thread for it)."""
    return auth_mode() == "clerk"


def socket_identity_at_connect(environ: dict, auth) -> Identity | None:
    """Who a connecting socket is, or None when (dev mode) it will say so in `register_user`.

    Raises IdentityError when clerk mode cannot prove an identity: the connection is refused.
    """
    if not socket_identity_checked_at_connect():
        return None
    token = None
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        token = auth["token"].strip()
        token = _bearer(token) or token  # `auth: {token: "Bearer …"}` is a common slip
    token = token or _bearer(environ.get("HTTP_AUTHORIZATION"))
    if not token:
        token = (parse_qs(environ.get("QUERY_STRING", "")).get("token") or [None])[0]
    if not token:
        raise IdentityError("Missing session token")
    return verify_session_token(token)


def socket_identity_at_register(connected: Identity | None, claimed_clerk_id) -> Identity:
    """The identity `register_user {clerkId}` binds to the socket.

    In clerk mode the token decided it at connect and a different id is refused; in dev mode
    the claimed id is trusted, as the seed does.
    """
    if connected is not None:
        if claimed_clerk_id not in (None, connected.clerk_id):
            raise IdentityError("clerkId does not match the authenticated user")
        return connected
    if auth_mode() == "clerk":
        raise IdentityError("Not authenticated")
    if not valid_clerk_id(claimed_clerk_id):
        raise IdentityError("clerkId must be a non-empty string id")
    return Identity(clerk_id=claimed_clerk_id)
