"""The moderators' queue of reports. Every action goes through reports.services (and from there
the existing moderation services) and is written to the admin log."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from kernel.errors import ServiceError
from reports import selectors, services
from reports.models import Report

EXCERPT_CHARS = 40
# The reported message's row in its context.
HIGHLIGHT = mark_safe(' style="font-weight:bold;background:#fff3cd"')


class KindFilter(admin.SimpleListFilter):
    title = "about"
    parameter_name = "about"

    def lookups(self, request, model_admin):
        return [("message", "A message"), ("user", "A user")]

    def queryset(self, request, queryset):
        if self.value() in {"message", "user"}:
            return queryset.filter(message__isnull=self.value() == "user")
        return queryset


class ReportActionForm(ActionForm):
    note = forms.CharField(
        required=False,
        max_length=services.NOTE_MAX_LENGTH,
        label="Note (to dismiss) / reason (to suspend)",
    )


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "reason", "reporter", "reported_user", "about", "excerpt", "created_at")
    list_filter = ("status", "reason", KindFilter, ("created_at", admin.DateFieldListFilter))
    search_fields = ("reporter__clerk_id", "reported_user__clerk_id", "reported_user__username", "details")
    list_select_related = ("reporter", "reported_user", "message")
    date_hierarchy = "created_at"
    fields = (
        "status", "reason", "details", "reporter", "reported_user", "message", "context", "created_at",
        "handled_at", "handled_by", "note",
    )  # fmt: skip
    readonly_fields = fields
    action_form = ReportActionForm
    actions = ["resolve_reports", "dismiss_reports", "remove_reported_messages", "suspend_reported_users"]

    class Media:
        css = {"all": ("chat/admin.css",)}

    def has_add_permission(self, request):
        return False  # users file reports (POST /reports)

    def has_delete_permission(self, request, obj=None):
        return False  # kept: a report is closed (resolved or dismissed), not deleted

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Read-only: the actions in the list handle a report.
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.display(description="about")
    def about(self, report):
        return f"message #{report.message_id}" if report.message_id else "user"

    @admin.display(description="message")
    def excerpt(self, report):
        return Truncator(report.message.content).chars(EXCERPT_CHARS) if report.message_id else "-"

    @admin.display(description="conversation around it")
    def context(self, report):
        rows = format_html_join(
            "",
            "<tr{}><td>#{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
            (
                (
                    HIGHLIGHT if m.pk == report.message_id else "",
                    m.pk,
                    m.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    m.sender_id,
                    m.content,
                    " (removed)" if m.removed_at else "",
                )
                for m in selectors.report_context(report=report)
            ),
        )
        return format_html(
            "<table><thead><tr><th>id</th><th>sent (UTC)</th><th>from</th><th>text</th></tr></thead>"
            "<tbody>{}</tbody></table><p>Conversation #{}</p>",
            rows,
            report.conversation_id,
        )

    def _each(self, request, queryset, act, done: str) -> None:
        handled = 0
        for report in queryset:
            try:
                message = act(report)
            except ServiceError as exc:
                self.message_user(request, f"Report #{report.pk}: {exc.message}", messages.ERROR)
                continue
            self.log_change(request, report, message)
            handled += 1
        self.message_user(request, f"{done} {handled} report(s).", messages.SUCCESS)

    @admin.action(permissions=["change"], description="Resolve selected reports (optional note)")
    def resolve_reports(self, request, queryset):
        note = request.POST.get("note", "").strip()

        def resolve(report):
            services.report_resolve(report_id=report.pk, moderator=request.user, note=note)
            return f"Resolved: {note}" if note else "Resolved"

        self._each(request, queryset, resolve, "Resolved")

    def _required_note(self, request, refusal: str) -> str | None:
        note = request.POST.get("note", "").strip()
        if not note:
            self.message_user(request, refusal, messages.ERROR)
        return note or None

    @admin.action(permissions=["change"], description="Dismiss selected reports (give a note)")
    def dismiss_reports(self, request, queryset):
        if (note := self._required_note(request, "Give a note to dismiss.")) is None:
            return

        def dismiss(report):
            services.report_dismiss(report_id=report.pk, moderator=request.user, note=note)
            return f"Dismissed: {note}"

        self._each(request, queryset, dismiss, "Dismissed")

    @admin.action(permissions=["change"], description="Remove the reported messages and resolve")
    def remove_reported_messages(self, request, queryset):
        def remove(report):
            services.report_message_remove(report_id=report.pk, moderator=request.user)
            self.log_change(request, report.message, f"Removed by a moderator (report #{report.pk})")
            return f"Resolved: message #{report.message_id} removed"

        self._each(request, queryset, remove, "Removed the messages of")

    @admin.action(permissions=["change"], description="Suspend the reported users and resolve (give a reason)")
    def suspend_reported_users(self, request, queryset):
        if (reason := self._required_note(request, "Give a reason to suspend.")) is None:
            return

        def suspend(report):
            services.report_user_suspend(report_id=report.pk, moderator=request.user, reason=reason)
            self.log_change(request, report.reported_user, f"Suspended: {reason} (report #{report.pk})")
            return f"Resolved: user {report.reported_user_id} suspended: {reason}"

        self._each(request, queryset, suspend, "Suspended the users of")
