from django.contrib import admin

from chat.models import Conversation, Message


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("id", "user1", "user2", "created_at", "last_message_at")
    search_fields = ("user1__clerk_id", "user2__clerk_id")
    raw_id_fields = ("user1", "user2")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "conversation", "sender", "recipient", "is_read", "delivered_at", "created_at")
    search_fields = ("content",)
    list_filter = ("is_read", "created_at")
    raw_id_fields = ("conversation", "sender", "recipient")
