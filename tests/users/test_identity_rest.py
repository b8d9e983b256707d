"""The real REST routes in clerk mode: the token's subject is the caller, whatever else is sent."""

import pytest
from rest_framework.test import APIClient

from tests.users.conftest import BAD_TOKEN_NAMES, bad_tokens
from users.models import User

pytestmark = pytest.mark.django_db

CLAIMS = {
    "username": "ada",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "image_url": "https://img.clerk.com/ada.png",
}


def as_token(token, **extra) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}", **extra)
    return client


@pytest.mark.parametrize("case", BAD_TOKEN_NAMES)
def test_every_bad_token_is_401_on_users_me(clerk_mode, clerk_key, other_key, make_user, case):
    alice = make_user("alice")
    response = as_token(bad_tokens(clerk_key, other_key, alice.clerk_id)[case]).get("/users/me")
    assert response.status_code == 401, case
    assert set(response.json()) == {"error"}


def test_no_token_is_401_even_with_x_clerk_id(clerk_mode, make_user):
    alice = make_user("alice")
    response = APIClient().get("/users/me", HTTP_X_CLERK_ID=alice.clerk_id)
    assert response.status_code == 401


def test_valid_token_reads_its_own_profile_whatever_x_clerk_id_says(clerk_mode, clerk_key, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    response = as_token(clerk_key.mint(alice.clerk_id), HTTP_X_CLERK_ID=bob.clerk_id).get("/users/me")
    assert response.status_code == 200
    assert response.json()["clerkId"] == alice.clerk_id


def test_search_never_returns_the_token_subject(clerk_mode, clerk_key, make_user):
    alice = make_user("alice", username="twin_a")
    bob = make_user("bob", username="twin_b")
    response = as_token(clerk_key.mint(alice.clerk_id), HTTP_X_CLERK_ID=bob.clerk_id).get("/users/search?q=twin")
    assert [user["clerkId"] for user in response.json()["users"]] == [bob.clerk_id]


def test_onboarding_with_a_token_creates_the_subjects_profile_from_its_claims(clerk_mode, clerk_key, make_user):
    bob = make_user("bob")
    client = as_token(clerk_key.mint("user_ada_1", **CLAIMS), HTTP_X_CLERK_ID=bob.clerk_id)
    assert client.get("/users/me").content == b"null"
    response = client.post("/users", {"isParalyzed": True}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (
        body["clerkId"],
        body["isParalyzed"],
        body["username"],
        body["fullName"],
        body["email"],
        body["profileImage"],
    ) == ("user_ada_1", True, "ada", "Ada Lovelace", "ada@example.com", "https://img.clerk.com/ada.png")
    assert User.objects.get(clerk_id=bob.clerk_id).is_paralyzed is False
