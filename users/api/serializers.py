from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kernel.api import IsoDateTimeField, StrictBooleanField, StrictCharField, StrictEmailField, StrictURLField
from kernel.timestamps import iso_z
from users.models import UserStatus
from users.presence import status_of


class UserStatusMixin:
    """`status` from presence: the serializer context carries `online`, a set of clerk ids.

    Each serializer declares `status = serializers.SerializerMethodField()` where it wants it.
    """

    @extend_schema_field(serializers.ChoiceField(choices=UserStatus.choices))
    def get_status(self, user) -> str:
        return status_of(user.clerk_id, self.context.get("online", set()))


class ProfileSerializer(UserStatusMixin, serializers.Serializer):
    """The caller's own profile (GET/POST /users, PATCH /users/me)."""

    clerkId = serializers.CharField(source="clerk_id")
    isParalyzed = serializers.BooleanField(source="is_paralyzed")
    status = serializers.SerializerMethodField()
    createdAt = IsoDateTimeField(source="created_at")
    username = serializers.CharField()
    fullName = serializers.CharField(source="full_name")
    email = serializers.CharField()
    profileImage = serializers.CharField(source="image_url", allow_null=True)
    lastSeenAt = IsoDateTimeField(source="last_seen_at", allow_null=True)

    def to_representation(self, user):
        data = super().to_representation(user)
        data["profileImage"] = data["profileImage"] or None
        return data


class UserSearchResultSerializer(UserStatusMixin, serializers.Serializer):
    clerkId = serializers.CharField(source="clerk_id")
    username = serializers.CharField()
    email = serializers.CharField()
    fullName = serializers.CharField(source="full_name")
    profileImage = serializers.CharField(source="image_url", allow_null=True)
    isParalyzed = serializers.BooleanField(source="is_paralyzed")
    status = serializers.SerializerMethodField()
    createdAt = IsoDateTimeField(source="created_at")

    def to_representation(self, user):
        data = super().to_representation(user)
        data["profileImage"] = data["profileImage"] or None
        return data


class UserSearchResponseSerializer(serializers.Serializer):
    users = UserSearchResultSerializer(many=True)


class UserSearchQuerySerializer(serializers.Serializer):
    q = StrictCharField(required=False, allow_blank=True, max_length=255, default="", help_text="Text to find.")


class _ProfileFieldsInput(serializers.Serializer):
    username = StrictCharField(required=False, allow_blank=True, max_length=255)
    fullName = StrictCharField(required=False, allow_blank=True, max_length=255, source="full_name")
    email = StrictEmailField(required=False, allow_blank=True, max_length=320)
    profileImage = StrictURLField(required=False, allow_blank=True, max_length=2048, source="image_url")


class ProfileCreateSerializer(_ProfileFieldsInput):
    # Required: the app picks the eye-tracking interface from it, so it must never be guessed.
    isParalyzed = StrictBooleanField(required=True, source="is_paralyzed")


class ProfileUpdateSerializer(_ProfileFieldsInput):
    isParalyzed = StrictBooleanField(required=False, source="is_paralyzed")


class BlockedUserSerializer(serializers.Serializer):
    """A user the caller blocks. Documents the shape `block_data` builds."""

    clerkId = serializers.CharField(source="blocked_id")
    username = serializers.CharField(source="blocked.username")
    fullName = serializers.CharField(source="blocked.full_name")
    profileImage = serializers.CharField(source="blocked.image_url", allow_null=True)
    blockedAt = IsoDateTimeField(source="created_at")


def block_data(block) -> dict:
    """The one builder of a block's outward shape (GET and POST /blocks)."""
    return {
        "clerkId": block.blocked_id,
        "username": block.blocked.username,
        "fullName": block.blocked.full_name,
        "profileImage": block.blocked.image_url or None,
        "blockedAt": iso_z(block.created_at),
    }


class BlockListSerializer(serializers.Serializer):
    blocks = BlockedUserSerializer(many=True)


class BlockResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    block = BlockedUserSerializer()


class BlockCreateSerializer(serializers.Serializer):
    clerkId = StrictCharField(max_length=255, help_text="The Clerk id of the user to block.")


class UnblockResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    wasBlocked = serializers.BooleanField(help_text="False when you did not block this user (nothing changed).")
