"""One gaze selection in the web app emits send_message twice, back to back, without a
clientMessageId: over a real socket the second is answered as a retry of the first, with the
same id and the same events, and the recipient gets the message once."""

import asyncio

import pytest

from chat.models import Message
from tests.chat.realtime.conftest import db

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def unguarded_server(asgi_server_factory):
    return asgi_server_factory(DUPLICATE_SEND_WINDOW_MS="0")


async def _double_emit(sender, recipient_id: str, text: str) -> tuple[dict, dict]:
    return await asyncio.gather(sender.send(recipient_id, text), sender.send(recipient_id, text))


async def test_a_double_emitted_send_is_stored_and_delivered_once(asgi_server, clients, alice, bob):
    sender = await clients(asgi_server, alice.clerk_id)
    receiver = await clients(asgi_server, bob.clerk_id)
    first, second = await _double_emit(sender, bob.clerk_id, "I need water")
    assert first["success"] and second["success"]
    assert second["messageId"] == first["messageId"] and second["status"] == first["status"]
    # The same events, twice, for the same message.
    sent = [await sender.next("message_sent") for _ in range(2)]
    delivered = [await sender.next("message_delivered") for _ in range(2)]
    assert [s["messageId"] for s in sent] == [first["messageId"]] * 2
    assert [d["messageId"] for d in delivered] == [first["messageId"]] * 2
    # The recipient got it once: a later message arrives next, with nothing in between.
    assert (await receiver.next("receive_message"))["messageId"] == first["messageId"]
    marker = await sender.send(bob.clerk_id, "thank you")
    assert (await receiver.next("receive_message"))["messageId"] == marker["messageId"]
    assert receiver.pending("receive_message") == []
    stored = await db(
        lambda: list(Message.objects.filter(sender=alice).order_by("id").values_list("content", flat=True))
    )()
    assert stored == ["I need water", "thank you"]


async def test_with_the_guard_off_a_double_emit_is_two_messages(unguarded_server, clients, alice, bob):
    sender = await clients(unguarded_server, alice.clerk_id)
    receiver = await clients(unguarded_server, bob.clerk_id)
    first, second = await _double_emit(sender, bob.clerk_id, "again")
    assert first["messageId"] != second["messageId"]
    received = [(await receiver.next("receive_message"))["messageId"] for _ in range(2)]
    assert received == [first["messageId"], second["messageId"]]
