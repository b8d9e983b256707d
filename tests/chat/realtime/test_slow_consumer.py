"""SOCKET_MAX_BUFFER_BYTES: a client that stops reading is disconnected once what waits for it
passes the limit, and other users keep getting their messages (the memory figures are the
fault suite's, scripts/faults slow_consumer)."""

import asyncio
import json
import sys
import time
import urllib.error
import urllib.request

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


async def _overflows(server, timeout: float = 10.0) -> list[dict]:
    """The server's socket.overflow lines, once there is one (the emit that crossed the limit may
    still be on its way when the sender's ack arrives)."""
    deadline = time.monotonic() + timeout
    while not (found := [json.loads(line) for line in server.log().splitlines() if '"socket.overflow"' in line]):
        assert time.monotonic() < deadline, "no socket.overflow line"
        await asyncio.sleep(0.05)
    return found


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
    overflow = await _overflows(server)
    assert len(overflow) == 1 and overflow[0]["limit_bytes"] == LIMIT
    assert LIMIT < overflow[0]["pending_bytes"] <= LIMIT + 2 * len(TEXT) + 1000
    # The connection was ended by the server: reading again finds its end, not all of them.
    received = await asyncio.to_thread(stalled.read_until_closed)
    assert received < SENDS
    stalled.close()


def _polling_session(url: str, clerk_id: str) -> str:
    """A long-polling Engine.IO session, connected and registered, that will not poll again."""
    base = f"{url}/socket.io/?EIO=4&transport=polling"
    with urllib.request.urlopen(base, timeout=10) as response:
        sid = json.loads(response.read().decode()[1:])["sid"]

    def post(body: str) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{base}&sid={sid}", data=body.encode()), timeout=10).read()

    def get() -> str:
        with urllib.request.urlopen(f"{base}&sid={sid}", timeout=10) as response:
            return response.read().decode()

    post("40")
    assert get().startswith("40")
    post("42" + json.dumps(["register_user", {"clerkId": clerk_id}]))
    while '"registered"' not in (answer := get()):
        pass
    assert '"success":true' in answer.replace(" ", ""), answer
    return f"{base}&sid={sid}"


async def test_a_long_polling_client_that_stops_polling_is_shed_too(own_servers, clients, frozen_user, alice):
    server = own_servers(
        SOCKET_MAX_BUFFER_BYTES=str(LIMIT), RATE_LIMIT_MESSAGES="100000", MESSAGE_MAX_LENGTH=str(len(TEXT))
    )
    sender = await clients(server, alice.clerk_id)
    session = await asyncio.to_thread(_polling_session, server.url, frozen_user.clerk_id)
    # Nothing reaches a socket that does not poll: all of it waits in the process, up to the limit.
    for n in range(LIMIT // (2 * len(TEXT)) + 2):
        assert (await sender.send(frozen_user.clerk_id, f"{n:04d}{TEXT[4:]}"))["success"] is True
    overflow = await _overflows(server)
    assert len(overflow) == 1 and overflow[0]["limit_bytes"] == LIMIT
    # The session is gone: polling it again is refused.
    with pytest.raises(urllib.error.HTTPError) as refused:
        await asyncio.to_thread(urllib.request.urlopen, session, None, 10)
    assert refused.value.code == 400
