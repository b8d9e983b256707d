from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response

from kernel.api import UNAUTHORIZED, error_response, validated
from reports import services
from reports.api.serializers import ReportCreateSerializer, ReportResultSerializer, report_data

REPORT_EXAMPLE = {
    "id": 7,
    "messageId": 41,
    "clerkId": "user_789",
    "reason": "harassment",
    "details": "Keeps sending this after I asked them to stop.",
    "status": "open",
    "createdAt": "2025-11-06T12:30:00.000Z",
}
RESULT_EXAMPLE = {"success": True, "report": REPORT_EXAMPLE}


def _result(report) -> dict:
    return {"success": True, "report": report_data(report)}


class ReportViewSet(viewsets.ViewSet):
    @extend_schema(
        operation_id="reports_create",
        summary="Report a message you received, or a user you have a conversation with",
        description="Moderators review reports in the admin. 201 for a new report; 200 with the same report when "
        "you already have an open one about the same message or user. At most `RATE_LIMIT_REPORTS` reports per "
        "`RATE_LIMIT_REPORTS_WINDOW_SECONDS` (10 an hour by default), else 429.",
        request=ReportCreateSerializer,
        responses={
            201: OpenApiResponse(ReportResultSerializer, examples=[OpenApiExample("Filed", value=RESULT_EXAMPLE)]),
            200: OpenApiResponse(
                ReportResultSerializer, examples=[OpenApiExample("Already filed", value=RESULT_EXAMPLE)]
            ),
            400: error_response("Refused", "You can report only a message you received"),
            401: UNAUTHORIZED,
            404: error_response("Not your message", "Message not found"),
            429: error_response("Too many reports", "Too many reports: at most 10 per 3600 seconds; try again later"),
        },
        examples=[
            OpenApiExample(
                "A message",
                value={"messageId": 41, "reason": "harassment", "details": "Keeps sending this."},
                request_only=True,
            ),
            OpenApiExample("A user", value={"clerkId": "user_789", "reason": "impersonation"}, request_only=True),
        ],
    )
    def create(self, request):
        data = validated(ReportCreateSerializer, request.data)
        report, created = services.report_file(
            reporter_id=request.user.clerk_id, reason=data["reason"], details=data["details"],
            message_id=data.get("messageId"), clerk_id=data.get("clerkId"),
        )  # fmt: skip
        return Response(_result(report), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
