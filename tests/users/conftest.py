import pytest

from tests.users.clerk_tokens import ISSUER, PARTY, SigningKey, forge_alg_none, forge_hs256_with_public_key


@pytest.fixture(scope="session")
def clerk_key() -> SigningKey:
    return SigningKey.generate("ins_key_1")


@pytest.fixture(scope="session")
def other_key() -> SigningKey:
    return SigningKey.generate("ins_key_1")  # same kid, different key: a forger's


@pytest.fixture
def clerk_mode(settings, clerk_key):
    """This process in clerk mode with a PEM key, an issuer and an azp allow-list."""
    from users import services

    settings.AUTH_MODE = "clerk"
    settings.CLERK_JWT_KEY = clerk_key.public_pem
    settings.CLERK_JWKS_URL = ""
    settings.CLERK_ISSUER = ISSUER
    settings.CLERK_AUTHORIZED_PARTIES = [PARTY]
    settings.CLERK_LEEWAY_SECONDS = 5
    services._synced_profiles.clear()
    return settings


def bad_tokens(key: SigningKey, other: SigningKey, sub: str) -> dict[str, str]:
    """Every token a clerk-mode server must refuse, by name."""
    return {
        "expired": key.mint(sub, exp_in=-60, nbf_in=-120),
        "not_yet_valid": key.mint(sub, nbf_in=60, exp_in=120),
        "other_key": other.mint(sub),
        "wrong_azp": key.mint(sub, azp="https://evil.example"),
        "no_azp": key.mint(sub, azp=None),
        "wrong_iss": key.mint(sub, iss="https://clerk.evil.example"),
        "no_sub": key.mint(None),
        "malformed": "not-a.jwt",
        "garbage": "abc",
        "alg_none": forge_alg_none(sub, key.kid),
        "hs256_public_key": forge_hs256_with_public_key(sub, key.kid, key.public_pem),
    }


BAD_TOKEN_NAMES = [
    "expired",
    "not_yet_valid",
    "other_key",
    "wrong_azp",
    "no_azp",
    "wrong_iss",
    "no_sub",
    "malformed",
    "garbage",
    "alg_none",
    "hs256_public_key",
]
