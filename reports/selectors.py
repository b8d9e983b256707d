"""Reads of the reports app."""

from __future__ import annotations

from chat.models import Message
from reports.models import Report

# Messages shown on each side of a reported message in the admin (or the latest ones, for a
# report about a user).
CONTEXT_MESSAGES = 5


def report_context(*, report: Report, around: int = CONTEXT_MESSAGES) -> list[Message]:
    """The reported message with the messages around it in its conversation, oldest first; for a
    report about a user, the conversation's latest messages. Removed messages included: this is
    the moderators' view."""
    messages = Message.objects.filter(conversation_id=report.conversation_id).select_related("sender")
    if report.message_id is None:
        return list(reversed(messages.order_by("-id")[: 2 * around + 1]))
    before = list(messages.filter(id__lt=report.message_id).order_by("-id")[:around])
    from_it = list(messages.filter(id__gte=report.message_id).order_by("id")[: around + 1])
    return [*reversed(before), *from_it]
