from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from chat.search import SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT
from chat.selectors import MESSAGES_DEFAULT_LIMIT, MESSAGES_MAX_LIMIT, other_user
from kernel.api import IsoDateTimeField, QueryIntegerField, StrictCharField
from kernel.timestamps import iso_z
from users.api.serializers import UserStatusMixin
from users.presence import status_of


class MessageSerializer(serializers.Serializer):
    """A message as the caller sees it. One removed by a moderator, or deleted by its sender, keeps
    its place with its content hidden."""

    id = serializers.IntegerField()
    conversationId = serializers.IntegerField(source="conversation_id")
    fromClerkId = serializers.CharField(source="sender_id")
    toClerkId = serializers.CharField(source="recipient_id")
    content = serializers.SerializerMethodField(help_text='"" when removed by a moderator or deleted by its sender.')
    messageType = serializers.CharField(source="message_type")
    isRead = serializers.BooleanField(source="is_read")
    readAt = IsoDateTimeField(source="read_at", allow_null=True)
    createdAt = IsoDateTimeField(source="created_at")
    deliveredAt = IsoDateTimeField(source="delivered_at", allow_null=True)
    isMine = serializers.SerializerMethodField()
    removed = serializers.SerializerMethodField(help_text="True when a moderator removed it.")
    clientMessageId = serializers.CharField(source="client_message_id", allow_null=True)
    editedAt = IsoDateTimeField(
        source="edited_at", allow_null=True, help_text="When its sender last edited it; null if never."
    )
    deleted = serializers.SerializerMethodField(help_text="True when its sender deleted it for everyone.")

    def get_content(self, message) -> str:
        return "" if message.removed_at is not None or message.deleted_at is not None else message.content

    def get_deleted(self, message) -> bool:
        return message.deleted_at is not None

    def get_isMine(self, message) -> bool:
        return message.sender_id == self.context["me"]

    def get_removed(self, message) -> bool:
        return message.removed_at is not None


def message_data(row: dict, me: str) -> dict:
    """The one builder of a message's outward shape in REST (history pages, a conversation's
    `lastMessage`), from a `chat.selectors` message row: MessageSerializer's fields, without its
    per-field machinery (a page holds up to 200). tests/chat/test_api.py checks both agree."""
    removed, deleted = row["removed"], row["deleted"]
    return {
        "id": row["id"],
        "conversationId": row["conversation_id"],
        "fromClerkId": row["sender_id"],
        "toClerkId": row["recipient_id"],
        "content": "" if removed or deleted else row["content"],
        "messageType": row["message_type"],
        "isRead": row["is_read"],
        "readAt": row["read_at_iso"],
        "createdAt": row["created_at_iso"],
        "deliveredAt": row["delivered_at_iso"],
        "isMine": row["sender_id"] == me,
        "removed": removed,
        "clientMessageId": row["client_message_id"],
        "editedAt": row["edited_at_iso"],
        "deleted": deleted,
    }


class MessageEditSerializer(serializers.Serializer):
    # Blank and over-long texts reach the send's own rules (chat.services.rules), which answer them.
    text = StrictCharField(trim_whitespace=False, allow_blank=True, help_text="The message's new text.")


def shown_name(user, nickname: str | None) -> str | None:
    """`otherUser.nickname`: what the chat page puts in its header (`nickname || clerkId`): the
    caller's nickname for that contact when set, else the other user's display name."""
    return nickname or user.display_name


def other_user_data(user, *, nickname: str | None, online: set[str]) -> dict:
    """The one builder of `otherUser` (OtherUserSerializer's fields); `nickname` is the caller's own."""
    return {
        "clerkId": user.clerk_id,
        "username": user.username,
        "fullName": user.full_name,
        "profileImage": user.image_url or None,
        "nickname": shown_name(user, nickname),
        "isParalyzed": user.is_paralyzed,
        "status": status_of(user.clerk_id, online),
    }


class OtherUserSerializer(UserStatusMixin, serializers.Serializer):
    """The other participant, with the caller's nickname for them and live presence."""

    clerkId = serializers.CharField(source="clerk_id")
    username = serializers.CharField()
    fullName = serializers.CharField(source="full_name")
    profileImage = serializers.SerializerMethodField()
    nickname = serializers.SerializerMethodField(
        help_text="The caller's nickname for this user when set, else the user's display name (username, "
        "else full name); null when neither exists."
    )
    isParalyzed = serializers.BooleanField(source="is_paralyzed")
    status = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_profileImage(self, user) -> str | None:
        return user.image_url or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_nickname(self, user) -> str | None:
        return shown_name(user, self.context.get("nicknames", {}).get(user.clerk_id))


class MessagesResponseSerializer(serializers.Serializer):
    conversationId = serializers.IntegerField()
    otherUser = OtherUserSerializer(allow_null=True)
    messages = MessageSerializer(many=True)
    hasMore = serializers.BooleanField(help_text="More messages lie beyond this page, in the direction it was read.")


class ConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    otherUserClerkId = serializers.SerializerMethodField()
    createdAt = IsoDateTimeField(source="created_at")
    lastMessageAt = IsoDateTimeField(source="last_message_at", allow_null=True)
    unreadCount = serializers.IntegerField(source="unread_count")
    lastMessage = MessageSerializer(source="last_message", allow_null=True)
    otherUser = serializers.SerializerMethodField()

    def get_otherUserClerkId(self, conversation) -> str:
        return conversation.other_user_id(self.context["me"])

    @extend_schema_field(OtherUserSerializer)
    def get_otherUser(self, conversation):
        me = self.context["me"]
        other = conversation.user2 if conversation.user1_id == me else conversation.user1
        return OtherUserSerializer(other, context=self.context).data


class ConversationListSerializer(serializers.Serializer):
    conversations = ConversationSerializer(many=True)


class MarkReadResponseSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    conversationId = serializers.IntegerField()
    messageIds = serializers.ListField(child=serializers.IntegerField(), help_text="Messages newly marked read.")
    readAt = IsoDateTimeField()


def _limit_field(*, default: int, maximum: int, what: str) -> QueryIntegerField:
    """`limit` of a paged route: 1 or more; above `maximum` it counts as `maximum`."""
    error = f"Must be a whole number from 1 to {maximum}."
    return QueryIntegerField(
        required=False,
        min_value=1,
        default=default,
        error_messages={"invalid": error, "min_value": error, "max_value": error},
        help_text=f"How many {what} (default {default}; more than {maximum} counts as {maximum}).",
    )


class MessagesQuerySerializer(serializers.Serializer):
    ID_ERROR = "Must be a message id (a positive whole number)."

    limit = _limit_field(default=MESSAGES_DEFAULT_LIMIT, maximum=MESSAGES_MAX_LIMIT, what="messages")
    offset = QueryIntegerField(
        required=False,
        min_value=0,
        default=0,
        error_messages={"invalid": "Must be a whole number, 0 or more."},
        help_text="How many messages to skip, in the reading direction.",
    )
    after = QueryIntegerField(
        required=False,
        min_value=1,
        error_messages={"invalid": ID_ERROR, "min_value": ID_ERROR},
        help_text="A message id: only newer messages, oldest first (catching up after a reconnect). "
        "Not together with `before`.",
    )
    before = QueryIntegerField(
        required=False,
        min_value=1,
        error_messages={"invalid": ID_ERROR, "min_value": ID_ERROR},
        help_text="A message id: only older messages (history). Not together with `after`.",
    )

    def validate(self, attrs):
        # Each pages in its own direction; together they would silently pick one.
        if attrs.get("after") is not None and attrs.get("before") is not None:
            raise serializers.ValidationError("Give before or after, not both.")
        return attrs


def conversation_data(conversation, me: str, *, online: set[str], nicknames: dict[str, str | None]) -> dict:
    """The one builder of a conversation in GET /conversations (ConversationSerializer's fields),
    from `chat.selectors.conversations_list`."""
    other = conversation.user2 if conversation.user1_id == me else conversation.user1
    last = conversation.last_message
    return {
        "id": conversation.pk,
        "otherUserClerkId": other.clerk_id,
        "createdAt": iso_z(conversation.created_at),
        "lastMessageAt": iso_z(conversation.last_message_at),
        "unreadCount": conversation.unread_count,
        "lastMessage": message_data(last, me) if last is not None else None,
        "otherUser": other_user_data(other, nickname=nicknames.get(other.clerk_id), online=online),
    }


class SearchQuerySerializer(serializers.Serializer):
    q = StrictCharField(
        max_length=500,
        help_text="Words to find, each as the start of a word (case-insensitive); every word must occur.",
    )
    conversationId = QueryIntegerField(
        required=False,
        min_value=1,
        error_messages={"invalid": "Must be a conversation id.", "min_value": "Must be a conversation id."},
        help_text="Only this conversation (one of yours).",
    )
    cursor = QueryIntegerField(
        required=False,
        min_value=1,
        error_messages={"invalid": "Must be a nextCursor value.", "min_value": "Must be a nextCursor value."},
        help_text="The previous page's `nextCursor`: the next (older) hits.",
    )
    limit = _limit_field(default=SEARCH_DEFAULT_LIMIT, maximum=SEARCH_MAX_LIMIT, what="hits")


class SearchHitSerializer(serializers.Serializer):
    message = MessageSerializer()
    conversationId = serializers.IntegerField()
    otherUser = OtherUserSerializer()
    snippet = serializers.CharField(
        help_text='Up to 120 characters of the message around the first word found; "…" marks a cut.'
    )
    highlights = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(), min_length=2, max_length=2),
        help_text="[start, end) character offsets of each matching word in `snippet`, to highlight.",
    )


class SearchResponseSerializer(serializers.Serializer):
    results = SearchHitSerializer(many=True)
    nextCursor = serializers.IntegerField(
        allow_null=True, help_text="Pass as `cursor` for older hits; null at the end."
    )


def search_hit_data(hit, me: str, *, online: set[str], nicknames: dict[str, str | None]) -> dict:
    """The one builder of a search hit (SearchHitSerializer's fields), from `chat.search.SearchHit`."""
    other = other_user(hit.conversation, me)
    return {
        "message": message_data(hit.message, me),
        "conversationId": hit.conversation.pk,
        "otherUser": other_user_data(other, nickname=nicknames.get(other.clerk_id), online=online),
        "snippet": hit.snippet,
        "highlights": [list(span) for span in hit.highlights],
    }
