"""DRF's authentication class, the REST side of identity: who the request is comes from
users.identity; profile fields a token carries are copied to the profile by a service."""

from rest_framework import authentication, exceptions

from users.identity import IdentityError, auth_mode, request_identity
from users.services import user_sync_from_claims


class ClerkIdentityAuthentication(authentication.BaseAuthentication):
    """Bearer session token in `clerk` mode, `x-clerk-id` in `dev` mode."""

    def authenticate(self, request):
        try:
            identity = request_identity(request.META)
        except IdentityError as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from exc
        if identity is None:
            return None
        if identity.claims:
            user_sync_from_claims(clerk_id=identity.clerk_id, claims=identity.claims)
        return identity, None

    def authenticate_header(self, request):
        return 'Bearer realm="api"' if auth_mode() == "clerk" else "x-clerk-id"
