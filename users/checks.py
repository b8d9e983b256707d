"""System checks for identity: shown by `manage.py check` (and `--deploy`), migrate and runserver."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from users.identity import IdentityError, _PemKey

DEV_MODE_WARNING = (
    "AUTH_MODE is 'dev' with DEBUG off: identity is NOT verified. Any client can act as any user "
    "by sending an x-clerk-id header or a register_user clerkId."
)


def dev_mode_unsafe() -> bool:
    return settings.AUTH_MODE == "dev" and not settings.DEBUG


@register(Tags.security)
def identity_check(app_configs=None, **kwargs):
    problems = []
    if dev_mode_unsafe():
        problems.append(
            Warning(
                DEV_MODE_WARNING,
                hint="Set CLERK_JWT_KEY or CLERK_JWKS_URL (AUTH_MODE then defaults to clerk) for production.",
                id="users.W001",
            )
        )
    if settings.AUTH_MODE == "clerk":
        if not (settings.CLERK_JWT_KEY or settings.CLERK_JWKS_URL):
            problems.append(
                Error(
                    "AUTH_MODE is 'clerk' but neither CLERK_JWT_KEY nor CLERK_JWKS_URL is set: every request will be refused.",
                    id="users.E001",
                )
            )
        elif settings.CLERK_JWT_KEY:
            try:
                _PemKey.get(settings.CLERK_JWT_KEY)
            except IdentityError as exc:
                problems.append(
                    Error(str(exc), hint="Paste Clerk's 'PEM public key' (API keys page).", id="users.E002")
                )
    return problems


@register(Tags.security, deploy=True)
def identity_deploy_check(app_configs=None, **kwargs):
    if settings.AUTH_MODE == "clerk" and not settings.CLERK_AUTHORIZED_PARTIES:
        return [
            Warning(
                "CLERK_AUTHORIZED_PARTIES is not set: tokens minted for any origin of your Clerk instance are accepted.",
                hint="Set it to your frontend's origin(s), e.g. https://app.example.com.",
                id="users.W002",
            )
        ]
    return []
