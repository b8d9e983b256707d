"""POST /webhooks/clerk: Svix-signed Clerk user events applied once; anything else refused, changing nothing."""

import base64
import json
import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from svix.webhooks import Webhook

from chat.models import Message
from chat.services import message_send
from kernel.errors import ServiceError
from users.models import PendingProfile, User, WebhookDelivery
from users.selectors import users_search
from users.services import user_create

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.CLERK_WEBHOOK_SECRET = SECRET


def clerk_user(
    clerk_id,
    *,
    username="alice",
    first="Alice",
    last="Liddell",
    email="alice@example.com",
    image="https://img.clerk.com/alice.png",
    updated_at=None,
):
    return {
        "id": clerk_id,
        "object": "user",
        "username": username,
        "first_name": first,
        "last_name": last,
        "image_url": image,
        "primary_email_address_id": "idn_2",
        "email_addresses": [
            {"id": "idn_1", "email_address": "old@example.com"},
            {"id": "idn_2", "email_address": email},
        ],
        "updated_at": updated_at,
    }


def deliver(event_type=None, data=None, *, msg_id=None, at=None, secret=SECRET, body=None, headers=None):
    body = body if body is not None else json.dumps({"type": event_type, "object": "event", "data": data})
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    if headers is None:
        headers = {
            "svix-id": msg_id,
            "svix-timestamp": str(int(at.timestamp())),
            "svix-signature": Webhook(secret).sign(msg_id, at, body),
        }
    return Client().post("/webhooks/clerk", data=body, content_type="application/json", headers=headers)


def profile(clerk_id):
    user = User.objects.get(clerk_id=clerk_id)
    return (user.username, user.full_name, user.email, user.image_url, user.is_active)


def test_user_updated_is_applied_to_an_existing_user(make_user):
    user = make_user("alice")
    response = deliver("user.updated", clerk_user(user.clerk_id, username="alice_l", updated_at=1000))
    assert response.status_code == 200, response.content
    assert response.json()["result"] == "applied"
    assert profile(user.clerk_id) == (
        "alice_l",
        "Alice Liddell",
        "alice@example.com",
        "https://img.clerk.com/alice.png",
        True,
    )


def test_user_created_before_onboarding_waits_for_post_users():
    clerk_id = f"user_{uuid.uuid4().hex[:10]}"
    assert deliver("user.created", clerk_user(clerk_id, updated_at=1000)).status_code == 200
    # No profile yet: GET /users/me still answers null and the user chooses isParalyzed.
    assert not User.objects.filter(clerk_id=clerk_id).exists()
    user = user_create(clerk_id=clerk_id, is_paralyzed=True)
    assert (user.username, user.full_name, user.email, user.is_paralyzed) == (
        "alice",
        "Alice Liddell",
        "alice@example.com",
        True,
    )
    assert not PendingProfile.objects.filter(clerk_id=clerk_id).exists()


def test_an_older_update_arriving_late_is_ignored(make_user):
    user = make_user("alice")
    assert deliver("user.updated", clerk_user(user.clerk_id, username="newer", updated_at=2000)).status_code == 200
    assert deliver("user.updated", clerk_user(user.clerk_id, username="older", updated_at=1000)).status_code == 200
    assert profile(user.clerk_id)[0] == "newer"


def test_user_deleted_deactivates_and_keeps_messages(make_user, django_capture_on_commit_callbacks):
    alice, bob = make_user("alice"), make_user("bob")
    message_send(sender_id=bob.clerk_id, recipient_id=alice.clerk_id, text="hello")
    # A status no socket backs (a crashed process): the deactivation repairs it after commit.
    User.objects.filter(clerk_id=alice.clerk_id).update(status="online")

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver("user.deleted", {"id": alice.clerk_id, "object": "user", "deleted": True})
    assert response.status_code == 200 and response.json()["result"] == "deactivated"

    alice.refresh_from_db()
    assert (alice.is_active, alice.status) == (False, "offline")
    assert users_search(query=alice.username, exclude_clerk_id=bob.clerk_id) == []
    with pytest.raises(ServiceError) as refused:
        message_send(sender_id=bob.clerk_id, recipient_id=alice.clerk_id, text="still there?")
    assert refused.value.code == "recipient_unavailable"
    assert Message.objects.filter(sender_id=bob.clerk_id, recipient_id=alice.clerk_id).count() == 1


