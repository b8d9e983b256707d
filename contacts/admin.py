from django.contrib import admin

from contacts.models import Contact


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "contact", "nickname", "unread_count", "last_message_at")
    search_fields = ("owner__clerk_id", "contact__clerk_id", "nickname")
    raw_id_fields = ("owner", "contact")
