"""DRF's authentication class, the REST side of identity: who the request is comes from
users.identity; profile fields a token carries are copied to the profile by a service."""

from rest_framework import authentication, exceptions

from users.identity import Identity, IdentityError, auth_mode, request_identity
from users.services import user_sync_from_claims


def rest_identity(meta) -> Identity | None:
    """Who a REST request is (`request.META`, or the headers the hot-read lane read, under the
    same keys), None when it presents nothing; a token's profile claims are saved on the way.
    Raises IdentityError. The DRF class below and biosync/hotreads.py both authenticate here."""
    identity = request_identity(meta)
    if identity is not None and identity.claims:
        user_sync_from_claims(clerk_id=identity.clerk_id, claims=identity.claims)
    return identity


def rest_identity_needs_io() -> bool:
    """Whether `rest_identity` may block (clerk mode: the signing keys, the claims it saves); in
    dev mode it reads one header, and an event loop may call it."""
    return auth_mode() == "clerk"


class ClerkIdentityAuthentication(authentication.BaseAuthentication):
    """Bearer session token in `clerk` mode, `x-clerk-id` in `dev` mode."""

    def authenticate(self, request):
        try:
            identity = rest_identity(request.META)
        except IdentityError as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from exc
        if identity is None:
            return None
        return identity, None

    def authenticate_header(self, request):
        return 'Bearer realm="api"' if auth_mode() == "clerk" else "x-clerk-id"
