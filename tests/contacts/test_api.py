"""/contacts routes as the frontend calls them, and with hostile input."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat.services import message_send
from contacts.models import Contact

pytestmark = pytest.mark.django_db
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CONTACT_FIELDS = {
    "id",
    "contactClerkId",
    "contactName",
    "nickname",
    "profileImage",
    "lastMessagePreview",
    "lastMessageAt",
    "unreadCount",
    "status",
    "isParalyzed",
}


def test_list_has_the_frontend_fields_from_the_local_profile_and_presence(api_as, make_user, mark_online):
    me = make_user("me")
    bob = make_user("bob", full_name="Bob Builder", image_url="https://img.example/bob.png", is_paralyzed=True)
    Contact.objects.create(owner=me, contact=bob, nickname="Bobby")
    message_send(sender_id=bob.clerk_id, recipient_id=me.clerk_id, text="hello there")
    mark_online(bob)

    response = api_as(me).get("/contacts")
    assert response.status_code == 200
    (contact,) = response.json()["contacts"]
    assert CONTACT_FIELDS <= set(contact)
    assert contact["contactClerkId"] == bob.clerk_id
    assert contact["contactName"] == "Bob Builder"
    assert contact["nickname"] == "Bobby"
    assert contact["profileImage"] == "https://img.example/bob.png"
    assert contact["lastMessagePreview"] == "hello there"
    assert ISO_Z.match(contact["lastMessageAt"])
    assert contact["unreadCount"] == 1
    assert contact["status"] == "online"
    assert contact["isParalyzed"] is True
    assert isinstance(contact["id"], int)


def test_status_comes_from_presence_not_the_stored_column(api_as, make_user):
    me = make_user("me")
    stale = make_user("stale", status="online")  # a crashed seed server would have left this
    Contact.objects.create(owner=me, contact=stale)
    assert api_as(me).get("/contacts").json()["contacts"][0]["status"] == "offline"


def test_list_is_newest_message_first_and_never_messaged_last(api_as, make_user):
    me = make_user("me")
    now = timezone.now()
    old, new, never = make_user("old"), make_user("new"), make_user("never")
    Contact.objects.create(owner=me, contact=never)
    Contact.objects.create(owner=me, contact=old, last_message_at=now - timedelta(hours=1))
    Contact.objects.create(owner=me, contact=new, last_message_at=now)
    order = [c["contactClerkId"] for c in api_as(me).get("/contacts").json()["contacts"]]
    assert order == [new.clerk_id, old.clerk_id, never.clerk_id]


def test_list_shows_only_the_callers_rows(api_as, make_user):
    me, other, third = make_user("me"), make_user("other"), make_user("third")
    Contact.objects.create(owner=other, contact=third)
    assert api_as(me).get("/contacts").json() == {"contacts": []}
    assert api_as("user_without_profile").get("/contacts").json() == {"contacts": []}


def _count_list_queries(api_as, me) -> int:
    client = api_as(me)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/contacts")
    assert response.status_code == 200
    return len(queries), len(response.json()["contacts"])


def test_list_makes_the_same_number_of_queries_for_1_and_50_contacts(api_as, make_user, mark_online):
    me = make_user("me")
    first = make_user("c0")
    Contact.objects.create(owner=me, contact=first)
    one, n = _count_list_queries(api_as, me)
    assert n == 1
    for i in range(1, 50):
        other = make_user(f"c{i}")
        Contact.objects.create(owner=me, contact=other, last_message_at=timezone.now(), last_message_preview="hi")
        if i % 3 == 0:
            mark_online(other)
    fifty, n = _count_list_queries(api_as, me)
    assert n == 50
    assert fifty == one
    assert one == 1  # presence comes from Redis (or this process), not the database


def test_list_is_byte_for_byte_what_contact_serializer_writes(api_as, make_user, mark_online):
    """GET /contacts builds its rows without ContactSerializer (contact_data): same JSON, same bytes."""
    from django.db.models import F
    from rest_framework.renderers import JSONRenderer

    from contacts.api.serializers import ContactListSerializer
    from users.models import User
    from users.presence import online_ids

    me = make_user("me")
    full = make_user("full", full_name="Ann Ä 😀", image_url="https://img.example/a.png", is_paralyzed=True)
    bare = make_user("bare", username="", full_name="")
    named = make_user("named", username="uname", full_name="")
    seen = make_user("seen")
    User.objects.filter(pk=seen.pk).update(last_seen_at=timezone.now().replace(microsecond=999999))
    Contact.objects.create(owner=me, contact=full, nickname="Nick \u2028 line")
    Contact.objects.create(owner=me, contact=bare)
    Contact.objects.create(owner=me, contact=named, nickname="")
    Contact.objects.create(owner=me, contact=seen, last_message_at=timezone.now().replace(microsecond=0))
    message_send(sender_id=full.clerk_id, recipient_id=me.clerk_id, text="hello ✓")
    mark_online(named)

    response = api_as(me).get("/contacts")
    contacts = list(
        Contact.objects.filter(owner=me)
        .select_related("contact")
        .order_by(F("last_message_at").desc(nulls_last=True), "-created_at", "-id")
    )
    online = online_ids(c.contact_id for c in contacts)
    expected = ContactListSerializer({"contacts": contacts}, context={"online": online}).data
    assert len(expected["contacts"]) == 4
    assert response.content == JSONRenderer().render(expected)


def test_add_contact_as_the_frontend_does(api_as, make_user):
    me = make_user("me")
    ann = make_user("ann", full_name="Ann A")
    response = api_as(me).post("/contacts", {"contactClerkId": ann.clerk_id, "nickname": "Annie"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert CONTACT_FIELDS <= set(body["contact"])
    assert body["contact"]["contactClerkId"] == ann.clerk_id
    assert body["contact"]["nickname"] == "Annie" and body["contact"]["contactName"] == "Ann A"
    assert body["contact"]["lastMessageAt"] is None and body["contact"]["unreadCount"] == 0
    row = Contact.objects.get(owner=me, contact=ann)
    assert body["contact"]["id"] == row.pk and row.nickname == "Annie"


def test_add_contact_without_a_nickname(api_as, make_user):
    me, ann = make_user("me"), make_user("ann")
    body = api_as(me).post("/contacts", {"contactClerkId": ann.clerk_id}, format="json").json()
    assert body["contact"]["nickname"] is None


@pytest.mark.parametrize(
    "case, message",
    [
        ("unknown", "User not found"),
        ("self", "You cannot add yourself as a contact"),
        ("existing", "Contact already exists"),
        ("deactivated", "User not found"),
    ],
)
def test_add_contact_refusals_are_400(api_as, make_user, case, message):
    me, ann = make_user("me"), make_user("ann")
    Contact.objects.create(owner=me, contact=ann)
    target = {
        "unknown": "user_does_not_exist",
        "self": me.clerk_id,
        "existing": ann.clerk_id,
        "deactivated": make_user("gone", is_active=False).clerk_id,
    }[case]
    response = api_as(me).post("/contacts", {"contactClerkId": target}, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": message}
    assert Contact.objects.filter(owner=me).count() == 1


def test_add_contact_without_own_profile_is_400(api_as, make_user):
    ann = make_user("ann")
    response = api_as("user_no_profile").post("/contacts", {"contactClerkId": ann.clerk_id}, format="json")
    assert response.status_code == 400
    assert "profile" in response.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"contactClerkId": 5},
        {"contactClerkId": None},
        {"contactClerkId": ["a"]},
        {"contactClerkId": "x", "nickname": 5},
        {"contactClerkId": "x", "nickname": "n" * 256},
        {"contactClerkId": "a\x00b"},
        [],
        "x",
        3,
    ],
)
def test_add_contact_refuses_wrong_types(api_as, make_user, body):
    me = make_user("me")
    response = api_as(me).post("/contacts", body, format="json")
    assert response.status_code == 400
    assert isinstance(response.json()["error"], str)
    assert not Contact.objects.filter(owner=me).exists()


def test_rename_and_delete_own_contact(api_as, make_user):
    me, ann = make_user("me"), make_user("ann")
    row = Contact.objects.create(owner=me, contact=ann, nickname="A")
    response = api_as(me).patch(f"/contacts/{row.pk}", {"nickname": "Annie"}, format="json")
    assert response.status_code == 200
    assert response.json()["success"] is True and response.json()["contact"]["nickname"] == "Annie"
    assert response.json()["contact"]["contactClerkId"] == ann.clerk_id
    row.refresh_from_db()
    assert row.nickname == "Annie"
    for cleared in (None, ""):
        response = api_as(me).patch(f"/contacts/{row.pk}", {"nickname": cleared}, format="json")
        assert response.json()["contact"]["nickname"] is None

    response = api_as(me).delete(f"/contacts/{row.pk}")
    assert response.status_code == 200 and response.json() == {"success": True}
    assert not Contact.objects.filter(pk=row.pk).exists()
    assert api_as(me).delete(f"/contacts/{row.pk}").status_code == 404


def test_other_users_rows_are_404_and_untouched(api_as, make_user):
    me, other, ann = make_user("me"), make_user("other"), make_user("ann")
    theirs = Contact.objects.create(owner=other, contact=ann, nickname="theirs")
    patch = api_as(me).patch(f"/contacts/{theirs.pk}", {"nickname": "mine now"}, format="json")
    assert patch.status_code == 404 and patch.json() == {"error": "Contact not found"}
    delete = api_as(me).delete(f"/contacts/{theirs.pk}")
    assert delete.status_code == 404 and delete.json() == {"error": "Contact not found"}
    theirs.refresh_from_db()
    assert theirs.nickname == "theirs"


@pytest.mark.parametrize("raw_id", ["abc", "-1", "0", "1.5", "9223372036854775808", "99999999999999999999999", "%20"])
def test_bad_contact_ids_are_400(api_as, make_user, raw_id):
    me = make_user("me")
    for response in (
        api_as(me).patch(f"/contacts/{raw_id}", {"nickname": "x"}, format="json"),
        api_as(me).delete(f"/contacts/{raw_id}"),
    ):
        assert response.status_code == 400
        assert response.json() == {"error": "id must be a positive integer"}


def test_largest_bigint_id_is_a_plain_404(api_as, make_user):
    me = make_user("me")
    assert api_as(me).delete("/contacts/9223372036854775807").status_code == 404


@pytest.mark.parametrize("body", [{}, {"nickname": 5}, {"nickname": True}, {"nickname": "n" * 256}, ["nickname"]])
def test_rename_refuses_wrong_types(api_as, make_user, body):
    me, ann = make_user("me"), make_user("ann")
    row = Contact.objects.create(owner=me, contact=ann, nickname="keep")
    response = api_as(me).patch(f"/contacts/{row.pk}", body, format="json")
    assert response.status_code == 400
    row.refresh_from_db()
    assert row.nickname == "keep"


def test_unsupported_methods_are_405_with_an_error_body(api_as, make_user):
    me = make_user("me")
    response = api_as(me).put("/contacts/1", {"nickname": "x"}, format="json")
    assert response.status_code == 405 and "error" in response.json()
