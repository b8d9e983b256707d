from rest_framework import serializers

from kernel.api import IsoDateTimeField, StrictCharField, StrictIdField
from kernel.timestamps import iso_z
from reports.models import ReportReason, ReportStatus
from reports.services import DETAILS_MAX_LENGTH


class ReportCreateSerializer(serializers.Serializer):
    messageId = StrictIdField(required=False, help_text="A message you received. Give this or clerkId.")
    clerkId = StrictCharField(
        required=False, max_length=255, help_text="A user you have a conversation with. Give this or messageId."
    )
    reason = serializers.ChoiceField(choices=ReportReason.choices, help_text="Why you report it, one of:")
    details = StrictCharField(required=False, allow_blank=True, max_length=DETAILS_MAX_LENGTH, default="")

    def validate(self, data):
        if ("messageId" in data) == ("clerkId" in data):
            raise serializers.ValidationError("Give either messageId or clerkId")
        return data


class ReportSerializer(serializers.Serializer):
    """A report as its reporter sees it. Documents the shape `report_data` builds."""

    id = serializers.IntegerField()
    messageId = serializers.IntegerField(source="message_id", allow_null=True)
    clerkId = serializers.CharField(source="reported_user_id")
    reason = serializers.ChoiceField(choices=ReportReason.choices)
    details = serializers.CharField()
    status = serializers.ChoiceField(choices=ReportStatus.choices)
    createdAt = IsoDateTimeField(source="created_at")


def report_data(report) -> dict:
    return {
        "id": report.pk,
        "messageId": report.message_id,
        "clerkId": report.reported_user_id,
        "reason": report.reason,
        "details": report.details,
        "status": report.status,
        "createdAt": iso_z(report.created_at),
    }


class ReportResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    report = ReportSerializer()
