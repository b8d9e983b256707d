"""REDIS_URL as a Sentinel URL: a private primary, replica and sentinel on free loopback ports;
the primary is killed under a running server, which carries on once the replica is promoted:
sends are delivered across the failover, presence and rate limits work on the new primary."""

import asyncio
import sys
import time

import pytest

from tests.conftest import ROOT, TEST_REDIS_PREFIX

sys.path.insert(0, str(ROOT / "scripts"))
from faultlib.services import PrivateSentinels  # noqa: E402

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]


@pytest.fixture
def sentinels(tmp_path):
    started = PrivateSentinels(tmp_path).start()
    yield started
    started.stop()


@pytest.fixture
def carol(make_user):
    return make_user("carol")


async def _subscribed(redis_server, timeout: float = 30.0) -> None:
    """Until the server's pub/sub listener is subscribed on `redis_server` (it resubscribes on a
    back-off: what is published before is the at-most-once gap of issue 14's durable delivery)."""
    channel = f"{TEST_REDIS_PREFIX}:socketio"
    deadline = time.monotonic() + timeout
    while redis_server.cli("pubsub", "numsub", channel).split()[-1] == "0":
        assert time.monotonic() < deadline, "the server never subscribed on the new primary"
        await asyncio.sleep(0.1)


async def _all_delivered(sender, reader, to: str, tag: str) -> None:
    for n in range(5):
        text = f"{tag} {n}"
        ack = await sender.send(to, text)
        assert ack["success"] is True and ack["status"] == "delivered", ack
        await reader.next_matching("receive_message", lambda m, text=text: m["text"] == text)


async def test_the_server_carries_on_after_a_sentinel_failover(sentinels, own_servers, clients, alice, bob, carol):
    server = own_servers(REDIS_URL=sentinels.url(0), PRESENCE_HEARTBEAT_SECONDS="1", PRESENCE_LEASE_SECONDS="3")
    sender = await clients(server, alice.clerk_id)
    reader = await clients(server, bob.clerk_id)
    ack = await sender.send(bob.clerk_id, "before failover")
    assert ack["success"] is True and ack["status"] == "delivered"  # presence read from the primary
    assert (await reader.next("receive_message"))["text"] == "before failover"
    old_primary = sentinels.primary.port
    assert "db0:keys=" in sentinels.primary.cli("info", "keyspace")  # leases and logs live there

    await asyncio.to_thread(sentinels.kill_primary_and_wait_for_failover)
    assert sentinels.primary_port() == sentinels.replica.port != old_primary

    await _subscribed(sentinels.replica)
    await _all_delivered(sender, reader, bob.clerk_id, "to bob")
    # A user who connects after the failover is present on the new primary, and reached there.
    late = await clients(server, carol.clerk_id)
    await _all_delivered(sender, late, carol.clerk_id, "to carol")
    assert "db0:keys=" in sentinels.replica.cli("info", "keyspace")
