"""A suspended user's typing reaches no one: neither as a new partner nor through the
per-socket cache of partners already checked."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from chat.services import typing_partner_check
from kernel.errors import ServiceError
from users.models import User

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_suspended_typist_is_refused(make_user):
    typist, partner = make_user("typist"), make_user("partner")
    typing_partner_check(sender_id=typist.clerk_id, recipient_id=partner.clerk_id)
    User.objects.filter(pk=typist.pk).update(suspended_at=timezone.now())

    with pytest.raises(ServiceError) as refused:
        typing_partner_check(sender_id=typist.clerk_id, recipient_id=partner.clerk_id)
    assert refused.value.code == "sender_suspended"


async def test_a_socket_that_typed_before_its_suspension_is_refused_within_a_second(asgi_server, clients, alice, bob):
    typist = await clients(asgi_server, alice.clerk_id)
    watcher = await clients(asgi_server, bob.clerk_id)
    pair = {"fromClerkId": alice.clerk_id, "toClerkId": bob.clerk_id}
    assert (await typist.call("typing_start", pair))["success"] is True
    assert (await watcher.next("user_typing"))["isTyping"] is True

    # Suspended in the database only: as on a process whose disconnect did not reach this socket.
    await database_sync_to_async(User.objects.filter(pk=alice.pk).update)(suspended_at=timezone.now())
    loop = asyncio.get_running_loop()
    suspended_at = loop.time()
    while (answer := await typist.call("typing_start", pair))["success"] is True:
        assert loop.time() - suspended_at < 1.5, "the typing cache was never checked again"
        await asyncio.sleep(0.1)  # a typist's pace; the rate limit allows it
    assert answer["error"] == "Your account cannot send messages"
    assert (await typist.next("error"))["error"] == "Your account cannot send messages"
