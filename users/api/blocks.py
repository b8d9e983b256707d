from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from kernel.api import BAD_REQUEST, UNAUTHORIZED, error_response, validated
from kernel.errors import ServiceError
from users import blocks, selectors
from users.api.serializers import (
    BlockCreateSerializer,
    BlockListSerializer,
    BlockResultSerializer,
    UnblockResultSerializer,
    block_data,
)
from users.models import CLERK_ID_PATTERN, valid_clerk_id

BLOCK_EXAMPLE = {
    "clerkId": "user_789",
    "username": "john",
    "fullName": "John Doe",
    "profileImage": None,
    "blockedAt": "2025-11-06T12:30:00.000Z",
}
EFFECTS = (
    "While you block a user: their messages to you fail (`message_failed`, never stored or delivered), their "
    "typing never reaches you, you look offline to them and they get no `user_status` about you, they do not "
    "find you in search and cannot add you as a contact. They are told only that you cannot receive messages, "
    "as for a deleted account. You keep your history with them, and can still message them."
)


class BlockViewSet(viewsets.ViewSet):
    """The users the caller blocks."""

    @extend_schema(
        operation_id="blocks_list",
        summary="The users the caller blocks, most recent first",
        responses={
            200: OpenApiResponse(
                BlockListSerializer, examples=[OpenApiExample("Blocks", value={"blocks": [BLOCK_EXAMPLE]})]
            ),
            401: UNAUTHORIZED,
        },
    )
    def index(self, request):
        rows = selectors.blocks_list(blocker_id=request.user.clerk_id)
        return Response({"blocks": [block_data(block) for block in rows]})

    @extend_schema(
        operation_id="blocks_create",
        summary="Block a user",
        description=f"{EFFECTS} Blocking again changes nothing and answers the same. 400 for yourself, an unknown "
        "user, or a caller without a profile.",
        request=BlockCreateSerializer,
        responses={
            200: OpenApiResponse(
                BlockResultSerializer,
                examples=[OpenApiExample("Blocked", value={"success": True, "block": BLOCK_EXAMPLE})],
            ),
            400: error_response("Refused", "You cannot block yourself"),
            401: UNAUTHORIZED,
        },
        examples=[OpenApiExample("Block", value={"clerkId": "user_789"}, request_only=True)],
    )
    def create(self, request):
        data = validated(BlockCreateSerializer, request.data)
        block = blocks.user_block(blocker_id=request.user.clerk_id, blocked_id=data["clerkId"])
        return Response({"success": True, "block": block_data(block)})

    @extend_schema(
        operation_id="blocks_destroy",
        summary="Unblock a user",
        description="Everything blocking stopped works again from now on; nothing refused meanwhile is "
        "delivered later. Unblocking a user you do not block answers `wasBlocked: false`.",
        parameters=[
            OpenApiParameter(
                "clerkId",
                {"type": "string", "pattern": CLERK_ID_PATTERN.pattern},
                OpenApiParameter.PATH,
                description="The blocked user's Clerk id.",
            )
        ],
        request=None,
        responses={
            200: OpenApiResponse(
                UnblockResultSerializer,
                examples=[OpenApiExample("Unblocked", value={"success": True, "wasBlocked": True})],
            ),
            400: BAD_REQUEST,
            401: UNAUTHORIZED,
        },
    )
    def destroy(self, request, clerkId):
        if not valid_clerk_id(clerkId):
            raise ServiceError("clerkId is not a valid Clerk user id", code="invalid_id")
        removed = blocks.user_unblock(blocker_id=request.user.clerk_id, blocked_id=clerkId)
        return Response({"success": True, "wasBlocked": removed})
