"""chat.services.sockets_change: a batch of sockets arriving and leaving, as the Socket.IO layer
records them (chat/realtime/connectqueue.py), gives each socket what it would get alone."""

import uuid

import pytest
from django.utils import timezone

from chat import services
from chat.models import Message
from delivery import leases
from users.models import User

pytestmark = pytest.mark.django_db(transaction=True)


def _sid() -> str:
    return uuid.uuid4().hex[:20]


def test_a_batch_refuses_only_its_suspended_user_and_records_everyone_else(make_user, forget):
    ann, bob, sender = make_user("ann"), make_user("bob"), make_user("sender")
    sue = make_user("sue", suspended_at=timezone.now())
    stale = make_user("stale", status="online")  # marked online by a crash; leaves with no socket
    no_profile = f"user_noprofile_{uuid.uuid4().hex[:8]}"
    waiting = services.message_send(sender_id=sender.clerk_id, recipient_id=ann.clerk_id, text="while away").message
    ann_sid, sue_sid, np_sid, bob_sid, stale_sid = (_sid() for _ in range(5))
    for pair in ((ann.clerk_id, ann_sid), (no_profile, np_sid), (bob.clerk_id, bob_sid), (stale.clerk_id, stale_sid)):
        forget(pair)

    outcomes = services.sockets_change(
        changes=[
            (True, ann.clerk_id, ann_sid),
            (True, sue.clerk_id, sue_sid),
            (True, no_profile, np_sid),
            (True, bob.clerk_id, bob_sid),
            (False, bob.clerk_id, bob_sid),
            (False, stale.clerk_id, stale_sid),
        ]
    )

    assert [o is None for o in outcomes] == [True, False, True, True, True, True]
    assert outcomes[1].code == "account_disabled" and "suspended" in outcomes[1].message
    assert leases.online_among([ann.clerk_id, sue.clerk_id, no_profile, bob.clerk_id]) == {ann.clerk_id, no_profile}
    assert not leases.is_local(sue_sid) and not leases.is_local(bob_sid)
    statuses = dict(User.objects.filter(pk__in=[ann.pk, sue.pk, bob.pk]).values_list("clerk_id", "status"))
    assert statuses == {ann.clerk_id: "online", sue.clerk_id: "offline", bob.clerk_id: "offline"}
    # A departure that was the user's last socket repairs a status left wrong.
    assert User.objects.get(pk=stale.pk).status == "offline"
    assert Message.objects.get(pk=waiting.pk).delivered_at is not None
