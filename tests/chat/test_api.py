"""/conversations routes as the frontend calls them, and with hostile input."""

import re

import pytest
from django.utils import timezone

from chat.models import Conversation, Message
from chat.services import conversation_get_or_create, message_send
from contacts.models import Contact

pytestmark = pytest.mark.django_db
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
MESSAGE_FIELDS = {"id", "fromClerkId", "toClerkId", "content", "messageType", "isRead", "readAt", "createdAt", "isMine"}
OTHER_USER_FIELDS = {"clerkId", "username", "fullName", "profileImage", "nickname", "isParalyzed"}


@pytest.fixture
def pair(make_user):
    return make_user("me"), make_user("bob", full_name="Bob Builder", image_url="https://img.example/b.png")


def send(sender, recipient, text):
    return message_send(sender_id=sender.clerk_id, recipient_id=recipient.clerk_id, text=text).message


def chat(me, bob, count):
    """`count` messages alternating bob→me and me→bob; returns them oldest first."""
    return [send(bob, me, f"m{i}") if i % 2 == 0 else send(me, bob, f"m{i}") for i in range(count)]


def test_with_contact_creates_the_conversation_and_returns_the_frontend_shape(api_as, pair):
    me, bob = pair
    Contact.objects.create(owner=me, contact=bob, nickname="Bobby")
    response = api_as(me).get(f"/conversations/with/{bob.clerk_id}/messages?limit=50&offset=0")
    assert response.status_code == 200
    body = response.json()
    conversation = Conversation.objects.get()
    assert body["conversationId"] == conversation.pk
    assert body["messages"] == [] and body["hasMore"] is False
    assert OTHER_USER_FIELDS <= set(body["otherUser"])
    assert body["otherUser"]["clerkId"] == bob.clerk_id
    assert body["otherUser"]["fullName"] == "Bob Builder" and body["otherUser"]["nickname"] == "Bobby"
    assert body["otherUser"]["profileImage"] == "https://img.example/b.png"
    # Asking again finds the same conversation, from either side; without a nickname of bob's
    # for me, the header shows my display name.
    again = api_as(bob).get(f"/conversations/with/{me.clerk_id}/messages").json()
    assert again["conversationId"] == conversation.pk and again["otherUser"]["nickname"] == me.username
    assert Conversation.objects.count() == 1


def test_messages_have_the_frontend_fields_oldest_first_with_is_mine(api_as, pair):
    me, bob = pair
    sent = chat(me, bob, 3)
    body = api_as(me).get(f"/conversations/with/{bob.clerk_id}/messages").json()
    messages = body["messages"]
    assert [m["id"] for m in messages] == [m.pk for m in sent]
    assert all(MESSAGE_FIELDS <= set(m) for m in messages)
    first = messages[0]
    assert (first["fromClerkId"], first["toClerkId"], first["content"]) == (bob.clerk_id, me.clerk_id, "m0")
    assert first["messageType"] == "text" and first["isRead"] is False and first["readAt"] is None
    assert ISO_Z.match(first["createdAt"])
    assert [m["isMine"] for m in messages] == [False, True, False]
    assert first["removed"] is False


def test_paging_is_the_newest_window_after_offset_returned_oldest_first(api_as, pair):
    me, bob = pair
    ids = [m.pk for m in chat(me, bob, 10)]
    conversation_id = Conversation.objects.get().pk
    client = api_as(me)

    def page(query):
        response = client.get(f"/conversations/{conversation_id}/messages?{query}")
        assert response.status_code == 200, response.content
        return [m["id"] for m in response.json()["messages"]], response.json()["hasMore"]

    assert page("") == (ids, False)
    assert page("limit=3") == (ids[-3:], True)
    assert page("limit=3&offset=3") == (ids[-6:-3], True)
    assert page("limit=3&offset=9") == (ids[:1], False)
    assert page("limit=3&offset=10") == ([], False)
    assert page("limit=3&offset=9223372036854775807") == ([], False)
    # Cursors: older history, and catching up after a reconnect (oldest first, page by page).
    assert page(f"limit=3&before={ids[5]}") == (ids[2:5], True)
    assert page(f"limit=3&after={ids[5]}") == (ids[6:9], True)
    assert page(f"limit=3&after={ids[8]}") == (ids[9:], False)
    assert page(f"after={ids[-1]}") == ([], False)


