"""The presence module and the presence services, called directly (in-process registry, or
the Redis leases when REDIS_URL is set)."""

import uuid

import pytest
from django.conf import settings

from delivery import presence
from users.models import User

pytestmark = pytest.mark.django_db(transaction=True)


def _sid() -> str:
    return uuid.uuid4().hex[:20]


@pytest.fixture
def forget():
    """Sockets a test records are removed afterwards (this process's registry is shared)."""
    recorded: list[tuple[str, str]] = []
    yield recorded.append
    for clerk_id, sid in recorded:
        presence.socket_disconnected(clerk_id, sid)


def test_first_and_last_socket_of_a_user(forget):
    clerk_id, one, two = f"user_{uuid.uuid4().hex[:8]}", _sid(), _sid()
    forget((clerk_id, one))
    forget((clerk_id, two))
    assert presence.socket_connected(clerk_id, one) is True
    assert presence.socket_connected(clerk_id, two) is False
    assert presence.is_online(clerk_id)
    assert sorted(presence.sids_of(clerk_id)) == sorted([one, two])
    assert presence.online_among([clerk_id, "user_nobody"]) == {clerk_id}
    assert presence.socket_disconnected(clerk_id, one) is False
    assert presence.socket_disconnected(clerk_id, two) is True
    assert not presence.is_online(clerk_id) and presence.sids_of(clerk_id) == []


@pytest.mark.redis
def test_an_expired_lease_is_offline_swept_and_reported_to_its_process(settings, forget):
    clerk_id, sid = f"user_{uuid.uuid4().hex[:8]}", _sid()
    forget((clerk_id, sid))
    settings.PRESENCE_LEASE_SECONDS = -1  # already expired: as if its process died a lease ago
    presence.socket_connected(clerk_id, sid)
    assert not presence.is_online(clerk_id)
    assert clerk_id in presence.sweep()
    # Had its process only stalled, its next renewal finds the lease gone and records it again.
    assert (clerk_id, sid) in presence.renew()
    settings.PRESENCE_LEASE_SECONDS = 30
    assert presence.socket_connected(clerk_id, sid) is True
    assert presence.is_online(clerk_id)
    assert all(member[1] != sid for member in presence.renew())


def test_status_follows_presence_and_reconcile_repairs_it(make_user, forget):
    from users.services import user_presence_refresh, users_presence_reconcile

    user = make_user("present")
    stale = make_user("stale", status="online")
    sid = _sid()
    forget((user.clerk_id, sid))

    presence.socket_connected(user.clerk_id, sid)
    assert user_presence_refresh(clerk_id=user.clerk_id) == "online"
    user.refresh_from_db()
    assert user.status == "online" and user.last_seen_at is not None

    # A status left "online" by a server that died without Redis: nobody holds a socket.
    assert users_presence_reconcile() == [stale.clerk_id]
    assert User.objects.get(pk=stale.clerk_id).status == "offline"
    assert User.objects.get(pk=user.clerk_id).status == "online"

    presence.socket_disconnected(user.clerk_id, sid)
    assert user_presence_refresh(clerk_id=user.clerk_id) == "offline"
    assert user_presence_refresh(clerk_id="user_without_profile") is None


def test_keys_carry_the_configured_prefix():
    assert presence._leases_key().startswith("{" + settings.REDIS_KEY_PREFIX + ":")
