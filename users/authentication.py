"""The one place identity comes from, for REST (a DRF authentication class) and Socket.IO.

- `clerk` mode: a Clerk session token (RS256 JWT), verified offline. Its `sub` is the user.
- `dev` mode: the seed's trusted `x-clerk-id` header (REST) or `register_user {clerkId}`
  (sockets), so the unchanged seed frontend runs in development.
Nothing else in the project reads headers, tokens or payload ids to decide who someone is.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import jwt
from django.conf import settings
from rest_framework import authentication, exceptions

logger = logging.getLogger(__name__)

CLERK_ID_PATTERN = re.compile(r"^[A-Za-z0-9_\-.:|@]{1,255}$")


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


def valid_clerk_id(value) -> bool:
    return isinstance(value, str) and bool(CLERK_ID_PATTERN.match(value))


# --- Clerk session tokens -------------------------------------------------------------------
_jwks_client: jwt.PyJWKClient | None = None


def _signing_key(token: str):
    if settings.CLERK_JWT_KEY:
        return settings.CLERK_JWT_KEY
    if settings.CLERK_JWKS_URL:
        global _jwks_client
        if _jwks_client is None:
            # Fetched once and cached; an unknown `kid` makes PyJWKClient refetch (key rotation).
            _jwks_client = jwt.PyJWKClient(settings.CLERK_JWKS_URL, cache_keys=True, lifespan=3600)
        return _jwks_client.get_signing_key_from_jwt(token).key
    raise IdentityError("Server has no Clerk key configured")


def verify_session_token(token: str) -> Identity:
    if not isinstance(token, str) or not token.strip():
        raise IdentityError("Missing session token")
    token = token.strip()
    try:
        # Only RS256: refuses `alg: none` and HMAC tokens signed with the public key as secret.
        claims = jwt.decode(
            token,
            key=_signing_key(token),
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
class ClerkIdentityAuthentication(authentication.BaseAuthentication):
    """DRF authentication: Bearer session token in `clerk` mode, `x-clerk-id` in `dev` mode."""

    def authenticate(self, request):
        if auth_mode() == "clerk":
            token = _bearer(request.META.get("HTTP_AUTHORIZATION"))
            if token is None:
                return None
            try:
                identity = verify_session_token(token)
            except IdentityError as exc:
                raise exceptions.AuthenticationFailed(str(exc)) from exc
            return identity, token
        clerk_id = request.META.get("HTTP_X_CLERK_ID")
        if clerk_id is None:
            return None
        if not valid_clerk_id(clerk_id):
            raise exceptions.AuthenticationFailed("Invalid x-clerk-id header")
        return Identity(clerk_id=clerk_id), None

    def authenticate_header(self, request):
        return 'Bearer realm="api"' if auth_mode() == "clerk" else "x-clerk-id"


# --- Socket.IO ------------------------------------------------------------------------------
def socket_identity_at_connect(environ: dict, auth) -> Identity | None:
    """Who a connecting socket is, or None when (dev mode) it will say so in `register_user`.

    Raises IdentityError when clerk mode cannot prove an identity: the connection is refused.
    """
    if auth_mode() != "clerk":
        return None
    token = None
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        token = auth["token"]
    token = token or _bearer(environ.get("HTTP_AUTHORIZATION"))
    if not token:
        from urllib.parse import parse_qs

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