def test_limit_defaults_to_50_and_is_capped_at_200(api_as, pair):
    me, bob = pair
    conversation = conversation_get_or_create(user_a=me.clerk_id, user_b=bob.clerk_id)
    now = timezone.now()
    Message.objects.bulk_create(
        Message(conversation=conversation, sender=bob, recipient=me, content=f"bulk {i}", created_at=now)
        for i in range(205)
    )
    client = api_as(me)
    assert len(client.get(f"/conversations/{conversation.pk}/messages").json()["messages"]) == 50
    # An empty value is the same as none (a client that always sends the key).
    assert len(client.get(f"/conversations/{conversation.pk}/messages?limit=&offset=").json()["messages"]) == 50
    body = client.get(f"/conversations/{conversation.pk}/messages?limit=1000").json()
    assert len(body["messages"]) == 200 and body["hasMore"] is True
    assert body["messages"][-1]["content"] == "bulk 204"


@pytest.mark.parametrize(
    "query",
    [
        "limit=abc",
        "limit=-1",
        "limit=0",
        "limit=1.5",
        "offset=-1",
        "offset=x",
        "limit=9223372036854775808",
        "offset=99999999999999999999",
        "after=abc",
        "after=0",
        "before=-5",
        "before=9223372036854775808",
        "limit=%00",
        "limit=%D9%A5",
    ],
)
def test_bad_paging_is_400(api_as, pair, query):
    me, bob = pair
    conversation = conversation_get_or_create(user_a=me.clerk_id, user_b=bob.clerk_id)
    for path in (f"/conversations/{conversation.pk}/messages", f"/conversations/with/{bob.clerk_id}/messages"):
        response = api_as(me).get(f"{path}?{query}")
        assert response.status_code == 400, (path, query, response.content)
        assert isinstance(response.json()["error"], str)


def test_before_and_after_together_are_refused(api_as, pair):
    # Moved out of the paging test above, which used to accept both and return the range between.
    me, bob = pair
    conversation = conversation_get_or_create(user_a=me.clerk_id, user_b=bob.clerk_id)
    response = api_as(me).get(f"/conversations/{conversation.pk}/messages?after=1&before=9")
    assert response.status_code == 400
    assert response.json()["error"] == "Give before or after, not both."


@pytest.mark.parametrize("query", ["limit=-1", "limit=0", "limit=abc", "limit=9223372036854775808"])
def test_a_bad_limit_says_what_is_allowed(api_as, pair, query):
    me, bob = pair
    response = api_as(me).get(f"/conversations/with/{bob.clerk_id}/messages?{query}")
    assert response.status_code == 400
    assert response.json()["error"] == "limit: Must be a whole number from 1 to 200."


def test_bad_paging_on_with_creates_no_conversation(api_as, pair):
    me, bob = pair
    assert api_as(me).get(f"/conversations/with/{bob.clerk_id}/messages?limit=-1").status_code == 400
    assert not Conversation.objects.exists()


@pytest.mark.parametrize("raw_id", ["abc", "-1", "0", "1e3", "9223372036854775808", "123456789012345678901234567890"])
def test_bad_conversation_ids_are_400(api_as, pair, raw_id):
    me, _ = pair
    for response in (
        api_as(me).get(f"/conversations/{raw_id}/messages"),
        api_as(me).post(f"/conversations/{raw_id}/read"),
    ):
        assert response.status_code == 400
        assert response.json() == {"error": "id must be a positive integer"}


