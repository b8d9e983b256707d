"""Moderators' view of conversations and messages. Removal goes through chat.services."""

from django.contrib import admin, messages
from django.db.models import Count, Max
from django.utils.text import Truncator

from chat import services
from chat.models import Conversation, Message, MessageEdit

# The list's content column: a preview that fits one line beside the other columns at 1280 px.
EXCERPT_CHARS = 40


def _who(user) -> str:
    return f"{user} ({user.clerk_id})" if str(user) != user.clerk_id else user.clerk_id


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("id", "participant1", "participant2", "message_count", "last_activity", "created_at")
    search_fields = ("user1__clerk_id", "user2__clerk_id", "user1__username", "user2__username")
    list_select_related = ("user1", "user2")
    raw_id_fields = ("user1", "user2")
    readonly_fields = ("user1", "user2", "created_at", "last_message_at")

    def get_queryset(self, request):
        # One query for the page: counts and times come from the join, not a query per row.
        return (
            super()
            .get_queryset(request)
            .annotate(_message_count=Count("messages"), _last_activity=Max("messages__created_at"))
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # history is kept; moderators remove single messages

    @admin.display(description="participant", ordering="user1")
    def participant1(self, conversation):
        return _who(conversation.user1)

    @admin.display(description="participant", ordering="user2")
    def participant2(self, conversation):
        return _who(conversation.user2)

    @admin.display(description="messages", ordering="_message_count")
    def message_count(self, conversation):
        return conversation._message_count

    @admin.display(description="last activity", ordering="_last_activity")
    def last_activity(self, conversation):
        return conversation._last_activity


class _NullDateFilter(admin.SimpleListFilter):
    field = ""

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() in {"yes", "no"}:
            return queryset.filter(**{f"{self.field}__isnull": self.value() == "no"})
        return queryset


class DeliveredFilter(_NullDateFilter):
    title = parameter_name = "delivered"
    field = "delivered_at"


class RemovedFilter(_NullDateFilter):
    title = parameter_name = "removed"
    field = "removed_at"


class EditedFilter(_NullDateFilter):
    title = parameter_name = "edited"
    field = "edited_at"


class DeletedFilter(_NullDateFilter):
    title = "deleted by its sender"
    parameter_name = "deleted"
    field = "deleted_at"


class MessageEditInline(admin.TabularInline):
    """Every earlier version of an edited message, oldest first: for moderators only."""

    model = MessageEdit
    verbose_name = "earlier version"
    verbose_name_plural = "earlier versions (before each edit)"
    fields = readonly_fields = ("written_at", "replaced_at", "content")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "chat", "sender", "recipient", "excerpt", "read", "delivered", "removed", "sent")
    search_fields = ("content",)
    list_filter = (
        ("created_at", admin.DateFieldListFilter),
        "is_read",
        DeliveredFilter,
        RemovedFilter,
        EditedFilter,
        DeletedFilter,
    )
    inlines = [MessageEditInline]
    list_select_related = ("conversation", "sender", "recipient")
    date_hierarchy = "created_at"
    # Messages change only through services: removal below, reads and delivery by the users.
    readonly_fields = [field.name for field in Message._meta.fields]
    actions = ["remove_messages", "restore_messages"]

    def has_add_permission(self, request):
        return False

    class Media:
        css = {"all": ("chat/admin.css",)}

    def has_delete_permission(self, request, obj=None):
        return False  # "Remove" hides it from the participants and tells their sockets; delete would not

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Every field is read-only: no Save buttons; the list's actions remove and restore.
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.display(description="conversation", ordering="conversation")
    def chat(self, message):
        return f"#{message.conversation_id}"

    @admin.display(boolean=True, ordering="is_read")
    def read(self, message):
        return message.is_read

    @admin.display(description="sent (UTC)", ordering="created_at")
    def sent(self, message):
        # The year is in the date bar above the list; the column must fit at 1,280 px.
        return message.created_at.strftime("%b %d %H:%M")

    @admin.display(description="content")
    def excerpt(self, message):
        return Truncator(message.content).chars(EXCERPT_CHARS)

    @admin.display(boolean=True, ordering="delivered_at")
    def delivered(self, message):
        return message.delivered_at is not None

    @admin.display(boolean=True, ordering="removed_at")
    def removed(self, message):
        return message.removed_at is not None

    @admin.action(permissions=["change"], description="Remove selected messages (hidden from both participants)")
    def remove_messages(self, request, queryset):
        for message in queryset:
            services.message_remove(message_id=message.pk, moderator=request.user)
            self.log_change(request, message, "Removed by a moderator")
        self.message_user(request, f"Removed {len(queryset)} message(s).", messages.SUCCESS)

    @admin.action(permissions=["change"], description="Restore selected removed messages")
    def restore_messages(self, request, queryset):
        for message in queryset:
            services.message_restore(message_id=message.pk, moderator=request.user)
            self.log_change(request, message, "Restored by a moderator")
        self.message_user(request, f"Restored {len(queryset)} message(s).", messages.SUCCESS)
