"""The database itself enforces the data model's uniqueness rules (on SQLite and PostgreSQL)."""

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from chat.models import Conversation, Message
from chat.services import conversation_get_or_create, message_send
from contacts.models import Contact


def run_concurrently(count: int, target) -> list:
    """Run `target(i)` in `count` threads released at the same instant; return results or exceptions."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = target(index)
        except Exception as exc:  # reported to the test, not swallowed
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_conversation_pair_is_unique(make_user):
    a, b = make_user("a"), make_user("b")
    low, high = sorted([a.clerk_id, b.clerk_id])
    Conversation.objects.create(user1_id=low, user2_id=high)
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.create(user1_id=low, user2_id=high)


def test_conversation_reversed_pair_is_refused(make_user):
    a, b = make_user("a"), make_user("b")
    low, high = sorted([a.clerk_id, b.clerk_id])
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.create(user1_id=high, user2_id=low)


def test_conversation_get_or_create_is_order_blind(make_user):
    a, b = make_user("a"), make_user("b")
    first = conversation_get_or_create(user_a=a.clerk_id, user_b=b.clerk_id)
    second = conversation_get_or_create(user_a=b.clerk_id, user_b=a.clerk_id)
    assert first.pk == second.pk
    assert Conversation.objects.count() == 1


def test_contact_row_is_unique_per_owner_and_contact(make_user):
    a, b = make_user("a"), make_user("b")
    Contact.objects.create(owner=a, contact=b)
    Contact.objects.create(owner=b, contact=a)  # the other direction is another list
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(owner=a, contact=b)


def test_contact_cannot_be_yourself(make_user):
    a = make_user("a")
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(owner=a, contact=a)


def test_client_message_id_is_unique_per_sender(make_user):
    a, b = make_user("a"), make_user("b")
    conversation = conversation_get_or_create(user_a=a.clerk_id, user_b=b.clerk_id)
    Message.objects.create(conversation=conversation, sender=a, recipient=b, content="x", client_message_id="c1")
    # Another sender may use the same client id, and ids may be absent any number of times.
    Message.objects.create(conversation=conversation, sender=b, recipient=a, content="y", client_message_id="c1")
    Message.objects.create(conversation=conversation, sender=a, recipient=b, content="z")
    Message.objects.create(conversation=conversation, sender=a, recipient=b, content="z")
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(conversation=conversation, sender=a, recipient=b, content="w", client_message_id="c1")


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_messages_create_one_conversation(make_user):
    a, b = make_user("a"), make_user("b")
    senders = [(a, b), (b, a)] * 3

    def send(index):
        sender, recipient = senders[index]
        return message_send(sender_id=sender.clerk_id, recipient_id=recipient.clerk_id, text=f"hello {index}")

    results = run_concurrently(len(senders), send)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Conversation.objects.count() == 1
    conversation = Conversation.objects.get()
    assert {r.message.conversation_id for r in results} == {conversation.pk}
    assert Message.objects.filter(conversation=conversation).count() == len(senders)
    # Each side's unread count is exactly the messages it received: no lost increments.
    assert Contact.objects.get(owner=a, contact=b).unread_count == 3
    assert Contact.objects.get(owner=b, contact=a).unread_count == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_one_client_message_id_store_one_message(make_user):
    a, b = make_user("a"), make_user("b")

    def send(index):
        return message_send(sender_id=a.clerk_id, recipient_id=b.clerk_id, text="once", client_message_id="retry-1")

    results = run_concurrently(4, send)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.message.pk for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert Message.objects.count() == 1
    assert Contact.objects.get(owner=b, contact=a).unread_count == 1
