"""The socket send queue: every send of a batch gets its own outcome, even when the batch fails."""

import asyncio

import pytest

from chat.realtime import sendqueue
from chat.services.messages import SendRequest
from kernel.errors import ServiceError

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


async def test_each_send_of_a_failed_batch_gets_its_own_error():
    # PostgreSQL refuses NUL in text, so reading the parties fails and with it the whole batch.
    requests = [SendRequest(sender_id="user_\x00broken", recipient_id="user_b", text=f"text {i}") for i in range(3)]

    outcomes = await asyncio.gather(*(sendqueue.send(r) for r in requests), return_exceptions=True)

    assert all(isinstance(o, ServiceError) and o.code == "internal" for o in outcomes), outcomes
    # Raised in three tasks: one shared instance would carry (and grow) one traceback for all.
    assert len({id(o) for o in outcomes}) == 3
