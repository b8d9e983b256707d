"""GET /sync: everything that changed for the caller after a cursor, across all conversations."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from changelog.services import CONTACT_CHANGED
from chat import selectors
from delivery import events
from kernel.api import BAD_REQUEST, UNAUTHORIZED, IsoDateTimeField, QueryIntegerField, validated

KINDS = [events.RECEIVE_MESSAGE, events.MESSAGES_READ, events.MESSAGE_EDITED, events.MESSAGE_DELETED, CONTACT_CHANGED]


class SyncQuerySerializer(serializers.Serializer):
    CURSOR_ERROR = "Must be a cursor from /sync (a whole number, 0 or more)."
    LIMIT_ERROR = "Must be a whole number, 1 or more."

    after = QueryIntegerField(
        required=False, min_value=0, default=0,
        error_messages={"invalid": CURSOR_ERROR, "min_value": CURSOR_ERROR},
        help_text="The `cursor` of the last page read; 0 (the default) starts from the beginning.",
    )  # fmt: skip
    limit = QueryIntegerField(
        required=False, min_value=1, default=selectors.SYNC_DEFAULT_LIMIT,
        error_messages={"invalid": LIMIT_ERROR, "min_value": LIMIT_ERROR},
        help_text=f"Changes per page (default {selectors.SYNC_DEFAULT_LIMIT}; more than "
        f"{selectors.SYNC_MAX_LIMIT} counts as {selectors.SYNC_MAX_LIMIT}).",
    )  # fmt: skip


class ChangeSerializer(serializers.Serializer):
    cursor = serializers.IntegerField(help_text="This change's place in the caller's log.")
    type = serializers.ChoiceField(
        choices=KINDS,
        help_text="The Socket.IO event carrying the same `data` live, or `contact_changed` "
        "(`change`: added, updated or removed).",
    )
    data = serializers.DictField(help_text="The payload, as the Socket.IO event has it.")
    at = IsoDateTimeField(help_text="When the change was made.")


class SyncResponseSerializer(serializers.Serializer):
    changes = ChangeSerializer(many=True)
    cursor = serializers.IntegerField(help_text="Pass it as `after` for the next page (and the next /sync).")
    hasMore = serializers.BooleanField(help_text="Whether another page follows at once.")


SYNC_RESPONSE = OpenApiResponse(
    SyncResponseSerializer,
    examples=[
        OpenApiExample(
            "A page",
            value={
                "changes": [
                    {
                        "cursor": 41,
                        "type": "receive_message",
                        "at": "2025-11-06T12:30:00.000Z",
                        "data": {
                            "messageId": 123,
                            "from": "user_789",
                            "fromClerkId": "user_789",
                            "toClerkId": "user_123456",
                            "text": "Hey, how are you?",
                            "content": "Hey, how are you?",
                            "timestamp": "2025-11-06T12:30:00.000Z",
                            "conversationId": 5,
                            "messageType": "text",
                            "clientMessageId": None,
                        },
                    },
                    {
                        "cursor": 42,
                        "type": "messages_read",
                        "at": "2025-11-06T12:35:00.000Z",
                        "data": {"messageIds": [120, 121], "readAt": "2025-11-06T12:35:00.000Z", "readBy": "user_789"},
                    },
                    {
                        "cursor": 43,
                        "type": "message_deleted",
                        "at": "2025-11-06T12:40:00.000Z",
                        "data": {"messageId": 119, "conversationId": 5},
                    },
                    {
                        "cursor": 44,
                        "type": "contact_changed",
                        "at": "2025-11-06T12:41:00.000Z",
                        "data": {"change": "updated", "id": 7, "contactClerkId": "user_789", "nickname": "Johnny"},
                    },
                ],
                "cursor": 44,
                "hasMore": False,
            },
        ),  # fmt: skip
        OpenApiExample("Nothing new", value={"changes": [], "cursor": 44, "hasMore": False}),
    ],
)


class SyncView(APIView):
    @extend_schema(
        operation_id="sync",
        summary="Everything that changed for the caller after a cursor, in order",
        description="New messages (received and sent, from any device), read receipts on the caller's "
        "messages, deletions and moderator removals, and changes to the caller's contact list, across "
        "all conversations, oldest first. Call it with the `cursor` of the last page read (until "
        "`hasMore` is false); a client that keeps that cursor misses nothing and gets nothing twice.",
        parameters=[SyncQuerySerializer],
        responses={200: SYNC_RESPONSE, 400: BAD_REQUEST, 401: UNAUTHORIZED},
    )
    def get(self, request):
        query = validated(SyncQuerySerializer, request.query_params)
        page = selectors.sync_page(clerk_id=request.user.clerk_id, after=query["after"], limit=query["limit"])
        return Response({"changes": page.changes, "cursor": page.cursor, "hasMore": page.has_more})
