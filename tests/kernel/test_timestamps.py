"""IsoZ: the database writes a timestamp exactly as kernel.timestamps.iso_z does."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from kernel.timestamps import IsoZ, iso_z
from users.models import User

pytestmark = pytest.mark.django_db

MOMENTS = [
    datetime(2025, 11, 6, 12, 30, 0, 0, tzinfo=UTC),
    datetime(2025, 11, 6, 12, 30, 0, 999999, tzinfo=UTC),  # truncated, never rounded up to the next second
    datetime(2025, 11, 6, 12, 30, 59, 500, tzinfo=UTC),
    datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=timezone(timedelta(hours=5, minutes=30))),  # stored as UTC
    None,
]


@pytest.mark.parametrize("moment", MOMENTS)
def test_iso_z_in_the_database_matches_python(make_user, moment):
    user = make_user("t")
    User.objects.filter(pk=user.pk).update(last_seen_at=moment)
    written = User.objects.filter(pk=user.pk).values_list(IsoZ("last_seen_at"), flat=True).get()
    assert written == iso_z(moment)
