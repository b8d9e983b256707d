"""Every socket sees the events about one message in causal order: the sender's confirmation
(`message_sent`, then `message_delivered` delivered/saved) before any read receipt, and the
sender's other devices `receive_message` before the receipt. The recipient here marks each
message read the instant it arrives, the race the unchanged frontend loses about 1 send in 60."""

import asyncio

import pytest

from tests.chat.realtime.client import Client

pytestmark = pytest.mark.django_db(transaction=True)

SENDS = 600
WINDOW = 8  # sends in flight, so batches hold several messages
UNLIMITED = {"RATE_LIMIT_MESSAGES": "100000"}


@pytest.fixture(scope="module")
def unlimited_server(asgi_server_factory):
    return asgi_server_factory(**UNLIMITED)


@pytest.fixture(scope="module")
def two_unlimited_servers(asgi_server_factory):
    return asgi_server_factory(**UNLIMITED), asgi_server_factory(**UNLIMITED)


def _reads_at_once(reader: Client) -> None:
    """The recipient answers every receive_message with mark_as_read before anything else."""

    async def on_receive(payload):
        reader.log.append(("receive_message", payload))
        reader.events["receive_message"].put_nowait(payload)
        await reader.sio.emit("mark_as_read", {"messageIds": [payload["messageId"]]})

    reader.sio.on("receive_message", on_receive)


def _positions(log, message_id: int) -> dict[str, int]:
    """Where each kind of event about `message_id` first appears in a socket's log."""
    seen: dict[str, int] = {}
    for index, (event, payload) in enumerate(log):
        if event == "messages_read" and message_id in payload["messageIds"]:
            kind = "read_receipt"
        elif isinstance(payload, dict) and payload.get("messageId") == message_id:
            kind = f"{event}:{payload['status']}" if event == "message_delivered" else event
            kind = (
                "message_delivered:confirmation"
                if kind in ("message_delivered:delivered", "message_delivered:saved")
                else kind
            )
        else:
            continue
        seen.setdefault(kind, index)
    return seen


async def _run(sender: Client, other_device: Client, reader: Client, recipient_id: str) -> None:
    _reads_at_once(reader)
    texts = iter(f"causal {i}" for i in range(SENDS))

    async def lane():
        for text in texts:
            ack = await sender.send(recipient_id, text)
            assert ack["success"] is True, ack

    await asyncio.gather(*(lane() for _ in range(WINDOW)))
    ids = sorted(payload["messageId"] for event, payload in sender.log if event == "message_sent")
    assert len(ids) == SENDS
    # Every receipt comes back (the channel works), then the order is checked message by message.
    for device in (sender, other_device):

        async def all_read(device=device):
            while not {i for _, p in device.log if _ == "messages_read" for i in p["messageIds"]} >= set(ids):
                await device.next("messages_read", timeout=30)

        await asyncio.wait_for(all_read(), 60)
    overtaken = []
    for message_id in ids:
        at = _positions(sender.log, message_id)
        if not at["message_sent"] < at["message_delivered:confirmation"] < at["read_receipt"]:
            overtaken.append(("sender", message_id, at))
        elif "message_delivered:read" in at and at["message_delivered:read"] < at["message_delivered:confirmation"]:
            overtaken.append(("sender", message_id, at))
        other = _positions(other_device.log, message_id)
        if not other["receive_message"] < other["read_receipt"]:
            overtaken.append(("other device", message_id, other))
    assert overtaken == [], f"{len(overtaken)} of {SENDS} out of causal order, e.g. {overtaken[:3]}"


async def test_a_read_receipt_never_overtakes_the_senders_confirmation(unlimited_server, clients, alice, bob):
    sender = await clients(unlimited_server, alice.clerk_id)
    other_device = await clients(unlimited_server, alice.clerk_id)
    reader = await clients(unlimited_server, bob.clerk_id)
    await _run(sender, other_device, reader, bob.clerk_id)


@pytest.mark.redis
async def test_causal_order_holds_across_processes(two_unlimited_servers, clients, alice, bob):
    one, two = two_unlimited_servers
    sender = await clients(one, alice.clerk_id)
    other_device = await clients(two, alice.clerk_id)
    reader = await clients(two, bob.clerk_id)
    await _run(sender, other_device, reader, bob.clerk_id)