def _assert_refused_without_change(response, status, user):
    assert response.status_code == status, response.content
    assert set(response.json()) == {"error"}
    assert profile(user.clerk_id)[0] == user.username


def test_bad_signature_is_refused(make_user):
    user = make_user("alice")
    other_secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    _assert_refused_without_change(deliver("user.updated", clerk_user(user.clerk_id), secret=other_secret), 400, user)
    assert not WebhookDelivery.objects.exists()


def test_tampered_body_is_refused(make_user):
    user = make_user("alice")
    body = json.dumps({"type": "user.updated", "data": clerk_user(user.clerk_id)})
    at = datetime.now(UTC)
    headers = {
        "svix-id": "msg_1",
        "svix-timestamp": str(int(at.timestamp())),
        "svix-signature": Webhook(SECRET).sign("msg_1", at, body),
    }
    tampered = body.replace('"alice"', '"mallory"')
    _assert_refused_without_change(deliver(body=tampered, headers=headers), 400, user)


def test_stale_timestamp_is_refused(make_user):
    user = make_user("alice")
    stale = datetime.now(UTC) - timedelta(minutes=6)
    response = deliver("user.updated", clerk_user(user.clerk_id), at=stale)
    _assert_refused_without_change(response, 400, user)
    assert "too old" in response.json()["error"]


def test_missing_signature_headers_are_refused(make_user):
    user = make_user("alice")
    body = json.dumps({"type": "user.updated", "data": clerk_user(user.clerk_id)})
    _assert_refused_without_change(deliver(body=body, headers={}), 400, user)
    _assert_refused_without_change(
        deliver(body=body, headers={"svix-id": "x", "svix-timestamp": "1", "svix-signature": "junk"}), 400, user
    )


def test_replay_is_refused(make_user):
    user = make_user("alice")
    first = clerk_user(user.clerk_id, username="first")
    at = datetime.now(UTC)
    assert deliver("user.updated", first, msg_id="msg_replayed", at=at).status_code == 200
    assert deliver("user.updated", clerk_user(user.clerk_id, username="second")).status_code == 200
    replay = deliver("user.updated", first, msg_id="msg_replayed", at=at)
    assert replay.status_code == 409
    assert "replay" in replay.json()["error"]
    assert profile(user.clerk_id)[0] == "second"


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps({"type": "user.updated"}),
        json.dumps({"type": "user.updated", "data": {"username": "no id"}}),
        json.dumps({"type": "user.deleted", "data": {"id": "has spaces in id"}}),
        json.dumps(["a list"]),
    ],
)
def test_malformed_payload_is_refused_and_not_recorded(make_user, body):
    user = make_user("alice")
    _assert_refused_without_change(deliver(body=body), 400, user)
    assert not WebhookDelivery.objects.exists()


def test_other_event_types_are_acknowledged_and_ignored():
    response = deliver("session.created", {"id": "sess_1", "user_id": "user_x"})
    assert response.status_code == 200 and response.json()["result"] == "ignored"


def test_without_secret_the_endpoint_is_not_configured(settings, make_user):
    settings.CLERK_WEBHOOK_SECRET = ""
    user = make_user("alice")
    _assert_refused_without_change(deliver("user.updated", clerk_user(user.clerk_id, username="x")), 503, user)


def test_only_post_is_allowed():
    response = Client().get("/webhooks/clerk")
    assert response.status_code == 405 and "error" in response.json()