def test_conversations_of_others_are_404(api_as, pair, make_user):
    me, bob = pair
    eve = make_user("eve")
    send(bob, me, "private")
    conversation_id = Conversation.objects.get().pk
    for response in (
        api_as(eve).get(f"/conversations/{conversation_id}/messages"),
        api_as(eve).post(f"/conversations/{conversation_id}/read"),
        api_as(eve).get("/conversations/9223372036854775807/messages"),
        api_as("user_without_profile").get(f"/conversations/{conversation_id}/messages"),
    ):
        assert response.status_code == 404
        assert response.json() == {"error": "Conversation not found"}
    assert Message.objects.get().is_read is False


@pytest.mark.parametrize("target", ["user_does_not_exist", "bad%20id", "a%00b", "x" * 300])
def test_with_unknown_user_is_404(api_as, pair, target):
    me, _ = pair
    response = api_as(me).get(f"/conversations/with/{target}/messages")
    assert response.status_code == 404
    assert response.json() == {"error": "User not found"}
    assert not Conversation.objects.exists()


def test_with_yourself_or_without_a_profile_is_400(api_as, pair):
    me, bob = pair
    assert api_as(me).get(f"/conversations/with/{me.clerk_id}/messages").status_code == 400
    response = api_as("user_without_profile").get(f"/conversations/with/{bob.clerk_id}/messages")
    assert response.status_code == 400 and "profile" in response.json()["error"]
    assert not Conversation.objects.exists()


def test_with_a_deactivated_user_opens_only_an_existing_conversation(api_as, pair, make_user):
    me, bob = pair
    send(bob, me, "before leaving")
    bob.is_active = False
    bob.save()
    body = api_as(me).get(f"/conversations/with/{bob.clerk_id}/messages").json()
    assert [m["content"] for m in body["messages"]] == ["before leaving"]
    gone = make_user("gone", is_active=False)
    assert api_as(me).get(f"/conversations/with/{gone.clerk_id}/messages").status_code == 404


def test_removed_messages_keep_their_place_with_content_hidden(api_as, pair):
    me, bob = pair
    kept, removed = send(bob, me, "fine"), send(bob, me, "abusive text")
    Message.objects.filter(pk=removed.pk).update(removed_at=timezone.now())
    for client in (api_as(me), api_as(bob)):
        messages = client.get(f"/conversations/{removed.conversation_id}/messages").json()["messages"]
        assert [(m["id"], m["content"], m["removed"]) for m in messages] == [
            (kept.pk, "fine", False),
            (removed.pk, "", True),
        ]
    last = api_as(me).get("/conversations").json()["conversations"][0]["lastMessage"]
    assert last["id"] == removed.pk and last["content"] == "" and last["removed"] is True
    assert b"abusive" not in api_as(me).get("/conversations").content


def test_conversations_list_newest_first_with_seed_fields_and_summaries(api_as, make_user, mark_online):
    me, bob, ann, cat = make_user("me"), make_user("bob"), make_user("ann"), make_user("cat")
    Contact.objects.create(owner=me, contact=cat, nickname="Kitty")
    send(bob, me, "from bob")
    send(me, ann, "to ann")
    send(bob, me, "bob again")
    empty = conversation_get_or_create(user_a=cat.clerk_id, user_b=me.clerk_id)
    conversation_get_or_create(user_a=bob.clerk_id, user_b=ann.clerk_id)  # not mine
    mark_online(bob)

    conversations = api_as(me).get("/conversations").json()["conversations"]
    assert [c["otherUserClerkId"] for c in conversations] == [bob.clerk_id, ann.clerk_id, cat.clerk_id]
    first = conversations[0]
    assert {"id", "otherUserClerkId", "createdAt", "lastMessageAt"} <= set(first)
    assert ISO_Z.match(first["createdAt"]) and ISO_Z.match(first["lastMessageAt"])
    assert first["unreadCount"] == 2
    assert first["lastMessage"]["content"] == "bob again" and first["lastMessage"]["isMine"] is False
    assert first["otherUser"]["status"] == "online"
    assert conversations[1]["unreadCount"] == 0 and conversations[1]["lastMessage"]["isMine"] is True
    assert conversations[1]["otherUser"]["status"] == "offline"
    assert conversations[2]["id"] == empty.pk
    assert conversations[2]["lastMessageAt"] is None and conversations[2]["lastMessage"] is None
    assert conversations[2]["otherUser"]["nickname"] == "Kitty"
    assert api_as("user_without_profile").get("/conversations").json() == {"conversations": []}


