"""users.presence: users.status follows the presence leases (moved here from the leases tests)."""

import uuid

import pytest

from delivery import leases
from users.models import User
from users.presence import user_presence_refresh, users_presence_reconcile

pytestmark = pytest.mark.django_db(transaction=True)


def _sid() -> str:
    return uuid.uuid4().hex[:20]


def test_status_follows_presence_and_reconcile_repairs_it(make_user, forget):
    user = make_user("present")
    stale = make_user("stale", status="online")
    sid = _sid()
    forget((user.clerk_id, sid))

    leases.socket_connected(user.clerk_id, sid)
    assert user_presence_refresh(clerk_id=user.clerk_id) == "online"
    user.refresh_from_db()
    assert user.status == "online" and user.last_seen_at is not None

    # A status left "online" by a server that died without Redis: nobody holds a socket.
    assert users_presence_reconcile() == [stale.clerk_id]
    assert User.objects.get(pk=stale.clerk_id).status == "offline"
    assert User.objects.get(pk=user.clerk_id).status == "online"

    leases.socket_disconnected(user.clerk_id, sid)
    assert user_presence_refresh(clerk_id=user.clerk_id) == "offline"
    assert user_presence_refresh(clerk_id="user_without_profile") is None
