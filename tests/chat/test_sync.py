"""GET /sync: one catch-up call for everything that changed for the caller, in order, paged by
a cursor that is enough on its own."""

import pytest

from chat.services import conversation_mark_read, message_remove, message_send, messages_mark_read
from contacts.services import contact_add, contact_remove, contact_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(make_user):
    return make_user("ann"), make_user("bob")


def send(sender, recipient, text):
    return message_send(sender_id=sender.clerk_id, recipient_id=recipient.clerk_id, text=text).message


def sync(api_as, who, query="") -> dict:
    response = api_as(who).get(f"/sync{query}")
    assert response.status_code == 200, response.content
    return response.json()


def kinds(body) -> list[tuple[str, object]]:
    """(type, what it is about: a message id, the ids read, or the contact change) per change."""
    about = ("messageId", "messageIds", "change")
    return [(c["type"], next(c["data"][k] for k in about if k in c["data"])) for c in body["changes"]]


def test_everything_that_changed_for_the_caller_in_order(api_as, pair, make_user):
    ann, bob = pair
    start = sync(api_as, ann)["cursor"]
    mine = send(ann, bob, "hello bob")
    theirs = send(bob, ann, "hi ann")
    messages_mark_read(reader_id=bob.clerk_id, message_ids=[mine.id])
    message_remove(message_id=theirs.id)
    carol = make_user("carol")
    contact = contact_add(owner_id=ann.clerk_id, contact_clerk_id=carol.clerk_id)
    contact_update(owner_id=ann.clerk_id, contact_id=contact.pk, nickname="Caz")
    contact_remove(owner_id=ann.clerk_id, contact_id=contact.pk)

    body = sync(api_as, ann, f"?after={start}")
    assert kinds(body) == [
        ("receive_message", mine.id),  # her own, for her other devices
        ("receive_message", theirs.id),
        ("messages_read", [mine.id]),  # the receipt on her message
        ("message_deleted", theirs.id),
        ("contact_changed", "added"),
        ("contact_changed", "updated"),
        ("contact_changed", "removed"),
    ]
    assert body["hasMore"] is False and body["cursor"] == body["changes"][-1]["cursor"]
    cursors = [c["cursor"] for c in body["changes"]]
    assert cursors == sorted(set(cursors))
    received = body["changes"][0]["data"]
    assert (received["fromClerkId"], received["toClerkId"], received["content"]) == (
        ann.clerk_id,
        bob.clerk_id,
        "hello bob",
    )
    # The removed message is shown without its text.
    assert body["changes"][1]["data"]["content"] == "" and body["changes"][1]["data"]["text"] == ""
    assert body["changes"][2]["data"]["readBy"] == bob.clerk_id
    assert body["changes"][5]["data"]["nickname"] == "Caz"

    # The saved cursor: nothing new, nothing twice.
    assert sync(api_as, ann, f"?after={body['cursor']}") == {"changes": [], "cursor": body["cursor"], "hasMore": False}
    # Bob sees his side only: the messages, the removal, no receipt of his own reading, no contacts of ann.
    assert [k for k, _ in kinds(sync(api_as, bob))] == ["receive_message", "receive_message", "message_deleted"]


def test_pages_follow_the_cursor_without_gaps_or_repeats(api_as, pair):
    ann, bob = pair
    sent = [send(bob, ann, f"m{i}").id for i in range(7)]
    answer = send(ann, bob, "x")
    conversation_mark_read(reader_id=ann.clerk_id, conversation_id=answer.conversation_id)
    seen, cursor, pages = [], 0, 0
    while True:
        body = sync(api_as, ann, f"?after={cursor}&limit=3")
        seen += kinds(body)
        cursor, pages = body["cursor"], pages + 1
        if not body["hasMore"]:
            break
    assert pages == 3
    assert seen[:7] == [("receive_message", i) for i in sent]
    assert seen[7:] == [("receive_message", answer.id)]  # her own reading is no change in her log
    assert ("messages_read", sent) in kinds(sync(api_as, bob))  # but bob's messages were read


@pytest.mark.parametrize("query", ["?after=-1", "?after=abc", "?after=1.5", "?limit=0", "?limit=x"])
def test_a_bad_cursor_or_limit_is_400_with_an_error(api_as, pair, query):
    response = api_as(pair[0]).get(f"/sync{query}")
    assert response.status_code == 400
    assert "error" in response.json()


def test_without_identity_is_401(client):
    assert client.get("/sync").status_code == 401


def test_edits_and_the_senders_deletes_reach_both_users_sync(api_as, pair):
    from chat.services import message_delete, message_edit

    ann, bob = pair
    starts = {who.clerk_id: sync(api_as, who)["cursor"] for who in pair}
    message = send(ann, bob, "see you at 5")
    message_edit(editor_id=ann.clerk_id, message_id=message.id, text="see you at 6")
    message_delete(deleter_id=ann.clerk_id, message_id=message.id)
    for who in pair:
        body = sync(api_as, who, f"?after={starts[who.clerk_id]}")
        assert kinds(body) == [
            ("receive_message", message.id),
            ("message_edited", message.id),
            ("message_deleted", message.id),
        ]
        edited, deleted = body["changes"][1]["data"], body["changes"][2]["data"]
        assert edited["text"] == "see you at 6" and deleted["deletedBy"] == "sender"
