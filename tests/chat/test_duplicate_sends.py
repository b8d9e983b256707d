"""The duplicate-send guard: a send without clientMessageId that repeats the sender's last text to
the same user within DUPLICATE_SEND_WINDOW_MS is a retry of the first message (the web app's
eye-tracking mode emits each send twice). Sends with a clientMessageId keep their own rule."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.models import Message
from chat.services import message_send
from chat.services.messages import SendRequest, messages_send_many

pytestmark = pytest.mark.django_db(transaction=True)


def request(sender, recipient, text, at, client_message_id=None):
    return SendRequest(
        sender_id=sender.clerk_id, recipient_id=recipient.clerk_id, text=text,
        client_message_id=client_message_id, received_at=at,
    )  # fmt: skip


def test_a_repeat_within_the_window_is_the_first_message_and_after_it_a_new_one(make_user):
    a, b = make_user("a"), make_user("b")
    start = timezone.now()
    [first] = messages_send_many(sends=[request(a, b, "yes", start)])
    [again] = messages_send_many(sends=[request(a, b, "yes", start + timedelta(milliseconds=1400))])
    assert first.created and not again.created and again.message.pk == first.message.pk
    [later] = messages_send_many(sends=[request(a, b, "yes", start + timedelta(milliseconds=1600))])
    assert later.created and later.message.pk != first.message.pk
    assert Message.objects.filter(sender=a).count() == 2


def test_in_one_batch_a_double_emit_is_stored_once(make_user):
    a, b = make_user("a"), make_user("b")
    now = timezone.now()
    outcomes = messages_send_many(
        sends=[request(a, b, "water", now), request(a, b, "water", now + timedelta(milliseconds=5))]
    )
    assert outcomes[0].created and not outcomes[1].created
    assert outcomes[1].message.pk == outcomes[0].message.pk
    assert Message.objects.filter(sender=a).count() == 1


def test_other_text_other_recipient_and_client_message_ids_are_new_messages(make_user):
    a, b, c = make_user("a"), make_user("b"), make_user("c")
    now = timezone.now()
    outcomes = messages_send_many(sends=[
        request(a, b, "hi", now),
        request(a, b, "hi there", now),  # other text
        request(a, c, "hi", now),  # other recipient
        request(a, b, "hi", now, "k1"),  # a clientMessageId: today's exact rule
        request(a, b, "hi", now, "k2"),
        request(b, a, "hi", now),  # the other direction
    ])  # fmt: skip
    assert all(o.created for o in outcomes)
    assert len({o.message.pk for o in outcomes}) == 6


def test_the_single_send_service_applies_the_same_guard(make_user):
    a, b = make_user("a"), make_user("b")
    first = message_send(sender_id=a.clerk_id, recipient_id=b.clerk_id, text="help")
    again = message_send(sender_id=a.clerk_id, recipient_id=b.clerk_id, text="help")
    assert not again.created and again.message.pk == first.message.pk


def test_a_window_of_zero_turns_the_guard_off(make_user, settings):
    settings.DUPLICATE_SEND_WINDOW_MS = 0
    a, b = make_user("a"), make_user("b")
    now = timezone.now()
    outcomes = messages_send_many(sends=[request(a, b, "ok", now), request(a, b, "ok", now)])
    assert all(o.created for o in outcomes) and outcomes[0].message.pk != outcomes[1].message.pk
