"""POST /reports: who may report what, the reasons, repeats, the rate limit and bad input."""

from __future__ import annotations

import pytest
from django.test import override_settings

from reports.models import Report, ReportReason

pytestmark = pytest.mark.django_db

TOO_LONG = "Ensure this field has no more than 1000 characters."


def test_report_a_message_you_received(api_as, talk):
    ann, bob, messages = talk
    response = api_as(bob).post(
        "/reports", {"messageId": messages[0].pk, "reason": "harassment", "details": " keeps going "}, format="json"
    )
    assert response.status_code == 201
    report = response.json()["report"]
    assert report == {
        "id": report["id"], "messageId": messages[0].pk, "clerkId": ann.clerk_id, "reason": "harassment",
        "details": "keeps going", "status": "open", "createdAt": report["createdAt"],
    }  # fmt: skip
    stored = Report.objects.get()
    assert (stored.reporter, stored.reported_user, stored.conversation_id) == (bob, ann, messages[0].conversation_id)

    again = api_as(bob).post("/reports", {"messageId": messages[0].pk, "reason": "spam"}, format="json")
    assert again.status_code == 200 and again.json()["report"]["id"] == report["id"]  # the open one answers
    assert Report.objects.count() == 1


def test_report_a_user_you_have_a_conversation_with(api_as, talk, make_user):
    ann, bob, _ = talk
    response = api_as(ann).post("/reports", {"clerkId": bob.clerk_id, "reason": "impersonation"}, format="json")
    assert response.status_code == 201
    assert response.json()["report"]["messageId"] is None and response.json()["report"]["clerkId"] == bob.clerk_id

    stranger = make_user("stranger")
    refused = api_as(ann).post("/reports", {"clerkId": stranger.clerk_id, "reason": "spam"}, format="json")
    unknown = api_as(ann).post("/reports", {"clerkId": "user_nobody", "reason": "spam"}, format="json")
    for answer in (refused, unknown):
        assert answer.status_code == 400
        assert answer.json() == {"error": "You can report only a user you have a conversation with"}
    self_report = api_as(ann).post("/reports", {"clerkId": ann.clerk_id, "reason": "spam"}, format="json")
    assert self_report.json() == {"error": "You cannot report yourself"}
    assert Report.objects.count() == 1


def test_only_messages_you_received(api_as, talk, make_user):
    ann, bob, messages = talk
    own = api_as(ann).post("/reports", {"messageId": messages[0].pk, "reason": "spam"}, format="json")
    assert own.status_code == 400 and own.json() == {"error": "You can report only a message you received"}
    outsider = make_user("outsider")
    for message_id in (messages[1].pk, 10**12):
        response = api_as(outsider).post("/reports", {"messageId": message_id, "reason": "spam"}, format="json")
        assert response.status_code == 404 and response.json() == {"error": "Message not found"}
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"reason": "spam"}, "Give either messageId or clerkId"),
        ({"messageId": 1, "clerkId": "user_x", "reason": "spam"}, "Give either messageId or clerkId"),
        ({"clerkId": "user_x"}, "reason: This field is required."),
        ({"clerkId": "user_x", "reason": "rude"}, 'reason: "rude" is not a valid choice.'),
        ({"messageId": "1", "reason": "spam"}, "messageId: A valid integer is required."),
        ({"messageId": True, "reason": "spam"}, "messageId: A valid integer is required."),
        ({"messageId": 0, "reason": "spam"}, "messageId: Ensure this value is greater than or equal to 1."),
        ({"clerkId": "user_x", "reason": "spam", "details": "x" * 1001}, f"details: {TOO_LONG}"),
        ({"clerkId": 5, "reason": "spam"}, "clerkId: Not a valid string."),
    ],
)  # fmt: skip
def test_bad_reports_are_400(api_as, talk, body, error):
    response = api_as(talk[0]).post("/reports", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert not Report.objects.exists()


def test_the_reasons_are_the_documented_list(client):
    document = client.get("/doc").json()
    schemas = document["components"]["schemas"]
    reason = schemas["ReportCreateRequest"]["properties"]["reason"]
    assert reason["allOf"] == [{"$ref": "#/components/schemas/ReasonEnum"}]
    assert schemas["ReasonEnum"]["enum"] == list(ReportReason.values)
    assert all(f"`{value}` - {label}" in reason["description"] for value, label in ReportReason.choices)


@override_settings(RATE_LIMIT_REPORTS=3)
def test_a_user_is_rate_limited_in_reports(api_as, talk, make_user):
    ann, bob, messages = talk
    incoming = [m for m in messages if m.recipient_id == bob.clerk_id]
    answers = [
        api_as(bob).post("/reports", {"messageId": m.pk, "reason": "spam"}, format="json").status_code for m in incoming
    ]
    assert answers == [201, 201, 201]
    over = api_as(bob).post("/reports", {"clerkId": ann.clerk_id, "reason": "spam"}, format="json")
    assert over.status_code == 429
    assert over.json()["error"] == "Too many reports: at most 3 per 3600 seconds; try again later"
    assert Report.objects.count() == 3
    # Per user: ann's own budget is untouched.
    assert api_as(ann).post("/reports", {"clerkId": bob.clerk_id, "reason": "spam"}, format="json").status_code == 201
