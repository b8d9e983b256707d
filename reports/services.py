"""Writes of the reports app: filing a report (every transport), and the moderators' actions on
one (admin), which go through the existing moderation services."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from chat.models import Conversation, Message
from chat.services import message_remove
from delivery import ratelimit
from kernel.errors import NotFoundError, ServiceError
from kernel.logging import log_event
from reports.models import Report, ReportReason, ReportStatus
from users.models import valid_clerk_id
from users.services import user_suspend

logger = logging.getLogger(__name__)

DETAILS_MAX_LENGTH = 1000
NOTE_MAX_LENGTH = 1000


def _target_of_message(reporter_id: str, message_id: int) -> dict:
    message = Message.objects.filter(pk=message_id).only("sender_id", "recipient_id", "conversation_id").first()
    if message is None or reporter_id not in (message.sender_id, message.recipient_id):
        # Someone else's message answers exactly like a missing one.
        raise NotFoundError("Message not found")
    if message.recipient_id != reporter_id:
        raise ServiceError("You can report only a message you received", code="own_message")
    return {"message": message, "reported_user_id": message.sender_id, "conversation_id": message.conversation_id}


def _target_of_user(reporter_id: str, clerk_id: str) -> dict:
    if clerk_id == reporter_id:
        raise ServiceError("You cannot report yourself", code="self")
    user1, user2 = sorted((reporter_id, clerk_id))
    conversation = Conversation.objects.filter(user1_id=user1, user2_id=user2).only("id").first()
    if not valid_clerk_id(clerk_id) or conversation is None:
        raise ServiceError("You can report only a user you have a conversation with", code="no_conversation")
    return {"message": None, "reported_user_id": clerk_id, "conversation_id": conversation.pk}


def report_file(
    *,
    reporter_id: str,
    reason: str,
    details: str = "",
    message_id: int | None = None,
    clerk_id: str | None = None,
) -> tuple[Report, bool]:
    """File a report of a message the reporter received (`message_id`) or of a user they have a
    conversation with (`clerk_id`). Returns (report, created): a repeat of an open report by the
    same reporter answers that report. Counted against RATE_LIMIT_REPORTS first, refused or not,
    so that probing costs the same as filing."""
    if (message_id is None) == (clerk_id is None):
        raise ServiceError("Give either messageId or clerkId", code="invalid_target")
    if reason not in ReportReason.values:
        raise ServiceError(f"reason must be one of: {', '.join(ReportReason.values)}", code="invalid_reason")
    details = (details or "").strip()
    if len(details) > DETAILS_MAX_LENGTH:
        raise ServiceError(f"details is longer than {DETAILS_MAX_LENGTH} characters", code="too_long")
    ratelimit.check(ratelimit.REPORTS, reporter_id)
    if message_id is not None:
        target = _target_of_message(reporter_id, message_id)
    else:
        target = _target_of_user(reporter_id, clerk_id)
    open_same = Report.objects.filter(
        reporter_id=reporter_id, status=ReportStatus.OPEN, message=target["message"],
        reported_user_id=target["reported_user_id"],
    )  # fmt: skip
    existing = open_same.first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            report = Report.objects.create(reporter_id=reporter_id, reason=reason, details=details, **target)
    except IntegrityError:
        # The same report filed at the same moment (a double tap): the open one stands.
        return open_same.get(), False
    log_event(logger, "report.filed", report_id=report.pk, reporter=reporter_id, reason=reason)
    return report, True


# --- Moderators' actions ------------------------------------------------------------------------
def _close(report_id: int, *, status: str, moderator, note: str, act=None) -> Report:
    """Close an open report (under its row lock), after running `act(report)` in the same transaction."""
    note = (note or "").strip()[:NOTE_MAX_LENGTH]
    with transaction.atomic():
        report = Report.objects.select_for_update().filter(pk=report_id).first()
        if report is None:
            raise NotFoundError("Report not found")
        if report.status != ReportStatus.OPEN:
            raise ServiceError(f"This report is already {report.status}", code="already_handled")
        if act is not None:
            act(report)
        report.status, report.note = status, note
        report.handled_at, report.handled_by = timezone.now(), moderator
        report.save(update_fields=["status", "note", "handled_at", "handled_by"])
    log_event(logger, "report.closed", report_id=report.pk, status=status, moderator=getattr(moderator, "pk", None))
    return report


def report_resolve(*, report_id: int, moderator, note: str = "") -> Report:
    """The report was right and has been dealt with (the note may say how)."""
    return _close(report_id, status=ReportStatus.RESOLVED, moderator=moderator, note=note)


def report_dismiss(*, report_id: int, moderator, note: str) -> Report:
    """The report needs no action; the note says why (required)."""
    if not (note or "").strip():
        raise ServiceError("Dismissing a report needs a note", code="note_required")
    return _close(report_id, status=ReportStatus.DISMISSED, moderator=moderator, note=note)


def report_message_remove(*, report_id: int, moderator, note: str = "") -> Report:
    """Remove the reported message (chat.services.message_remove: both users' sockets hear it) and resolve."""

    def remove(report: Report) -> None:
        if report.message_id is None:
            raise ServiceError("This report is about a user, not a message", code="no_message")
        message_remove(message_id=report.message_id, moderator=moderator)

    return _close(
        report_id, status=ReportStatus.RESOLVED, moderator=moderator, note=note or "Message removed", act=remove
    )


def report_user_suspend(*, report_id: int, moderator, reason: str) -> Report:
    """Suspend the reported user (users.services.user_suspend, with `reason`) and resolve."""

    def suspend(report: Report) -> None:
        user_suspend(clerk_id=report.reported_user_id, reason=reason)

    return _close(
        report_id, status=ReportStatus.RESOLVED, moderator=moderator, note=f"User suspended: {reason}", act=suspend
    )
