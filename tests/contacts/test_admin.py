"""Contacts added or renamed in the admin go through contacts.services, with its refusals shown."""

import pytest
from django.contrib.auth import get_user_model

from contacts.models import Contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(client):
    client.force_login(get_user_model().objects.create_superuser("moderator", "mod@example.com", "pw-not-used"))


def _add(client, owner, contact, nickname=""):
    return client.post("/admin/contacts/contact/add/", {"owner": owner.pk, "contact": contact.pk, "nickname": nickname})


def test_adding_a_contact_goes_through_the_service(client, moderator, make_user):
    ann, bob = make_user("ann"), make_user("bob")
    response = _add(client, ann, bob, "B")
    assert response.status_code == 302, response.content.decode()[:2000]
    contact = Contact.objects.get(owner=ann, contact=bob)
    assert contact.nickname == "B"
    assert response["Location"].endswith("/admin/contacts/contact/")


@pytest.mark.parametrize("case", ["yourself", "duplicate", "deleted user"])
def test_the_services_refusals_show_as_form_errors(client, moderator, make_user, case):
    ann, bob = make_user("ann"), make_user("bob", is_active=case != "deleted user")
    if case == "duplicate":
        Contact.objects.create(owner=ann, contact=bob)
    response = _add(client, ann, ann if case == "yourself" else bob)
    assert response.status_code == 200  # the form again, with the error
    expected = {
        "yourself": "You cannot add yourself",
        "duplicate": "Contact already exists",
        "deleted user": "User not found",
    }
    assert expected[case] in response.content.decode()
    assert Contact.objects.filter(owner=ann).count() == (1 if case == "duplicate" else 0)


def test_renaming_keeps_the_two_users(client, moderator, make_user):
    ann, bob, eve = make_user("ann"), make_user("bob"), make_user("eve")
    contact = Contact.objects.create(owner=ann, contact=bob)
    client.post(
        f"/admin/contacts/contact/{contact.pk}/change/", {"owner": eve.pk, "contact": eve.pk, "nickname": "Bobby"}
    )
    contact.refresh_from_db()
    assert (contact.owner_id, contact.contact_id, contact.nickname) == (ann.pk, bob.pk, "Bobby")
