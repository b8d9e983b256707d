from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from biosync.api import IsoDateTimeField, StrictCharField
from users.api.serializers import UserStatusMixin
from users.models import UserStatus


class ContactSerializer(UserStatusMixin, serializers.Serializer):
    """One row of the caller's contact list; `status` is live socket presence."""

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

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_contactName(self, contact) -> str | None:
        return contact.contact.full_name or contact.contact.username or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_profileImage(self, contact) -> str | None:
        return contact.contact.image_url or None

    @extend_schema_field(serializers.ChoiceField(choices=UserStatus.choices))
    def get_status(self, contact) -> str:
        return super().get_status(contact.contact)


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
    nickname = StrictCharField(allow_null=True, allow_blank=True, max_length=255, help_text="null or \"\" clears it.")
