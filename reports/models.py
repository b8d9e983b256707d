from django.conf import settings
from django.db import models
from django.db.models import Q


class ReportReason(models.TextChoices):
    """Why a user reports a message or another user (the documented list of `reason`)."""

    SPAM = "spam", "Spam or advertising"
    HARASSMENT = "harassment", "Harassment or bullying"
    HATE = "hate", "Hate speech"
    SEXUAL = "sexual", "Unwanted sexual content"
    VIOLENCE = "violence", "Threats or violence"
    SELF_HARM = "self_harm", "Self-harm or suicide"
    IMPERSONATION = "impersonation", "Impersonation or a fake account"
    OTHER = "other", "Something else (see details)"


class ReportStatus(models.TextChoices):
    OPEN = "open"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class Report(models.Model):
    """A user's report of a message they received, or of a user they have a conversation with:
    one row of the moderators' queue (admin), handled through reports.services."""

    reporter = models.ForeignKey("users.User", on_delete=models.CASCADE, related_name="reports_filed")
    reported_user = models.ForeignKey("users.User", on_delete=models.CASCADE, related_name="reports_received")
    # Null for a report about a user; the conversation gives the admin its context either way.
    message = models.ForeignKey("chat.Message", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    conversation = models.ForeignKey("chat.Conversation", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=32, choices=ReportReason.choices)
    details = models.TextField(blank=True, default="")
    status = models.CharField(max_length=16, choices=ReportStatus.choices, default=ReportStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True, default="", help_text="The moderator's note when handling it.")

    class Meta:
        db_table = "reports"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"], name="reports_queue")]
        constraints = [
            # One open report per reporter and target: a repeat answers the open one.
            models.UniqueConstraint(
                fields=["reporter", "message"],
                condition=Q(status="open", message__isnull=False),
                name="reports_one_open_per_message",
            ),
            models.UniqueConstraint(
                fields=["reporter", "reported_user"],
                condition=Q(status="open", message__isnull=True),
                name="reports_one_open_per_user",
            ),
        ]

    def __str__(self) -> str:
        about = f"message #{self.message_id}" if self.message_id else f"user {self.reported_user_id}"
        return f"Report #{self.pk}: {about} ({self.reason})"
