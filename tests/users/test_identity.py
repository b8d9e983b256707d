"""Clerk session tokens on REST: verified offline, every forged or stale token refused."""

import pytest
from rest_framework.test import APIClient

from tests.users.clerk_tokens import PARTY
from tests.users.conftest import BAD_TOKEN_NAMES, bad_tokens
from users.identity import IdentityError, verify_session_token

pytestmark = pytest.mark.urls("tests.users.urls_whoami")


def whoami(token=None, **headers):
    client = APIClient()
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.get("/whoami", **headers)


def test_valid_token_is_its_subject(clerk_mode, clerk_key):
    response = whoami(clerk_key.mint("user_alice"))
    assert response.status_code == 200, response.content
    assert response.json() == {"clerkId": "user_alice"}


# Why each is refused: a token refused for another reason than its defect proves nothing.
REASONS = {
    "expired": "ExpiredSignatureError",
    "not_yet_valid": "ImmatureSignatureError",
    "other_key": "InvalidSignatureError",
    "wrong_azp": "unauthorized party",
    "no_azp": "unauthorized party",
    "wrong_iss": "InvalidIssuerError",
    "no_sub": "MissingRequiredClaimError",
    "malformed": "DecodeError",
    "garbage": "DecodeError",
    "alg_none": "InvalidAlgorithmError",
    "hs256_public_key": "InvalidAlgorithmError",
}


@pytest.mark.parametrize("case", BAD_TOKEN_NAMES)
def test_bad_token_is_refused_with_401(clerk_mode, clerk_key, other_key, case):
    token = bad_tokens(clerk_key, other_key, "user_alice")[case]
    response = whoami(token)
    assert response.status_code == 401, (case, response.content)
    assert set(response.json()) == {"error"}
    with pytest.raises(IdentityError, match=REASONS[case]):
        verify_session_token(token)


def test_missing_token_is_refused_with_401(clerk_mode):
    response = whoami()
    assert response.status_code == 401
    assert "error" in response.json()
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_non_bearer_authorization_is_refused(clerk_mode, clerk_key):
    response = APIClient().get("/whoami", HTTP_AUTHORIZATION=f"Basic {clerk_key.mint('user_alice')}")
    assert response.status_code == 401


def test_exp_and_nbf_allow_a_small_leeway(clerk_mode, clerk_key):
    assert whoami(clerk_key.mint("user_alice", exp_in=-2, nbf_in=-60)).status_code == 200
    assert whoami(clerk_key.mint("user_alice", nbf_in=2)).status_code == 200
    assert whoami(clerk_key.mint("user_alice", exp_in=-30, nbf_in=-60)).status_code == 401


def test_x_clerk_id_header_never_overrides_the_token(clerk_mode, clerk_key):
    response = whoami(clerk_key.mint("user_alice"), HTTP_X_CLERK_ID="user_mallory")
    assert response.json() == {"clerkId": "user_alice"}
    # And alone, without a token, it is no identity at all.
    assert whoami(HTTP_X_CLERK_ID="user_mallory").status_code == 401


def test_azp_and_iss_are_optional_when_not_configured(clerk_mode, clerk_key):
    clerk_mode.CLERK_AUTHORIZED_PARTIES = []
    clerk_mode.CLERK_ISSUER = ""
    assert whoami(clerk_key.mint("user_alice", azp="https://other.example", iss="https://x")).status_code == 200
    clerk_mode.CLERK_AUTHORIZED_PARTIES = [PARTY, "https://other.example"]
    assert whoami(clerk_key.mint("user_alice", azp="https://other.example")).status_code == 200


def test_dev_mode_trusts_x_clerk_id(settings):
    settings.AUTH_MODE = "dev"
    assert whoami(HTTP_X_CLERK_ID="user_dev").json() == {"clerkId": "user_dev"}
    assert whoami(HTTP_X_CLERK_ID="bad id with spaces").status_code == 401
    assert whoami().status_code == 401
