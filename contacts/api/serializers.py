from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kernel.api import IsoDateTimeField, StrictCharField
from users.api.serializers import UserStatusMixin
from users.models import UserStatus
from users.presence import aonline_ids, online_ids, status_of
from users.selectors import block_exists


class ContactSerializer(UserStatusMixin, serializers.Serializer):
    """One row of the caller's contact list; `status` is live socket presence. Documents the
    shape `contact_data` builds (tests check that both write the same bytes)."""

    id = serializers.IntegerField()
    contactClerkId = serializers.CharField(source="contact_id")
    contactName = serializers.SerializerMethodField()
    nickname = serializers.CharField(allow_null=True)
    profileImage = serializers.SerializerMethodField()
    lastMessagePreview = serializers.CharField(source="last_message_preview", allow_null=True)
    lastMessageAt = IsoDateTimeField(source="last_message_at", allow_null=True)
    unreadCount = serializers.IntegerField(source="unread_count")
    status = serializers.SerializerMethodField()
    isParalyzed = serializers.BooleanField(source="contact.is_paralyzed")
    username = serializers.CharField(source="contact.username")
    lastSeenAt = IsoDateTimeField(source="contact.last_seen_at", allow_null=True)
    createdAt = IsoDateTimeField(source="created_at")
    isBlocked = serializers.SerializerMethodField(help_text="You block this user (POST /blocks).")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_contactName(self, contact) -> str | None:
        return contact.contact.full_name or contact.contact.username or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_profileImage(self, contact) -> str | None:
        return contact.contact.image_url or None

    @extend_schema_field(serializers.ChoiceField(choices=UserStatus.choices))
    def get_status(self, contact) -> str:
        return super().get_status(contact.contact)

    def get_isBlocked(self, contact) -> bool:
        return block_exists(blocker_id=contact.owner_id, blocked_id=contact.contact_id)


def contact_data(row: dict, online: set[str]) -> dict:
    """The one builder of a contact's outward shape (GET and POST /contacts), from a
    `contacts.selectors.contact_rows` row: ContactSerializer's fields, without its per-field
    machinery (GET /contacts writes fifty per call). `online`: from `contact_online_ids`."""
    return {
        "id": row["id"],
        "contactClerkId": row["contact_id"],
        "contactName": row["contact__full_name"] or row["contact__username"] or None,
        "nickname": row["nickname"],
        "profileImage": row["contact__image_url"] or None,
        "lastMessagePreview": row["last_message_preview"],
        "lastMessageAt": row["last_message_at_iso"],
        "unreadCount": row["unread_count"],
        "status": status_of(row["contact_id"], online),
        "isParalyzed": row["contact__is_paralyzed"],
        "username": row["contact__username"],
        "lastSeenAt": row["contact__last_seen_at_iso"],
        "createdAt": row["created_at_iso"],
        "isBlocked": row["is_blocked"],
    }


def contact_online_ids(rows: list[dict]) -> set[str]:
    """Which of the rows' contacts the owner sees online: never one who blocks the owner (the
    rows already say so, so presence needs no query of its own)."""
    return online_ids(_shown_presence(rows))


async def acontact_online_ids(rows: list[dict]) -> set[str]:
    """`contact_online_ids` on the event loop (the hot-read lane)."""
    return await aonline_ids(_shown_presence(rows))


def _shown_presence(rows: list[dict]) -> list[str]:
    return [row["contact_id"] for row in rows if not row["blocks_owner"]]


class ContactListSerializer(serializers.Serializer):
    contacts = ContactSerializer(many=True)


class ContactResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    contact = ContactSerializer()


class SuccessSerializer(serializers.Serializer):
    success = serializers.BooleanField()


class ContactCreateSerializer(serializers.Serializer):
    contactClerkId = StrictCharField(max_length=255)
    nickname = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=255, default=None)


class ContactUpdateSerializer(serializers.Serializer):
    nickname = StrictCharField(allow_null=True, allow_blank=True, max_length=255, help_text='null or "" clears it.')
