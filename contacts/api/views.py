from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from contacts import selectors, services
from contacts.api.serializers import (
    ContactCreateSerializer,
    ContactListSerializer,
    ContactResultSerializer,
    ContactUpdateSerializer,
    SuccessSerializer,
    acontact_online_ids,
    contact_data,
    contact_online_ids,
)
from kernel.api import BAD_REQUEST, ID_SCHEMA, LIST_RENDERERS, UNAUTHORIZED, error_response, parse_id, validated

CONTACT_EXAMPLE = {
    "id": 1,
    "contactClerkId": "user_789",
    "contactName": "John Doe",
    "nickname": "Johnny",
    "profileImage": "https://img.clerk.com/abc.png",
    "lastMessagePreview": "Hey, how are you?",
    "lastMessageAt": "2025-11-06T12:30:00.000Z",
    "unreadCount": 3,
    "status": "online",
    "isParalyzed": False,
    "username": "john",
    "lastSeenAt": "2025-11-06T12:31:00.000Z",
    "createdAt": "2025-11-05T10:00:00.000Z",
    "isBlocked": False,
}
CONTACT_ID = OpenApiParameter(
    "id", ID_SCHEMA, OpenApiParameter.PATH, description="The contact row's id (from GET /contacts)."
)
CONTACT_NOT_FOUND = error_response("Not one of your contacts", "Contact not found")


def contacts_list_body(*, owner_id: str) -> dict:
    """GET /contacts's body (the viewset's, and the hot-read lane's in biosync/hotreads.py)."""
    rows = selectors.contact_rows(owner_id=owner_id)
    online = contact_online_ids(rows)
    return {"contacts": [contact_data(row, online) for row in rows]}


async def acontacts_list_body(*, owner_id: str) -> dict:
    """`contacts_list_body` on the event loop (the lane, on PostgreSQL)."""
    rows = await selectors.acontact_rows(owner_id=owner_id)
    online = await acontact_online_ids(rows)
    return {"contacts": [contact_data(row, online) for row in rows]}


def _contact_body(contact) -> dict:
    [row] = selectors.contact_rows(owner_id=contact.owner_id, contact_pk=contact.pk)
    return {"success": True, "contact": contact_data(row, contact_online_ids([row]))}


class ContactViewSet(viewsets.ViewSet):
    """The caller's contact list. Other users' rows answer 404, exactly like missing ones."""

    renderer_classes = LIST_RENDERERS  # hot reads; their bodies hold no floats

    @extend_schema(
        operation_id="contacts_list",
        summary="The caller's contacts, most recent conversation first",
        description="Never-messaged contacts come last. `status` is live socket presence (always `offline` for "
        "a user who blocks you). `isBlocked`: you block this user.",
        responses={
            200: OpenApiResponse(
                ContactListSerializer, examples=[OpenApiExample("Contacts", value={"contacts": [CONTACT_EXAMPLE]})]
            ),
            401: UNAUTHORIZED,
        },
    )
    def index(self, request):
        return Response(contacts_list_body(owner_id=request.user.clerk_id))

    @extend_schema(
        operation_id="contacts_create",
        summary="Add a user to the caller's contacts",
        description="400 for an unknown or deactivated user, yourself, an existing contact, "
        "or a caller without a profile.",
        request=ContactCreateSerializer,
        responses={
            200: OpenApiResponse(
                ContactResultSerializer,
                examples=[OpenApiExample("Added", value={"success": True, "contact": CONTACT_EXAMPLE})],
            ),
            400: error_response("Refused", "Contact already exists"),
            401: UNAUTHORIZED,
        },
        examples=[OpenApiExample("Add", value={"contactClerkId": "user_789", "nickname": "Johnny"}, request_only=True)],
    )
    def create(self, request):
        data = validated(ContactCreateSerializer, request.data)
        contact = services.contact_add(
            owner_id=request.user.clerk_id, contact_clerk_id=data["contactClerkId"], nickname=data["nickname"]
        )
        return Response(_contact_body(contact))

    @extend_schema(
        operation_id="contacts_update",
        summary="Change a contact's nickname",
        parameters=[CONTACT_ID],
        request=ContactUpdateSerializer,
        responses={200: ContactResultSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: CONTACT_NOT_FOUND},
        examples=[OpenApiExample("Rename", value={"nickname": "Mum"}, request_only=True)],
    )
    def partial_update(self, request, id):
        contact_id = parse_id(id)
        data = validated(ContactUpdateSerializer, request.data)
        contact = services.contact_update(
            owner_id=request.user.clerk_id, contact_id=contact_id, nickname=data["nickname"]
        )
        return Response(_contact_body(contact))

    @extend_schema(
        operation_id="contacts_destroy",
        summary="Remove a contact",
        description="The conversation and its messages stay.",
        parameters=[CONTACT_ID],
        request=None,
        responses={200: SuccessSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: CONTACT_NOT_FOUND},
    )
    def destroy(self, request, id):
        services.contact_remove(owner_id=request.user.clerk_id, contact_id=parse_id(id))
        return Response({"success": True})