def test_mark_read_marks_incoming_messages_and_resets_unread(api_as, pair):
    me, bob = pair
    incoming = [send(bob, me, "one"), send(bob, me, "two")]
    mine = send(me, bob, "mine")
    conversation_id = mine.conversation_id
    assert Contact.objects.get(owner=me, contact=bob).unread_count == 2

    response = api_as(me).post(f"/conversations/{conversation_id}/read")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["conversationId"] == conversation_id
    assert body["messageIds"] == [m.pk for m in incoming]
    assert ISO_Z.match(body["readAt"])
    assert Contact.objects.get(owner=me, contact=bob).unread_count == 0
    assert set(Message.objects.filter(is_read=True).values_list("pk", flat=True)) == {m.pk for m in incoming}
    # The sender's own message stays unread until bob reads it; reading again is a no-op.
    assert api_as(me).post(f"/conversations/{conversation_id}/read").json()["messageIds"] == []
    messages = api_as(bob).get(f"/conversations/{conversation_id}/messages").json()["messages"]
    assert [m["isRead"] for m in messages] == [True, True, False]
    assert all(ISO_Z.match(m["readAt"]) for m in messages[:2])


def test_conversations_list_query_count_does_not_grow_with_conversations(api_as, make_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    me = make_user("me")

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = api_as(me).get("/conversations")
        assert response.status_code == 200
        return len(queries), len(response.json()["conversations"])

    send(make_user("first"), me, "hi")
    one = count()
    for i in range(20):
        other = make_user(f"o{i}")
        Contact.objects.create(owner=me, contact=other, nickname=f"n{i}")
        if i % 2:
            send(other, me, "hello")
        else:
            send(me, other, "hey")
    twenty_one = count()
    assert (one[1], twenty_one[1]) == (1, 21)
    assert one[0] == twenty_one[0] <= 3


def test_messages_page_is_byte_for_byte_what_the_serializers_write(api_as, pair, mark_online):
    """A history page is built without MessagesResponseSerializer (message_data, other_user_data)."""
    from rest_framework.renderers import JSONRenderer

    from chat import selectors
    from chat.api.serializers import MessagesResponseSerializer
    from users.presence import online_ids

    me, bob = pair
    Contact.objects.create(owner=me, contact=bob, nickname="Bobby")
    messages = chat(me, bob, 6)
    Message.objects.filter(pk=messages[1].pk).update(removed_at=timezone.now())
    Message.objects.filter(pk=messages[2].pk).update(
        is_read=True,
        read_at=timezone.now().replace(microsecond=999999),
        delivered_at=timezone.now().replace(microsecond=0),
    )
    message_send(sender_id=me.clerk_id, recipient_id=bob.clerk_id, text="ünï \u2029 😀", client_message_id="c-1")
    Message.objects.filter(pk=messages[3].pk).update(edited_at=timezone.now().replace(microsecond=123456))
    Message.objects.filter(pk=messages[4].pk).update(deleted_at=timezone.now())
    mark_online(bob)
    conversation_id = messages[0].conversation_id

    for who, query in ((me, "?limit=4"), (bob, ""), (me, "?limit=3&offset=2"), (bob, f"?after={messages[0].pk}")):
        response = api_as(who).get(f"/conversations/{conversation_id}/messages{query}")
        conversation = selectors.conversation_for_participant(conversation_id=conversation_id, clerk_id=who.clerk_id)
        other = selectors.other_user(conversation, who.clerk_id)
        shown = [m["id"] for m in response.json()["messages"]]
        assert len(shown) == (4 if "limit=4" in query else 3 if "offset" in query else 6 if "after" in query else 7)
        page = list(Message.objects.filter(id__in=shown).order_by("id"))
        context = {
            "me": who.clerk_id,
            "online": online_ids([other.clerk_id]),
            "nicknames": selectors.other_users_nicknames(clerk_id=who.clerk_id, users=[other]),
        }
        body = {
            "conversationId": conversation_id,
            "otherUser": other,
            "messages": page,
            "hasMore": response.json()["hasMore"],
        }
        assert response.content == JSONRenderer().render(MessagesResponseSerializer(body, context=context).data)


def test_conversations_list_is_byte_for_byte_what_the_serializers_write(api_as, pair, make_user, mark_online):
    """GET /conversations is built without ConversationListSerializer (conversation_data)."""
    from rest_framework.renderers import JSONRenderer

    from chat import selectors
    from chat.api.serializers import ConversationListSerializer
    from users.presence import online_ids

    me, bob = pair
    ann = make_user("ann", username="", full_name="Ann Ä")
    Contact.objects.create(owner=me, contact=bob, nickname="Bobby")
    removed = chat(me, bob, 3)[-1]
    Message.objects.filter(pk=removed.pk).update(removed_at=timezone.now())
    conversation_get_or_create(user_a=me.clerk_id, user_b=ann.clerk_id)
    mark_online(ann)

    response = api_as(me).get("/conversations")
    conversations = selectors.conversations_list(clerk_id=me.clerk_id)
    for conversation in conversations:
        last = conversation.last_message
        conversation.last_message = Message.objects.get(pk=last["id"]) if last else None
    others = [selectors.other_user(c, me.clerk_id) for c in conversations]
    context = {
        "me": me.clerk_id,
        "online": online_ids(u.clerk_id for u in others),
        "nicknames": selectors.other_users_nicknames(clerk_id=me.clerk_id, users=others),
    }
    expected = ConversationListSerializer({"conversations": conversations}, context=context).data
    assert len(expected["conversations"]) == 2 and expected["conversations"][0]["lastMessage"]["removed"] is True
    assert response.content == JSONRenderer().render(expected)


def test_messages_page_query_count_does_not_grow_with_the_page(api_as, pair):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    me, bob = pair
    conversation_id = chat(me, bob, 1)[0].conversation_id

    def count(limit):
        with CaptureQueriesContext(connection) as queries:
            response = api_as(me).get(f"/conversations/{conversation_id}/messages?limit={limit}")
        assert response.status_code == 200
        return len(queries), len(response.json()["messages"])

    one = count(1)
    chat(me, bob, 60)
    assert count(50) == (one[0], 50)
    assert one[0] == 2  # the conversation with both users and the caller's nickname for the other; the page


@pytest.mark.parametrize(
    ("username", "full_name", "nickname", "shown"),
    [
        ("bobcat", "Bob Builder", None, "bobcat"),  # the old server's display name: username first
        ("", "Bob Builder", None, "Bob Builder"),
        ("bobcat", "Bob Builder", "Bobby", "Bobby"),  # the caller's own nickname wins
        ("", "", None, None),  # nothing to show: the page falls back to the id
    ],
)
def test_other_user_nickname_is_what_the_chat_header_shows(api_as, make_user, username, full_name, nickname, shown):
    me, bob = make_user("me"), make_user("bob", username=username, full_name=full_name)
    if nickname:
        Contact.objects.create(owner=me, contact=bob, nickname=nickname)
    with_route = api_as(me).get(f"/conversations/with/{bob.clerk_id}/messages").json()
    by_id = api_as(me).get(f"/conversations/{with_route['conversationId']}/messages").json()
    listed = api_as(me).get("/conversations").json()["conversations"][0]
    for other in (with_route["otherUser"], by_id["otherUser"], listed["otherUser"]):
        assert other["nickname"] == shown
        # The other fields keep their own values.
        assert (other["clerkId"], other["username"], other["fullName"]) == (bob.clerk_id, username, full_name)
