"""SOCKET_MAX_BUFFER_BYTES: a client that stops reading is disconnected once what waits for it
passes the limit, and other users keep getting their messages (the memory figures are the
fault suite's, scripts/faults slow_consumer)."""

import asyncio
import json
import sys

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from faultlib.stalled import StalledClient  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 262_144
TEXT = "x" * 60_000
# To the stalled user: more than the limit plus what the kernel buffers for one TCP connection
# (its send buffer grows up to tcp_wmem's 4 MiB on Linux).
SENDS = 120


@pytest.fixture
def frozen_user(make_user):
    return make_user("frozen")


async def test_a_client_that_stops_reading_is_shed_and_the_others_keep_up(
    own_servers, clients, frozen_user, alice, bob
):
    server = own_servers(
        SOCKET_MAX_BUFFER_BYTES=str(LIMIT), RATE_LIMIT_MESSAGES="100000", MESSAGE_MAX_LENGTH=str(len(TEXT))
    )
    sender = await clients(server, alice.clerk_id)
    reader = await clients(server, bob.clerk_id)
    stalled = await asyncio.to_thread(StalledClient, server.url, frozen_user.clerk_id)
    # The channel works: the stalled client is registered and a normal reader gets messages.
    assert (await sender.send(bob.clerk_id, "warm-up"))["success"] is True
    await reader.next("receive_message")

    for n in range(SENDS):
        to_frozen = await sender.send(frozen_user.clerk_id, f"{n:04d}{TEXT[4:]}")  # not a repeat
        to_reader = await sender.send(bob.clerk_id, f"{n}")
        assert to_frozen["success"] is True and to_reader["success"] is True
        # Every message reaches the reader, in order, while the other one is stuck.
        assert (await reader.next("receive_message"))["text"] == f"{n}"

    # Shed once, when what waited for it first passed the limit (memory: scripts/faults slow_consumer).
    overflow = [json.loads(line) for line in server.log().splitlines() if '"socket.overflow"' in line]
    assert len(overflow) == 1 and overflow[0]["limit_bytes"] == LIMIT
    assert LIMIT < overflow[0]["pending_bytes"] <= LIMIT + 2 * len(TEXT) + 1000
    # The connection was ended by the server: reading again finds its end, not all of them.
    received = await asyncio.to_thread(stalled.read_until_closed)
    assert received < SENDS
    stalled.close()
