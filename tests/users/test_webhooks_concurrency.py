"""`POST /users` racing Clerk's `user.created` webhook: whichever statement one lands between,
the webhook's profile ends on the user and nothing is left pending.

PostgreSQL only: SQLite takes its write lock at BEGIN (IMMEDIATE), so there the two cannot
interleave at all.
"""

import uuid

import pytest

from tests.interleave import Elsewhere, run_before
from users.models import PendingProfile, User
from users.services import user_create, user_upsert_from_clerk

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

PROFILE = {"username": "clerkname", "full_name": "From Clerk", "email": "clerk@example.com"}


def _webhook(clerk_id):
    return user_upsert_from_clerk(clerk_id=clerk_id, profile=PROFILE, clerk_updated_at=1700000000000)


def _create(clerk_id):
    return user_create(clerk_id=clerk_id, is_paralyzed=True)


@pytest.mark.parametrize(
    "paused, paused_before, meanwhile",
    [
        # The webhook found no user; the user is created before it keeps the profile pending.
        (_webhook, r'"users_pending_profiles"', _create),
        # POST /users looked for a pending profile; the webhook arrives before the user is inserted.
        (_create, r'INSERT\s+INTO\s+"users"\s', _webhook),
    ],
    ids=["create-inside-webhook", "webhook-inside-create"],
)
def test_a_user_created_while_the_webhook_applies_gets_its_profile(paused, paused_before, meanwhile):
    clerk_id = f"user_race_{uuid.uuid4().hex[:8]}"
    other = []

    def land_meanwhile():
        other.append(Elsewhere(lambda: meanwhile(clerk_id)))
        assert other[0].settled() in ("done", "blocked")

    with run_before(paused_before, land_meanwhile):
        paused(clerk_id)
    other[0].result()

    user = User.objects.get(clerk_id=clerk_id)
    assert (user.username, user.full_name, user.email, user.is_paralyzed) == (
        "clerkname", "From Clerk", "clerk@example.com", True,
    )  # fmt: skip
    assert not PendingProfile.objects.filter(clerk_id=clerk_id).exists()
