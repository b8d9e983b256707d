"""Message removal and user suspension: services, admin actions, and what users then get."""

import logging

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model

from chat.models import Message
from chat.services import message_remove, message_restore, message_send
from contacts.models import Contact
from kernel.errors import NotFoundError, ServiceError
from users.selectors import user_connect_refusal
from users.services import user_suspend, user_unsuspend

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(client):
    staff = get_user_model().objects.create_superuser("moderator", "mod@example.com", "pw-not-used")
    client.force_login(staff)
    return staff


@pytest.fixture
def pair(make_user):
    return make_user("ann"), make_user("bob")


def _send(sender, recipient, text):
    return message_send(sender_id=sender.clerk_id, recipient_id=recipient.clerk_id, text=text).message


def _preview(owner, other):
    return Contact.objects.get(owner=owner, contact=other).last_message_preview


def test_remove_hides_the_message_from_contact_previews(pair):
    ann, bob = pair
    _send(ann, bob, "first")
    last = _send(bob, ann, "something abusive")
    removed = message_remove(message_id=last.id)
    assert removed.removed_at is not None
    assert Message.objects.get(pk=last.id).removed_at == removed.removed_at
    assert _preview(ann, bob) == "first" and _preview(bob, ann) == "first"

    message_restore(message_id=last.id)
    assert Message.objects.get(pk=last.id).removed_at is None
    assert _preview(ann, bob) == "something abusive" and _preview(bob, ann) == "something abusive"


def test_removing_the_only_message_empties_the_previews(pair):
    ann, bob = pair
    only = _send(ann, bob, "only one")
    message_remove(message_id=only.id)
    assert _preview(ann, bob) is None and _preview(bob, ann) is None


def test_remove_is_idempotent_and_unknown_ids_are_not_found(pair):
    ann, bob = pair
    message = _send(ann, bob, "hi")
    first = message_remove(message_id=message.id).removed_at
    assert message_remove(message_id=message.id).removed_at == first
    with pytest.raises(NotFoundError):
        message_remove(message_id=message.id + 1000)


def test_admin_remove_and_restore_actions_change_the_db_and_the_log(client, moderator, pair):
    ann, bob = pair
    keep, drop = _send(ann, bob, "keep me"), _send(ann, bob, "drop me")
    response = client.post(
        "/admin/chat/message/", {"action": "remove_messages", "_selected_action": [drop.pk], "index": 0}, follow=True
    )
    assert "Removed 1 message(s)." in response.content.decode()
    assert Message.objects.get(pk=drop.pk).removed_at is not None
    assert Message.objects.get(pk=keep.pk).removed_at is None
    entry = LogEntry.objects.get(object_id=str(drop.pk))
    assert entry.user == moderator and entry.get_change_message() == "Removed by a moderator"
    assert "drop me" not in entry.object_repr

    client.post("/admin/chat/message/", {"action": "restore_messages", "_selected_action": [drop.pk], "index": 0})
    assert Message.objects.get(pk=drop.pk).removed_at is None
    assert LogEntry.objects.filter(object_id=str(drop.pk)).count() == 2


def test_message_list_filters_and_search(client, moderator, pair):
    ann, bob = pair
    plain = _send(ann, bob, "ordinary words")
    flagged = _send(bob, ann, "needle in a haystack")
    message_remove(message_id=flagged.id)

    def listed(**params):
        page = client.get("/admin/chat/message/", params).content.decode()
        return {m.pk for m in (plain, flagged) if f'name="_selected_action" value="{m.pk}"' in page}

    assert listed() == {plain.pk, flagged.pk}
    assert listed(q="needle") == {flagged.pk}
    assert listed(removed="yes") == {flagged.pk}
    assert listed(removed="no") == {plain.pk}
    assert listed(delivered="no") == {plain.pk, flagged.pk}
    assert listed(is_read__exact="0") == {plain.pk, flagged.pk}
    assert listed(is_read__exact="1") == set()


