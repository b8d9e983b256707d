"""Editing and deleting your own message: the services, REST, counts, previews and the admin's history."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from chat.models import Message, MessageEdit
from chat.services import message_delete, message_edit, message_remove, message_send, messages_mark_read
from contacts.models import Contact
from kernel.errors import ForbiddenError, NotFoundError, ServiceError
from users.services import user_suspend

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(make_user):
    return make_user("ann"), make_user("bob")


def _send(sender, recipient, text):
    return message_send(sender_id=sender.clerk_id, recipient_id=recipient.clerk_id, text=text).message


def _contact(owner, other) -> Contact:
    return Contact.objects.get(owner=owner, contact=other)


def _age(message, seconds) -> None:
    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(seconds=seconds))


# --- editing ------------------------------------------------------------------------------------


def test_an_edit_changes_the_text_keeps_the_old_one_for_moderators_and_moves_the_previews(pair):
    ann, bob = pair
    message = _send(ann, bob, "helo bob")
    edited = message_edit(editor_id=ann.clerk_id, message_id=message.id, text="hello bob")
    stored = Message.objects.get(pk=message.id)
    assert stored.content == "hello bob" and stored.edited_at == edited.edited_at is not None
    assert _contact(ann, bob).last_message_preview == "hello bob"
    assert _contact(bob, ann).last_message_preview == "hello bob"

    message_edit(editor_id=ann.clerk_id, message_id=message.id, text="hello Bob!")
    versions = list(MessageEdit.objects.filter(message=message).values_list("content", "written_at", "replaced_at"))
    assert [v[0] for v in versions] == ["helo bob", "hello bob"]
    assert versions[0][1] == message.created_at and versions[1][1] == versions[0][2] == edited.edited_at


def test_editing_an_older_message_leaves_the_newer_preview(pair):
    ann, bob = pair
    older = _send(ann, bob, "first")
    _send(bob, ann, "second")
    message_edit(editor_id=ann.clerk_id, message_id=older.id, text="first, fixed")
    assert _contact(ann, bob).last_message_preview == "second" == _contact(bob, ann).last_message_preview


def test_the_same_text_again_changes_nothing(pair):
    ann, bob = pair
    message = _send(ann, bob, "same")
    assert message_edit(editor_id=ann.clerk_id, message_id=message.id, text="same").edited_at is None
    assert not MessageEdit.objects.exists()


def test_only_the_sender_edits_and_others_see_no_such_message(pair, make_user):
    ann, bob = pair
    message = _send(ann, bob, "mine")
    with pytest.raises(ForbiddenError, match="only edit your own"):
        message_edit(editor_id=bob.clerk_id, message_id=message.id, text="hijacked")
    with pytest.raises(NotFoundError):
        message_edit(editor_id=make_user("eve").clerk_id, message_id=message.id, text="hijacked")
    with pytest.raises(NotFoundError):
        message_edit(editor_id=ann.clerk_id, message_id=message.id + 1000, text="nothing")
    assert Message.objects.get(pk=message.id).content == "mine"


def test_the_edit_window(pair, settings):
    ann, bob = pair
    settings.MESSAGE_EDIT_WINDOW_SECONDS = 900
    inside, outside = _send(ann, bob, "a"), _send(ann, bob, "b")
    _age(inside, 890)
    _age(outside, 910)
    assert message_edit(editor_id=ann.clerk_id, message_id=inside.id, text="a2").content == "a2"
    with pytest.raises(ServiceError, match="only within 15 minutes of sending") as closed:
        message_edit(editor_id=ann.clerk_id, message_id=outside.id, text="b2")
    assert closed.value.code == "edit_window_closed" and closed.value.details == {"windowSeconds": 900}
    settings.MESSAGE_EDIT_WINDOW_SECONDS = 0
    with pytest.raises(ServiceError, match="0 seconds"):
        message_edit(editor_id=ann.clerk_id, message_id=inside.id, text="a3")


def test_removed_deleted_and_suspended_cannot_edit(pair):
    ann, bob = pair
    removed, deleted, other = _send(ann, bob, "r"), _send(ann, bob, "d"), _send(ann, bob, "o")
    message_remove(message_id=removed.id)
    message_delete(deleter_id=ann.clerk_id, message_id=deleted.id)
    with pytest.raises(ServiceError, match="removed by a moderator"):
        message_edit(editor_id=ann.clerk_id, message_id=removed.id, text="x")
    with pytest.raises(ServiceError, match="deleted"):
        message_edit(editor_id=ann.clerk_id, message_id=deleted.id, text="x")
    user_suspend(clerk_id=ann.clerk_id, reason="spam")
    with pytest.raises(ServiceError, match="cannot send"):
        message_edit(editor_id=ann.clerk_id, message_id=other.id, text="x")


@pytest.mark.parametrize(
    ("text", "error"),
    [("   ", "non-empty"), ("x" * 4001, "longer than 4000"), ("a\x00b", "NUL"), (None, "non-empty"), (5, "non-empty")],
)
def test_edits_follow_the_send_text_rules(pair, text, error):
    ann, bob = pair
    message = _send(ann, bob, "ok")
    with pytest.raises(ServiceError, match=error):
        message_edit(editor_id=ann.clerk_id, message_id=message.id, text=text)


# --- deleting -----------------------------------------------------------------------------------


def test_deleting_an_unread_message_corrects_the_count_and_both_previews(pair):
    ann, bob = pair
    _send(bob, ann, "earlier")
    _send(ann, bob, "one")
    last = _send(ann, bob, "two")
    assert _contact(bob, ann).unread_count == 2
    message_delete(deleter_id=ann.clerk_id, message_id=last.id)
    assert _contact(bob, ann).unread_count == 1 and _contact(ann, bob).unread_count == 1
    assert _contact(ann, bob).last_message_preview == "one" == _contact(bob, ann).last_message_preview
    stored = Message.objects.get(pk=last.id)
    assert stored.deleted_at is not None and stored.content == "two"  # kept for moderators

    # Reading the deleted message later does not count it a second time.
    assert messages_mark_read(reader_id=bob.clerk_id, message_ids=[last.id])[0] == []
    assert _contact(bob, ann).unread_count == 1


def test_deleting_a_read_message_leaves_the_count(pair, api_as):
    ann, bob = pair
    message = _send(ann, bob, "read me")
    api_as(bob).post(f"/conversations/{message.conversation_id}/read")
    _send(ann, bob, "unread")
    message_delete(deleter_id=ann.clerk_id, message_id=message.id)
    assert _contact(bob, ann).unread_count == 1
    listed = api_as(bob).get("/conversations").json()["conversations"][0]
    assert listed["unreadCount"] == 1 and listed["lastMessage"]["content"] == "unread"


def test_deleting_twice_succeeds_quietly_and_only_the_sender_deletes(
    pair, make_user, django_capture_on_commit_callbacks
):
    ann, bob = pair
    message = _send(ann, bob, "oops")
    with django_capture_on_commit_callbacks() as first:
        when = message_delete(deleter_id=ann.clerk_id, message_id=message.id).deleted_at
    with django_capture_on_commit_callbacks() as again:
        assert message_delete(deleter_id=ann.clerk_id, message_id=message.id).deleted_at == when
    assert len(first) == 1 and again == []  # the retry announces nothing
    with pytest.raises(ForbiddenError, match="only delete your own"):
        message_delete(deleter_id=bob.clerk_id, message_id=message.id)
    with pytest.raises(NotFoundError):
        message_delete(deleter_id=make_user("eve").clerk_id, message_id=message.id)


def test_conversation_read_after_a_delete_keeps_the_count_right(pair, api_as):
    ann, bob = pair
    gone = _send(ann, bob, "gone")
    message_delete(deleter_id=ann.clerk_id, message_id=gone.id)
    assert api_as(bob).post(f"/conversations/{gone.conversation_id}/read").json()["messageIds"] == []
    assert _contact(bob, ann).unread_count == 0


# --- REST ---------------------------------------------------------------------------------------


def test_rest_edit_and_delete_answer_the_message_and_pages_show_them(pair, api_as):
    ann, bob = pair
    message = _send(ann, bob, "typo hre")
    response = api_as(ann).patch(f"/messages/{message.id}", {"text": "typo here"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["content"] == "typo here" and body["editedAt"] and body["deleted"] is False and body["isMine"] is True

    page = api_as(bob).get(f"/conversations/{message.conversation_id}/messages").json()["messages"]
    assert [(m["content"], m["editedAt"], m["deleted"]) for m in page] == [("typo here", body["editedAt"], False)]

    response = api_as(ann).delete(f"/messages/{message.id}")
    assert response.status_code == 200
    assert response.json()["content"] == "" and response.json()["deleted"] is True
    assert api_as(ann).delete(f"/messages/{message.id}").status_code == 200
    for reader in (ann, bob):
        [shown] = api_as(reader).get(f"/conversations/{message.conversation_id}/messages").json()["messages"]
        assert shown["content"] == "" and shown["deleted"] is True and shown["removed"] is False
        assert "typo" not in str(api_as(reader).get("/contacts").json())
        assert "typo" not in str(api_as(reader).get("/conversations").json())


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("patch", "/messages/abc", {"text": "x"}, 400, "id must be a positive integer"),
        ("patch", "/messages/0", {"text": "x"}, 400, "id must be a positive integer"),
        ("patch", "/messages/99999999999999999999", {"text": "x"}, 400, "id must be a positive integer"),
        ("patch", "/messages/{id}", {}, 400, "text"),
        ("patch", "/messages/{id}", {"text": 5}, 400, "text"),
        ("patch", "/messages/{id}", {"text": "  "}, 400, "non-empty"),
        ("patch", "/messages/{id}", {"text": "x" * 4001}, 400, "longer than 4000"),
        ("patch", "/messages/{id}", [1], 400, ""),
        ("patch", "/messages/{other}", {"text": "x"}, 403, "only edit your own"),
        ("patch", "/messages/{missing}", {"text": "x"}, 404, "Message not found"),
        ("delete", "/messages/abc", None, 400, "id must be a positive integer"),
        ("delete", "/messages/{other}", None, 403, "only delete your own"),
        ("delete", "/messages/{missing}", None, 404, "Message not found"),
        ("put", "/messages/{id}", {"text": "x"}, 405, ""),
    ],
)
def test_rest_bad_input_is_a_clear_error(pair, api_as, method, path, body, status, error):
    ann, bob = pair
    mine, theirs = _send(ann, bob, "mine"), _send(bob, ann, "theirs")
    url = path.format(id=mine.id, other=theirs.id, missing=theirs.id + 1000)
    response = getattr(api_as(ann), method)(url, body, format="json")
    assert response.status_code == status, response.content
    assert error in response.json()["error"]
    assert Message.objects.get(pk=mine.id).content == "mine" and Message.objects.get(pk=mine.id).deleted_at is None


def test_rest_edit_window_closed_is_a_400(pair, api_as):
    ann, bob = pair
    message = _send(ann, bob, "old")
    _age(message, 3600)
    response = api_as(ann).patch(f"/messages/{message.id}", {"text": "new"}, format="json")
    assert response.status_code == 400 and "within 15 minutes" in response.json()["error"]


# --- admin ----------------------------------------------------------------------------------------


def test_moderators_see_every_earlier_version_and_users_never_do(client, pair, api_as):
    ann, bob = pair
    message = _send(ann, bob, "version one")
    message_edit(editor_id=ann.clerk_id, message_id=message.id, text="version two")
    message_edit(editor_id=ann.clerk_id, message_id=message.id, text="version three")
    staff = get_user_model().objects.create_superuser("moderator", "mod@example.com", "pw-not-used")
    client.force_login(staff)
    page = client.get(f"/admin/chat/message/{message.id}/change/").content.decode()
    assert "version one" in page and "version two" in page and "version three" in page
    assert page.index("version one") < page.index("version two")
    listed = client.get("/admin/chat/message/", {"edited": "yes"}).content.decode()
    assert f'name="_selected_action" value="{message.id}"' in listed
    for reader in (ann, bob):
        api = api_as(reader)
        seen = str(api.get(f"/conversations/{message.conversation_id}/messages").json())
        seen += str(api.get("/conversations").json()) + str(api.get("/contacts").json())
        assert "version three" in seen and "version one" not in seen and "version two" not in seen
