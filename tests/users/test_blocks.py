"""Blocking through REST and the services, on either backend: the routes, and each effect of
"A blocks B" on B (refused) next to the same action in the other direction (allowed)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat.models import Message
from chat.services import SendRequest, message_send, messages_send_many, typing_partner_check
from chat.services.storage import chat_states
from contacts.models import Contact
from kernel.errors import ServiceError
from users.blocks import user_block, user_unblock
from users.models import Block, User

pytestmark = pytest.mark.django_db

REFUSAL = "Recipient cannot receive messages"


@pytest.fixture
def pair(make_user):
    """(a, b): a blocks b."""
    a, b = make_user("alice"), make_user("bob")
    user_block(blocker_id=a.clerk_id, blocked_id=b.clerk_id)
    return a, b


def test_block_list_and_unblock_over_rest(api_as, make_user):
    me, other = make_user("me"), make_user("other", image_url="https://img.example/o.png")
    client = api_as(me)
    first = client.post("/blocks", {"clerkId": other.clerk_id}, format="json")
    assert first.status_code == 200
    block = first.json()["block"]
    assert first.json()["success"] is True
    assert block["clerkId"] == other.clerk_id and block["profileImage"] == "https://img.example/o.png"
    assert block["blockedAt"].endswith("Z")

    again = client.post("/blocks", {"clerkId": other.clerk_id}, format="json")
    assert again.status_code == 200 and again.json() == first.json()  # idempotent: the same block
    assert Block.objects.filter(blocker=me).count() == 1
    assert client.get("/blocks").json() == {"blocks": [block]}
    assert api_as(other).get("/blocks").json() == {"blocks": []}  # one way, and only your own

    assert client.delete(f"/blocks/{other.clerk_id}").json() == {"success": True, "wasBlocked": True}
    assert client.delete(f"/blocks/{other.clerk_id}").json() == {"success": True, "wasBlocked": False}
    assert client.get("/blocks").json() == {"blocks": []}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"clerkId": "SELF"}, "You cannot block yourself"),
        ({"clerkId": "user_nobody_here"}, "User not found"),
        ({"clerkId": "not a clerk id!"}, "User not found"),
        ({}, "clerkId: This field is required."),
        ({"clerkId": 12}, "clerkId: Not a valid string."),
    ],
)
def test_bad_blocks_are_400(api_as, make_user, body, error):
    me = make_user("me")
    if body.get("clerkId") == "SELF":
        body = {"clerkId": me.clerk_id}
    response = api_as(me).post("/blocks", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert not Block.objects.exists()


def test_blocking_needs_a_profile_and_a_valid_path(api_as, make_user):
    other = make_user("other")
    response = api_as("user_without_profile").post("/blocks", {"clerkId": other.clerk_id}, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "Create your profile first with POST /users"}
    bad = api_as(other).delete("/blocks/not%20an%20id")
    assert bad.status_code == 400 and bad.json() == {"error": "clerkId is not a valid Clerk user id"}


def test_the_blocked_users_messages_are_refused_like_a_deactivated_accounts(pair, make_user):
    a, b = pair
    with pytest.raises(ServiceError) as refused:
        message_send(sender_id=b.clerk_id, recipient_id=a.clerk_id, text="let me in")
    gone = make_user("gone", is_active=False)
    with pytest.raises(ServiceError) as deactivated:
        message_send(sender_id=b.clerk_id, recipient_id=gone.clerk_id, text="hello?")
    assert refused.value.message == deactivated.value.message == REFUSAL
    assert refused.value.code == deactivated.value.code and refused.value.details == deactivated.value.details
    assert not Message.objects.filter(sender=b).exists()
    assert not Contact.objects.filter(owner=a, contact=b).exists()  # nothing touched, not even a preview

    # The other direction is untouched: the blocker still reaches the blocked user.
    sent = message_send(sender_id=a.clerk_id, recipient_id=b.clerk_id, text="I can still write")
    assert sent.created


def test_a_batch_reads_its_blocks_in_one_query_only_when_a_recipient_blocks_anyone(pair, make_user):
    a, b = pair
    c = make_user("carol")
    sends = [
        SendRequest(sender_id=b.clerk_id, recipient_id=a.clerk_id, text="blocked"),
        SendRequest(sender_id=c.clerk_id, recipient_id=a.clerk_id, text="fine"),
        SendRequest(sender_id=a.clerk_id, recipient_id=b.clerk_id, text="other way"),
        SendRequest(sender_id=b.clerk_id, recipient_id=c.clerk_id, text="elsewhere"),
    ]
    pairs = [(s.recipient_id, s.sender_id) for s in sends]
    with CaptureQueriesContext(connection) as queries:
        states = chat_states(a.clerk_id, b.clerk_id, c.clerk_id, pairs=pairs)
    assert len(queries) == 2  # the users, then the blocks of the whole batch
    assert states[a.clerk_id].blocks == {b.clerk_id} and not states[b.clerk_id].blocks
    # Recipients who block no one cost no query for blocks: the send path stays as fast as before.
    with CaptureQueriesContext(connection) as queries:
        states = chat_states(a.clerk_id, b.clerk_id, c.clerk_id, pairs=[p for p in pairs if p[0] != a.clerk_id])
    assert len(queries) == 1 and not any(state.blocks for state in states.values())

    outcomes = messages_send_many(sends=sends)
    assert isinstance(outcomes[0], ServiceError) and outcomes[0].message == REFUSAL
    assert [o.message.content for o in outcomes[1:]] == ["fine", "other way", "elsewhere"]


def test_typing_follows_the_same_rule(pair):
    a, b = pair
    with pytest.raises(ServiceError) as refused:
        typing_partner_check(sender_id=b.clerk_id, recipient_id=a.clerk_id)
    assert refused.value.message == REFUSAL
    typing_partner_check(sender_id=a.clerk_id, recipient_id=b.clerk_id)


def test_the_blocker_is_missing_from_the_blocked_users_search(pair, api_as, make_user):
    a, b = pair
    c = make_user("carol")
    assert api_as(b).get("/users/search", {"q": a.username}).json() == {"users": []}
    assert [u["clerkId"] for u in api_as(c).get("/users/search", {"q": a.username}).json()["users"]] == [a.clerk_id]
    assert [u["clerkId"] for u in api_as(a).get("/users/search", {"q": b.username}).json()["users"]] == [b.clerk_id]


def test_the_blocked_user_cannot_add_the_blocker_and_hears_what_a_deleted_account_says(pair, api_as, make_user):
    a, b = pair
    gone = make_user("gone", is_active=False)
    refused = api_as(b).post("/contacts", {"contactClerkId": a.clerk_id}, format="json")
    deleted = api_as(b).post("/contacts", {"contactClerkId": gone.clerk_id}, format="json")
    assert refused.status_code == deleted.status_code == 400
    assert refused.json() == deleted.json() == {"error": "User not found"}
    added = api_as(a).post("/contacts", {"contactClerkId": b.clerk_id}, format="json")
    assert added.status_code == 200 and added.json()["contact"]["isBlocked"] is True


def test_contact_rows_say_who_is_blocked_and_hide_the_blockers_presence(pair, api_as, mark_online):
    a, b = pair
    Contact.objects.create(owner=a, contact=b)
    Contact.objects.create(owner=b, contact=a)
    mark_online(a)
    mark_online(b)

    [a_row] = api_as(a).get("/contacts").json()["contacts"]
    [b_row] = api_as(b).get("/contacts").json()["contacts"]
    assert (a_row["isBlocked"], a_row["status"]) == (True, "online")
    assert (b_row["isBlocked"], b_row["status"]) == (False, "offline")  # a is online, but not to b

    user_unblock(blocker_id=a.clerk_id, blocked_id=b.clerk_id)
    [a_row] = api_as(a).get("/contacts").json()["contacts"]
    [b_row] = api_as(b).get("/contacts").json()["contacts"]
    assert (a_row["isBlocked"], b_row["status"]) == (False, "online")


def test_conversations_show_the_blocker_offline_to_the_blocked_user(pair, api_as, mark_online):
    a, b = pair
    message_send(sender_id=a.clerk_id, recipient_id=b.clerk_id, text="history stays")
    mark_online(a)
    mark_online(b)
    [seen_by_b] = api_as(b).get("/conversations").json()["conversations"]
    [seen_by_a] = api_as(a).get("/conversations").json()["conversations"]
    assert seen_by_b["otherUser"]["status"] == "offline"
    assert seen_by_a["otherUser"]["status"] == "online"
    page = api_as(b).get(f"/conversations/with/{a.clerk_id}/messages").json()
    assert page["otherUser"]["status"] == "offline"
    # The blocker still sees their history with the blocked user.
    history = api_as(a).get(f"/conversations/{seen_by_a['id']}/messages").json()["messages"]
    assert [m["content"] for m in history] == ["history stays"]


def test_unblocking_restores_sending_and_delivers_nothing_refused_before(pair):
    a, b = pair
    with pytest.raises(ServiceError):
        message_send(sender_id=b.clerk_id, recipient_id=a.clerk_id, text="while blocked", client_message_id="c1")
    assert user_unblock(blocker_id=a.clerk_id, blocked_id=b.clerk_id) is True
    again = message_send(sender_id=b.clerk_id, recipient_id=a.clerk_id, text="after", client_message_id="c1")
    assert again.created  # the same clientMessageId was never stored: this is a new message
    assert list(Message.objects.filter(recipient=a).values_list("content", flat=True)) == ["after"]


def test_a_deleted_user_takes_their_blocks_with_them(pair):
    a, b = pair
    User.objects.filter(pk=b.pk).delete()
    assert not Block.objects.exists()


def test_blocks_anyone_follows_the_blockers_blocks(pair, make_user):
    a, b = pair
    c = make_user("carol")
    blocks_anyone = lambda: User.objects.get(pk=a.pk).blocks_anyone  # noqa: E731
    assert blocks_anyone() is True and User.objects.get(pk=b.pk).blocks_anyone is False
    user_block(blocker_id=a.clerk_id, blocked_id=c.clerk_id)
    user_unblock(blocker_id=a.clerk_id, blocked_id=b.clerk_id)
    assert blocks_anyone() is True  # c is still blocked
    user_unblock(blocker_id=a.clerk_id, blocked_id=c.clerk_id)
    assert blocks_anyone() is False
