"""Presence leases, called directly (in-process registry, or the Redis leases when REDIS_URL is
set). What they mean for users.status: tests/users/test_presence.py."""

import uuid

import pytest
from django.conf import settings

from delivery import leases

pytestmark = pytest.mark.django_db(transaction=True)


def _sid() -> str:
    return uuid.uuid4().hex[:20]


def test_first_and_last_socket_of_a_user(forget):
    clerk_id, one, two = f"user_{uuid.uuid4().hex[:8]}", _sid(), _sid()
    forget((clerk_id, one))
    forget((clerk_id, two))
    assert leases.socket_connected(clerk_id, one) is True
    assert leases.socket_connected(clerk_id, two) is False
    assert leases.is_online(clerk_id)
    assert sorted(leases.sids_of(clerk_id)) == sorted([one, two])
    assert leases.online_among([clerk_id, "user_nobody"]) == {clerk_id}
    assert leases.socket_disconnected(clerk_id, one) is False
    assert leases.socket_disconnected(clerk_id, two) is True
    assert not leases.is_online(clerk_id) and leases.sids_of(clerk_id) == []


@pytest.mark.redis
def test_an_expired_lease_is_offline_swept_and_reported_to_its_process(settings, forget):
    clerk_id, sid = f"user_{uuid.uuid4().hex[:8]}", _sid()
    forget((clerk_id, sid))
    settings.PRESENCE_LEASE_SECONDS = -1  # already expired: as if its process died a lease ago
    leases.socket_connected(clerk_id, sid)
    assert not leases.is_online(clerk_id)
    assert clerk_id in leases.sweep()
    # Had its process only stalled, its next renewal finds the lease gone and records it again.
    assert (clerk_id, sid) in leases.renew()
    settings.PRESENCE_LEASE_SECONDS = 30
    assert leases.socket_connected(clerk_id, sid) is True
    assert leases.is_online(clerk_id)
    assert all(member[1] != sid for member in leases.renew())


def test_keys_carry_the_configured_prefix():
    assert leases._leases_key().startswith("{" + settings.REDIS_KEY_PREFIX + ":")
