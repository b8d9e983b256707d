from django.contrib import admin

from users.models import User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("clerk_id", "username", "full_name", "email", "status", "is_paralyzed", "is_active", "created_at")
    search_fields = ("clerk_id", "username", "full_name", "email")
    list_filter = ("status", "is_paralyzed", "is_active")
