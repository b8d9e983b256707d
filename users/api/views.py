from django.http import JsonResponse
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from kernel.api import BAD_REQUEST, NOT_FOUND, UNAUTHORIZED, validated
from users import presence, selectors, services
from users.api import openapi  # noqa: F401  (registers the security schemes)
from users.api.serializers import (
    ProfileCreateSerializer,
    ProfileSerializer,
    ProfileUpdateSerializer,
    UserSearchQuerySerializer,
    UserSearchResponseSerializer,
)

PROFILE_EXAMPLE = OpenApiExample(
    "Profile",
    value={
        "clerkId": "user_2abc",
        "isParalyzed": False,
        "status": "online",
        "createdAt": "2025-11-06T12:00:00.000Z",
        "username": "ada",
        "fullName": "Ada Lovelace",
        "email": "ada@example.com",
        "profileImage": None,
        "lastSeenAt": "2025-11-06T12:30:00.000Z",
    },
    response_only=True,
)


def _profile(user) -> dict:
    return ProfileSerializer(user, context={"online": presence.online_ids([user.clerk_id])}).data


class UserViewSet(viewsets.ViewSet):
    """The caller's BioSync profile, and search among other users."""

    @extend_schema(
        operation_id="users_me_retrieve",
        summary="The caller's profile, or null when it has none yet",
        description="`null` (status 200) means the signed-in user has no profile: the app shows onboarding. "
        "`status` follows socket presence; this call does not change it.",
        responses={
            200: OpenApiResponse(
                # Profile or null; the Profile component itself comes from the other routes.
                {"allOf": [{"$ref": "#/components/schemas/Profile"}], "nullable": True},
                examples=[PROFILE_EXAMPLE, OpenApiExample("No profile yet", value=None, response_only=True)],
            ),
            401: UNAUTHORIZED,
        },
    )
    def me(self, request):
        user = selectors.user_get(clerk_id=request.user.clerk_id)
        if user is None:
            # DRF renders None as an empty body; the frontend expects the JSON literal null.
            return JsonResponse(None, safe=False)
        return Response(_profile(user))

    @extend_schema(
        operation_id="users_create",
        summary="Create the caller's profile",
        request=ProfileCreateSerializer,
        responses={
            200: OpenApiResponse(ProfileSerializer, examples=[PROFILE_EXAMPLE]),
            400: BAD_REQUEST,
            401: UNAUTHORIZED,
        },
        examples=[OpenApiExample("Onboarding", value={"isParalyzed": True}, request_only=True)],
    )
    def create(self, request):
        data = validated(ProfileCreateSerializer, request.data)
        user = services.user_create(clerk_id=request.user.clerk_id, **data)
        return Response(_profile(user))

    @extend_schema(
        operation_id="users_me_update",
        summary="Change the caller's profile",
        request=ProfileUpdateSerializer,
        responses={
            200: OpenApiResponse(ProfileSerializer, examples=[PROFILE_EXAMPLE]),
            400: BAD_REQUEST,
            401: UNAUTHORIZED,
            404: NOT_FOUND,
        },
        examples=[OpenApiExample("Switch interface", value={"isParalyzed": False}, request_only=True)],
    )
    def update_me(self, request):
        data = validated(ProfileUpdateSerializer, request.data)
        user = services.user_update(clerk_id=request.user.clerk_id, **data)
        return Response(_profile(user))

    @extend_schema(
        operation_id="users_search",
        summary="Find other users by username, full name, email or Clerk id",
        description="Names and email match case-insensitively anywhere; a Clerk id matches exactly, or by its first "
        "5 or more characters (users without a name yet are found this way). At most 10, never the caller nor "
        "deactivated users. An empty `q` finds no one.",
        parameters=[UserSearchQuerySerializer],
        responses={200: UserSearchResponseSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED},
    )
    def search(self, request):
        query = validated(UserSearchQuerySerializer, request.query_params)["q"]
        users = selectors.users_search(query=query, exclude_clerk_id=request.user.clerk_id)
        online = presence.online_ids((u.clerk_id for u in users), viewer_id=request.user.clerk_id)
        return Response(UserSearchResponseSerializer({"users": users}, context={"online": online}).data)
