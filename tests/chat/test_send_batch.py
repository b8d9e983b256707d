"""messages_send_many: a batch of sends gives each the outcome message_send would, with one write."""

import pytest
from django.utils import timezone

from chat.models import Conversation, Message
from chat.services import message_send
from chat.services.messages import SendRequest, messages_send_many
from chat.services.storage import PREVIEW_LENGTH, messages_store
from contacts.models import Contact
from kernel.errors import ServiceError
from tests.chat.test_models import run_concurrently
from users.services import user_suspend

pytestmark = pytest.mark.django_db(transaction=True)


def send(sender, recipient, text, client_message_id=None):
    return SendRequest(
        sender_id=getattr(sender, "clerk_id", sender), recipient_id=getattr(recipient, "clerk_id", recipient),
        text=text, client_message_id=client_message_id, received_at=timezone.now(),
    )  # fmt: skip


def test_a_mixed_batch_gets_each_send_its_own_outcome_in_order(make_user):
    a, b, c, mute = make_user("a"), make_user("b"), make_user("c"), make_user("mute")
    stored_before = message_send(sender_id=a.clerk_id, recipient_id=b.clerk_id, text="earlier", client_message_id="k0")
    user_suspend(clerk_id=mute.clerk_id, reason="test")
    batch = [
        send(a, b, "one", "k1"),
        send(a, "user_nobody", "lost?"),
        send(b, a, "two"),
        send(a, b, "earlier again", "k0"),  # a retry of a stored message
        send(a, a, "self"),
        send(a, b, "three", "k1"),  # the same clientMessageId again in the batch
        send(mute, a, "suspended sender"),
        send(c, b, "x" * (PREVIEW_LENGTH + 20)),
        send(a, b, "four"),
    ]
    outcomes = messages_send_many(sends=batch)

    refused = {i: o.code for i, o in enumerate(outcomes) if isinstance(o, ServiceError)}
    assert refused == {1: "unknown_recipient", 4: "self", 6: "sender_suspended"}
    created = [i for i, o in enumerate(outcomes) if i not in refused and o.created]
    assert created == [0, 2, 7, 8]
    assert outcomes[3].message.pk == stored_before.message.pk and not outcomes[3].created
    assert outcomes[5].message.pk == outcomes[0].message.pk and not outcomes[5].created
    # Ids follow the batch's order; what is stored is what was sent.
    ids = [outcomes[i].message.pk for i in created]
    assert ids == sorted(ids) and min(ids) > stored_before.message.pk
    for i in created:
        row = Message.objects.get(pk=outcomes[i].message.pk)
        assert (row.sender_id, row.recipient_id, row.content) == (
            batch[i].sender_id,
            batch[i].recipient_id,
            batch[i].text,
        )
        assert row.conversation_id == outcomes[i].message.conversation_id
        assert row.created_at == batch[i].received_at
    # Exactly one conversation per pair, and unread counts equal to unread messages.
    assert Conversation.objects.count() == 2
    for owner, other in ((b, a), (a, b), (b, c)):
        contact = Contact.objects.get(owner=owner, contact=other)
        unread = Message.objects.filter(recipient=owner, sender=other, is_read=False).count()
        assert contact.unread_count == unread
    assert Contact.objects.get(owner=b, contact=a).unread_count == 3  # earlier, one, four
    assert Contact.objects.get(owner=b, contact=a).last_message_preview == "four"
    assert Contact.objects.get(owner=b, contact=c).last_message_preview == "x" * PREVIEW_LENGTH


def test_batches_racing_on_one_pair_keep_counts_exact(make_user):
    """Several processes' batches at once, in both directions, on a new pair: one conversation,
    every message stored once, no lost unread increment."""
    a, b = make_user("a"), make_user("b")

    def write(index):
        forward = index % 2 == 0
        sender, recipient = (a, b) if forward else (b, a)
        return messages_send_many(sends=[send(sender, recipient, f"{index}-{n}", f"c{index}-{n}") for n in range(5)])

    results = run_concurrently(6, write)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert all(o.created for outcomes in results for o in outcomes)
    assert Conversation.objects.count() == 1
    assert Message.objects.count() == 30
    assert Contact.objects.get(owner=a, contact=b).unread_count == 15
    assert Contact.objects.get(owner=b, contact=a).unread_count == 15


@pytest.mark.postgres  # the one-statement batch write is PostgreSQL's
def test_a_retry_stored_meanwhile_by_another_writer_is_skipped_and_not_counted(make_user):
    a, b = make_user("a"), make_user("b")
    first = message_send(sender_id=a.clerk_id, recipient_id=b.clerk_id, text="first", client_message_id="dup")
    racing = [
        Message(
            sender_id=a.clerk_id,
            recipient_id=b.clerk_id,
            content="first",
            client_message_id="dup",
            created_at=timezone.now(),
        ),
        Message(sender_id=a.clerk_id, recipient_id=b.clerk_id, content="second", created_at=timezone.now()),
    ]
    inserted = messages_store(racing, previews=["first", "second"])
    assert inserted == {racing[1].pk}
    assert Message.objects.filter(client_message_id="dup").get().pk == first.message.pk
    assert Contact.objects.get(owner=b, contact=a).unread_count == 2


def test_text_the_database_cannot_store_is_refused_alone(make_user):
    a, b = make_user("a"), make_user("b")
    outcomes = messages_send_many(sends=[send(a, b, "before"), send(a, b, "nul\x00"), send(a, b, "after")])
    assert isinstance(outcomes[1], ServiceError) and outcomes[1].code == "invalid_text"
    assert [o.created for i, o in enumerate(outcomes) if i != 1] == [True, True]
    assert list(Message.objects.order_by("id").values_list("content", flat=True)) == ["before", "after"]