def test_conversation_list_counts_without_a_query_per_row(client, moderator, make_user, django_assert_max_num_queries):
    hub = make_user("hub")
    others = [make_user(f"peer{i}") for i in range(3)]
    for i, other in enumerate(others):
        for n in range(i + 1):
            _send(hub, other, f"m{n}")
    with django_assert_max_num_queries(12) as few:
        page = client.get("/admin/chat/conversation/").content.decode()
    for other in others:
        assert other.clerk_id in page
    more = [make_user(f"more{i}") for i in range(8)]
    for other in more:
        _send(other, hub, "hello")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/admin/chat/conversation/")
    # message counts 1, 2, 3 appear in the column
    assert all(f'<td class="field-message_count">{n}</td>' in page for n in (1, 2, 3))


def test_suspended_users_can_neither_send_nor_be_messaged(pair):
    ann, bob = pair
    user_suspend(clerk_id=ann.clerk_id, reason="spam")
    with pytest.raises(ServiceError) as sending:
        _send(ann, bob, "hi")
    assert sending.value.code == "sender_suspended"
    with pytest.raises(ServiceError) as receiving:
        _send(bob, ann, "hi")
    assert receiving.value.code == "recipient_unavailable"
    user_unsuspend(clerk_id=ann.clerk_id)
    assert _send(ann, bob, "back").content == "back"


def test_connect_refusal_names_the_reason(make_user):
    ann = make_user("ann")
    assert user_connect_refusal(clerk_id=ann.clerk_id) is None
    assert user_connect_refusal(clerk_id="user_without_profile_yet") is None
    user_suspend(clerk_id=ann.clerk_id, reason="spam")
    assert user_connect_refusal(clerk_id=ann.clerk_id) is not None
    assert user_connect_refusal(clerk_id=ann.clerk_id) == "This account is suspended and cannot connect"
    user_unsuspend(clerk_id=ann.clerk_id)
    assert user_connect_refusal(clerk_id=ann.clerk_id) is None


def test_suspend_needs_a_reason_and_an_existing_user(make_user):
    with pytest.raises(ServiceError):
        user_suspend(clerk_id=make_user("ann").clerk_id, reason=" ")
    with pytest.raises(NotFoundError):
        user_suspend(clerk_id="user_nobody", reason="spam")


def test_sending_and_moderating_log_no_message_text(caplog, pair):
    ann, bob = pair
    secret = "my private diagnosis is 42-XYZZY"
    with caplog.at_level(logging.INFO):
        message = _send(ann, bob, secret)
        message_remove(message_id=message.id)
        with pytest.raises(ServiceError):
            _send(ann, ann, secret)
    stored = [r for r in caplog.records if getattr(r, "event", None) == "message.stored"]
    assert len(stored) == 1 and stored[0].message_id == message.id and stored[0].length == len(secret)
    assert any(getattr(r, "event", None) == "message.removed" for r in caplog.records)
    for record in caplog.records:
        formatted = caplog.handler.format(record) + str(vars(record))
        assert "XYZZY" not in formatted


def test_rest_hides_a_removed_message_from_both_participants(api_as, pair):
    ann, bob = pair
    _send(ann, bob, "fine")
    bad = _send(bob, ann, "abusive words")
    message_remove(message_id=bad.id)
    for reader in (ann, bob):
        api = api_as(reader)
        body = api.get(f"/conversations/{bad.conversation_id}/messages").json()
        shown = {m["id"]: m for m in body["messages"]}
        assert shown[bad.id]["content"] == "" and shown[bad.id]["removed"] is True
        assert "abusive" not in str(body)
        assert "abusive" not in str(api.get("/contacts").json())
        assert "abusive" not in str(api.get("/conversations").json())


def test_moderators_remove_rather_than_delete(client, moderator, pair):
    ann, bob = pair
    message = _send(ann, bob, "hi")
    page = client.get("/admin/chat/message/").content.decode()
    assert 'value="remove_messages"' in page and 'value="delete_selected"' not in page
    assert client.get(f"/admin/chat/message/{message.pk}/delete/").status_code == 403
    assert client.get(f"/admin/chat/conversation/{message.conversation_id}/delete/").status_code == 403
    assert client.get(f"/admin/users/user/{quote(ann.pk)}/delete/").status_code == 403
    assert Message.objects.filter(pk=message.pk).exists()
