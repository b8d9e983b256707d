"""Profile fields carried by the session token reach the local profile, without a write per request."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from users.models import PendingProfile, User

pytestmark = [pytest.mark.urls("tests.users.urls_whoami"), pytest.mark.django_db]

CLAIMS = {
    "username": "alice",
    "email": "alice@example.com",
    "first_name": "Alice",
    "last_name": "Liddell",
    "image_url": "https://img.clerk.com/alice.png",
}


def get(token):
    return APIClient().get("/whoami", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_claims_fill_the_profile_once(clerk_mode, clerk_key, make_user):
    user = make_user("alice", username="", full_name="", email="", image_url="")
    token = clerk_key.mint(user.clerk_id, **CLAIMS)
    assert get(token).status_code == 200
    user.refresh_from_db()
    assert (user.username, user.full_name, user.email, user.image_url) == (
        "alice",
        "Alice Liddell",
        "alice@example.com",
        "https://img.clerk.com/alice.png",
    )
    with CaptureQueriesContext(connection) as queries:
        assert get(clerk_key.mint(user.clerk_id, **CLAIMS)).status_code == 200
    assert len(queries) == 0  # same claims again: no query at all

    assert get(clerk_key.mint(user.clerk_id, **{**CLAIMS, "username": "alice2"})).status_code == 200
    user.refresh_from_db()
    assert user.username == "alice2" and user.full_name == "Alice Liddell"


def test_claims_without_profile_fields_cost_nothing(clerk_mode, clerk_key, make_user):
    user = make_user("bob")
    with CaptureQueriesContext(connection) as queries:
        assert get(clerk_key.mint(user.clerk_id)).status_code == 200
    assert len(queries) == 0


def test_claims_before_onboarding_wait_for_post_users(clerk_mode, clerk_key):
    assert get(clerk_key.mint("user_newcomer", **CLAIMS)).status_code == 200
    # No profile is created behind the user's back: GET /users/me stays null until POST /users.
    assert not User.objects.filter(clerk_id="user_newcomer").exists()
    assert PendingProfile.objects.get(clerk_id="user_newcomer").username == "alice"
