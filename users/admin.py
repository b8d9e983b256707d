"""Moderators' view of users. Suspension goes through users.services, never a field edit."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm

from kernel.errors import ServiceError
from users import services
from users.models import Block, User, WebhookDelivery


class SuspendedFilter(admin.SimpleListFilter):
    title = "suspended"
    parameter_name = "suspended"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(suspended_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(suspended_at__isnull=True)
        return queryset


class ModerationActionForm(ActionForm):
    reason = forms.CharField(required=False, max_length=services.SUSPENSION_REASON_MAX, label="Reason (to suspend)")


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = (
        "clerk_id",
        "username",
        "full_name",
        "email",
        "status",
        "is_paralyzed",
        "is_active",
        "suspended",
    )
    search_fields = ("clerk_id", "username", "full_name", "email")
    list_filter = ("status", "is_paralyzed", "is_active", SuspendedFilter)
    # Presence, Clerk and moderation own these; the actions below change suspension.
    readonly_fields = (
        "clerk_id",
        "status",
        "last_seen_at",
        "created_at",
        "updated_at",
        "is_active",
        "suspended_at",
        "suspension_reason",
    )
    fields = (
        "clerk_id",
        "username",
        "full_name",
        "email",
        "image_url",
        "is_paralyzed",
        "status",
        "last_seen_at",
        "is_active",
        "suspended_at",
        "suspension_reason",
        "created_at",
        "updated_at",
    )
    action_form = ModerationActionForm
    actions = ["suspend_users", "unsuspend_users"]

    def has_add_permission(self, request):
        return False  # users sign up through Clerk and POST /users

    def has_delete_permission(self, request, obj=None):
        return False  # deletion comes from Clerk (its webhook); moderators suspend

    @admin.display(boolean=True, ordering="suspended_at")
    def suspended(self, user):
        return user.suspended_at is not None

    @admin.action(permissions=["change"], description="Suspend selected users (disconnects them; give a reason)")
    def suspend_users(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, "Give a reason to suspend.", messages.ERROR)
            return
        done = 0
        for user in queryset:
            try:
                services.user_suspend(clerk_id=user.clerk_id, reason=reason)
            except ServiceError as exc:
                self.message_user(request, f"{user.clerk_id}: {exc.message}", messages.ERROR)
                continue
            self.log_change(request, user, f"Suspended: {reason}")
            done += 1
        self.message_user(request, f"Suspended {done} user(s).", messages.SUCCESS)

    @admin.action(permissions=["change"], description="Lift suspension of selected users")
    def unsuspend_users(self, request, queryset):
        done = 0
        for user in queryset:
            services.user_unsuspend(clerk_id=user.clerk_id)
            self.log_change(request, user, "Suspension lifted")
            done += 1
        self.message_user(request, f"Lifted suspension of {done} user(s).", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Clerk webhooks applied (kept a day, against replays): for checking that Clerk reaches us."""

    list_display = ("svix_id", "event_type", "received_at")
    search_fields = ("svix_id",)
    list_filter = ("event_type",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    """Who blocks whom, read-only: blocks are the users' own choice (POST/DELETE /blocks)."""

    list_display = ("blocker", "blocked", "created_at")
    search_fields = ("blocker__clerk_id", "blocked__clerk_id", "blocker__username", "blocked__username")
    list_select_related = ("blocker", "blocked")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
