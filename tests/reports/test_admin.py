"""The moderators' queue of reports in the admin (a test client signed in as staff): filters,
the reported message in its context, and each action through the services and the admin log."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from chat.models import Message
from chat.services import message_send
from reports.models import Report, ReportStatus
from reports.services import report_file

pytestmark = pytest.mark.django_db

QUEUE = "/admin/reports/report/"


@pytest.fixture
def reports(talk, make_user):
    """(message report by bob about ann's m2, user report by ann about bob)."""
    ann, bob, messages = talk
    about_message, _ = report_file(reporter_id=bob.clerk_id, reason="harassment", message_id=messages[2].pk)
    about_user, _ = report_file(reporter_id=ann.clerk_id, reason="spam", clerk_id=bob.clerk_id, details="ads")
    return about_message, about_user


def _act(client, action: str, reports, note: str = ""):
    return client.post(QUEUE, {"action": action, "_selected_action": [r.pk for r in reports], "note": note})


def _log(obj) -> list[str]:
    rows = LogEntry.objects.filter(object_id=str(obj.pk), content_type__model=obj._meta.model_name).order_by("id")
    return list(rows.values_list("change_message", flat=True))


def test_the_queue_lists_and_filters_reports(client, moderator, reports):
    about_message, about_user = reports
    page = client.get(QUEUE).content.decode()
    assert f"message #{about_message.message_id}" in page and ">user<" in page
    for query, shown, hidden in [
        ("about=message", about_message, about_user),
        ("about=user", about_user, about_message),
        ("reason__exact=spam", about_user, about_message),
        ("q=ads", about_user, about_message),
    ]:
        page = client.get(f"{QUEUE}?{query}").content.decode()
        assert f'value="{shown.pk}"' in page and f'value="{hidden.pk}"' not in page, query
    Report.objects.filter(pk=about_user.pk).update(status=ReportStatus.DISMISSED)
    page = client.get(f"{QUEUE}?status__exact=open").content.decode()
    assert f'value="{about_message.pk}"' in page and f'value="{about_user.pk}"' not in page


def test_a_report_shows_the_message_in_its_context(client, moderator, talk, reports):
    ann, bob, messages = talk
    about_message, about_user = reports
    later = [
        message_send(sender_id=ann.clerk_id, recipient_id=bob.clerk_id, text=f"later{i}").message for i in range(6)
    ]
    page = client.get(f"{QUEUE}{about_message.pk}/change/").content.decode()
    assert 'name="_save"' not in page  # read-only: the actions handle it
    shown = [m for m in [*messages, *later] if f"<td>#{m.pk}</td>" in page]
    assert shown == [*messages, *later[:2]]  # 5 on each side of m2 (only 2 exist before it)
    assert f'style="font-weight:bold;background:#fff3cd"><td>#{messages[2].pk}</td>' in page
    user_page = client.get(f"{QUEUE}{about_user.pk}/change/").content.decode()
    assert "later5" in user_page and "ads" in user_page  # a user report: the latest messages


def test_resolve_and_dismiss_with_a_note_are_logged(client, moderator, reports):
    about_message, about_user = reports
    _act(client, "resolve_reports", [about_message], note="talked to them")
    _act(client, "dismiss_reports", [about_user])  # without a note: refused
    about_user.refresh_from_db()
    assert about_user.status == ReportStatus.OPEN and _log(about_user) == []
    _act(client, "dismiss_reports", [about_user], note="not spam")
    about_message.refresh_from_db()
    about_user.refresh_from_db()
    assert (about_message.status, about_message.note, about_message.handled_by) == (
        "resolved",
        "talked to them",
        moderator,
    )
    assert (about_user.status, about_user.note) == ("dismissed", "not spam")
    assert _log(about_message) == ["Resolved: talked to them"]
    assert _log(about_user) == ["Dismissed: not spam"]

    _act(client, "resolve_reports", [about_user], note="again")
    about_user.refresh_from_db()
    assert about_user.status == "dismissed" and _log(about_user) == ["Dismissed: not spam"]
    assert f"Report #{about_user.pk}: This report is already dismissed" in client.get(QUEUE).content.decode()


def test_remove_the_reported_message(client, moderator, reports):
    about_message, about_user = reports
    _act(client, "remove_reported_messages", [about_message, about_user])
    message = Message.objects.get(pk=about_message.message_id)
    assert message.removed_at is not None
    about_message.refresh_from_db()
    about_user.refresh_from_db()
    assert about_message.status == "resolved" and about_user.status == "open"  # a user report has no message
    assert f"Report #{about_user.pk}: This report is about a user, not a message" in client.get(QUEUE).content.decode()
    assert _log(about_message) == [f"Resolved: message #{message.pk} removed"]
    assert _log(message) == [f"Removed by a moderator (report #{about_message.pk})"]


def test_suspend_the_reported_user(client, moderator, talk, reports):
    ann, bob, _ = talk
    about_message, about_user = reports
    _act(client, "suspend_reported_users", [about_user])  # without a reason: refused
    about_user.reported_user.refresh_from_db()
    assert about_user.reported_user.suspended_at is None
    _act(client, "suspend_reported_users", [about_user], note="spam bot")
    bob.refresh_from_db()
    about_user.refresh_from_db()
    assert bob.suspended_at is not None and bob.suspension_reason == "spam bot"
    assert about_user.status == "resolved" and about_user.note == "User suspended: spam bot"
    assert _log(about_user) == [f"Resolved: user {bob.clerk_id} suspended: spam bot"]
    assert _log(bob) == [f"Suspended: spam bot (report #{about_user.pk})"]


def test_view_only_staff_see_the_queue_but_cannot_act(client, reports):
    about_message, _ = reports
    viewer = get_user_model().objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_report", content_type__app_label="reports"))
    client.force_login(viewer)
    page = client.get(QUEUE).content.decode()
    assert f"message #{about_message.message_id}" in page and 'value="resolve_reports"' not in page
    _act(client, "resolve_reports", [about_message], note="x")
    about_message.refresh_from_db()
    assert about_message.status == "open"
