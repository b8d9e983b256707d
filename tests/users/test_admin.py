"""The admin is for staff only; user moderation actions go through services and the admin log."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.test import override_settings

from users.models import User

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    "/admin/",
    "/admin/users/user/",
    "/admin/contacts/contact/",
    "/admin/chat/conversation/",
    "/admin/chat/message/",
    "/admin/users/webhookdelivery/",
    "/admin/users/block/",
    "/admin/reports/report/",
]


@pytest.fixture
def moderator(client):
    staff = get_user_model().objects.create_superuser("moderator", "mod@example.com", "pw-not-used")
    client.force_login(staff)
    return staff


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_anonymous_is_sent_to_the_login_page(client, page):
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_a_signed_in_non_staff_account_is_refused(client, page):
    client.force_login(get_user_model().objects.create_user("visitor", password="pw-not-used"))
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_without_permissions_cannot_open_the_models(client):
    client.force_login(get_user_model().objects.create_user("intern", password="x", is_staff=True))
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/users/user/").status_code == 403


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_staff_reach_every_page(client, moderator, make_user, page):
    make_user("someone")
    assert client.get(page).status_code == 200


def test_user_pages_show_no_secrets(client, moderator, make_user):
    user = make_user("ann")
    secrets = {
        "SECRET_KEY": "s3cret-key-value-xyz",
        "CLERK_WEBHOOK_SECRET": "whsec_topsecretvalue",
        "CLERK_JWT_KEY": "pem-key-value-abc",
    }
    with override_settings(**secrets):
        pages = [
            client.get(page).content
            for page in (
                "/admin/",
                "/admin/users/user/",
                f"/admin/users/user/{quote(user.pk)}/change/",
                "/admin/users/webhookdelivery/",
            )
        ]
    for page in pages:
        for value in secrets.values():
            assert value.encode() not in page


def test_search_by_id_name_and_email(client, moderator, make_user):
    ann = make_user("ann", full_name="Annabel Lee", email="annabel@example.org")
    bob = make_user("bob")
    for query in (ann.clerk_id, "Annabel", "annabel@example"):
        page = client.get("/admin/users/user/", {"q": query}).content.decode()
        assert ann.clerk_id in page and bob.clerk_id not in page


def test_filters_by_status_paralyzed_and_suspension(client, moderator, make_user):
    from django.utils import timezone

    eyes = make_user("eyes", is_paralyzed=True, status="online")
    plain = make_user("plain")
    banned = make_user("banned", suspended_at=timezone.now())

    def listed(**params):
        page = client.get("/admin/users/user/", params).content.decode()
        return {u.clerk_id for u in (eyes, plain, banned) if u.clerk_id in page}

    assert listed(is_paralyzed__exact="1") == {eyes.clerk_id}
    assert listed(status__exact="online") == {eyes.clerk_id}
    assert listed(suspended="yes") == {banned.clerk_id}
    assert listed(suspended="no") == {eyes.clerk_id, plain.clerk_id}


def _act(client, action, users, **extra):
    return client.post(
        "/admin/users/user/",
        {"action": action, "_selected_action": [u.pk for u in users], "index": 0, **extra},
        follow=True,
    )


def test_suspend_action_suspends_and_logs(client, moderator, make_user):
    ann, bob = make_user("ann"), make_user("bob")
    response = _act(client, "suspend_users", [ann], reason="Harassment reported by bob")
    assert response.status_code == 200
    assert "Suspended 1 user(s)." in response.content.decode()
    ann.refresh_from_db()
    bob.refresh_from_db()
    assert ann.suspended_at is not None and ann.suspension_reason == "Harassment reported by bob"
    assert not ann.can_chat and bob.suspended_at is None
    entry = LogEntry.objects.get(object_id=ann.pk)
    assert entry.user == moderator and entry.action_flag == CHANGE
    assert "Harassment reported by bob" in entry.get_change_message()


def test_suspend_without_a_reason_changes_nothing(client, moderator, make_user):
    ann = make_user("ann")
    response = _act(client, "suspend_users", [ann], reason="  ")
    assert "Give a reason to suspend." in response.content.decode()
    ann.refresh_from_db()
    assert ann.suspended_at is None
    assert not LogEntry.objects.exists()


def test_unsuspend_action_lifts_and_logs(client, moderator, make_user):
    ann = make_user("ann")
    _act(client, "suspend_users", [ann], reason="spam")
    _act(client, "unsuspend_users", [ann])
    ann.refresh_from_db()
    assert ann.suspended_at is None and ann.suspension_reason == "" and ann.can_chat
    assert list(LogEntry.objects.filter(object_id=ann.pk).order_by("id").values_list("change_message", flat=True)) == [
        "Suspended: spam",
        "Suspension lifted",
    ]


def test_suspension_fields_cannot_be_edited_in_the_form(client, moderator, make_user):
    ann = make_user("ann")
    response = client.post(
        f"/admin/users/user/{quote(ann.pk)}/change/",
        {
            "username": ann.username,
            "full_name": "New Name",
            "email": ann.email,
            "image_url": "",
            "suspended_at_0": "2020-01-01",
            "suspended_at_1": "00:00:00",
            "suspension_reason": "sneaky",
        },
    )
    assert (response.status_code, response["Location"]) == (302, "/admin/users/user/")
    ann.refresh_from_db()
    assert ann.full_name == "New Name"
    assert ann.suspended_at is None and ann.suspension_reason == ""


def test_moderators_cannot_add_users_by_hand(client, moderator):
    assert client.get("/admin/users/user/add/").status_code == 403
    assert not User.objects.exists()


def test_view_only_staff_cannot_suspend(client, make_user):
    from django.contrib.auth.models import Permission

    viewer = get_user_model().objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_user", content_type__app_label="users"))
    client.force_login(viewer)
    ann = make_user("ann")
    page = client.get("/admin/users/user/").content.decode()
    assert ann.clerk_id in page and 'value="suspend_users"' not in page
    _act(client, "suspend_users", [ann], reason="spam")
    ann.refresh_from_db()
    assert ann.suspended_at is None


def test_the_sidebar_names_each_model_once_and_spells_them_right(client, moderator):
    html = client.get("/admin/").content.decode()
    assert "Webhook deliveries" in html and "deliverys" not in html
    assert "BioSync users" in html
    assert html.count(">Users<") == 1  # Django's own admin accounts
