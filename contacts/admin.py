from django.contrib import admin

from contacts.models import Contact


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "contact", "nickname", "unread_count", "last_message_at")
    search_fields = ("owner__clerk_id", "contact__clerk_id", "nickname")
    list_select_related = ("owner", "contact")
    raw_id_fields = ("owner", "contact")
    # Maintained by chat.services; an edit here would desynchronise them from the messages.
    readonly_fields = ("last_message_preview", "last_message_at", "unread_count", "created_at")
