from django.contrib import admin

from users.models import User, WebhookDelivery


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("clerk_id", "username", "full_name", "email", "status", "is_paralyzed", "is_active", "created_at")
    search_fields = ("clerk_id", "username", "full_name", "email")
    list_filter = ("status", "is_paralyzed", "is_active")


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
