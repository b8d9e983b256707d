import functools

from django.http import QueryDict
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from chat import search, selectors, services
from chat.api.examples import (
    CONVERSATIONS_RESPONSE,
    DELETED_RESPONSE,
    EDITED_RESPONSE,
    MESSAGES_RESPONSE,
    READ_RESPONSE,
    SEARCH_RESPONSE,
)
from chat.api.serializers import (
    MarkReadResponseSerializer,
    MessageEditSerializer,
    MessagesQuerySerializer,
    SearchQuerySerializer,
    conversation_data,
    message_data,
    other_user_data,
    search_hit_data,
)
from kernel.api import BAD_REQUEST, ID_SCHEMA, LIST_RENDERERS, UNAUTHORIZED, error_response, parse_id, validated
from kernel.errors import NotFoundError
from users.models import CLERK_ID_PATTERN, valid_clerk_id
from users.presence import aonline_ids, online_ids

CONVERSATION_ID = OpenApiParameter("id", ID_SCHEMA, OpenApiParameter.PATH, description="The conversation's id.")
MESSAGE_ID = OpenApiParameter("id", ID_SCHEMA, OpenApiParameter.PATH, description="The message's id.")
NOT_PARTICIPANT = error_response("Not one of your conversations", "Conversation not found")
NOT_YOUR_MESSAGE = error_response("A message you received", "You can only edit your own messages")
NO_MESSAGE = error_response("No such message in your conversations", "Message not found")


@functools.lru_cache(maxsize=256)
def _paging_of(items: tuple[tuple[str, tuple[str, ...]], ...]) -> dict:
    query = QueryDict(mutable=True)
    for key, values in items:
        query.setlist(key, list(values))
    return validated(MessagesQuerySerializer, query)


def _paging(query: QueryDict) -> dict:
    """The page's parameters, validated once per distinct query (most pages ask for the same
    `limit`): a DRF serializer deep-copies its fields for each instance, a tenth of a page's CPU."""
    return dict(_paging_of(tuple((key, tuple(values)) for key, values in query.lists())))


def _messages_body(me: str, conversation, page: selectors.MessagePage, online: set[str]) -> dict:
    # MessagesResponseSerializer's shape (the OpenAPI document's), built without its field machinery.
    return {
        "conversationId": conversation.pk,
        "otherUser": other_user_data(
            selectors.other_user(conversation, me), nickname=conversation.other_nickname, online=online
        ),
        "messages": [message_data(row, me) for row in page.messages],
        "hasMore": page.has_more,
    }


def _found(conversation):
    if conversation is None:
        raise NotFoundError("Conversation not found")
    return conversation


def conversation_messages_body(*, clerk_id: str, conversation_id: str, query) -> dict:
    """GET /conversations/{id}/messages's body (the viewset's, and the hot-read lane's in
    biosync/hotreads.py). Raises NotFoundError, or a 400's error, as the view answers them."""
    conversation = _found(
        selectors.conversation_for_participant(conversation_id=parse_id(conversation_id), clerk_id=clerk_id)
    )
    return _conversation_body(clerk_id, query, conversation)


def _conversation_body(me: str, query: QueryDict, conversation) -> dict:
    page = selectors.message_rows_page(conversation_id=conversation.pk, **_paging(query))
    other = selectors.other_user(conversation, me)
    return _messages_body(me, conversation, page, online_ids([other.clerk_id], viewer_id=me))


async def aconversation_messages_body(*, clerk_id: str, conversation_id: str, query) -> dict:
    """`conversation_messages_body` on the event loop (the lane, on PostgreSQL); raises as it does,
    and kernel.queries.NotCompiled until it has read this kind of page in this process."""
    conversation = _found(
        await selectors.aconversation_for_participant(conversation_id=parse_id(conversation_id), clerk_id=clerk_id)
    )
    page = await selectors.amessage_rows_page(conversation_id=conversation.pk, **_paging(query))
    other = selectors.other_user(conversation, clerk_id)
    return _messages_body(clerk_id, conversation, page, await aonline_ids([other.clerk_id], viewer_id=clerk_id))


class ConversationViewSet(viewsets.ViewSet):
    """Conversations and their message history. Other users' conversations answer 404."""

    renderer_classes = LIST_RENDERERS  # hot reads; their bodies hold no floats

    @extend_schema(
        operation_id="conversations_list",
        summary="The caller's conversations, newest first",
        responses={200: CONVERSATIONS_RESPONSE, 401: UNAUTHORIZED},
    )
    def index(self, request):
        me = request.user.clerk_id
        conversations = selectors.conversations_list(clerk_id=me)
        others = [selectors.other_user(c, me) for c in conversations]
        online = online_ids((u.clerk_id for u in others), viewer_id=me)
        nicknames = selectors.other_users_nicknames(clerk_id=me, users=others)
        body = [conversation_data(c, me, online=online, nicknames=nicknames) for c in conversations]
        return Response({"conversations": body})

    @extend_schema(
        operation_id="conversations_messages",
        summary="A page of a conversation's messages, oldest first",
        description="Without a cursor: the newest `limit` messages after skipping `offset` newest (the seed's "
        "paging). `before=<id>`: older history. `after=<id>`: newer messages, oldest first, for catching up.",
        parameters=[CONVERSATION_ID, MessagesQuerySerializer],
        responses={200: MESSAGES_RESPONSE, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_PARTICIPANT},
    )
    def messages(self, request, id):
        body = conversation_messages_body(
            clerk_id=request.user.clerk_id, conversation_id=id, query=request.query_params
        )
        return Response(body)

    @extend_schema(
        operation_id="conversations_with_messages",
        summary="Open the conversation with a user (created when missing) and page its messages",
        description="What the chat screen calls. 404 when that user does not exist; 400 for yourself or "
        "a caller without a profile.",
        parameters=[
            OpenApiParameter(
                "contactClerkId",
                {"type": "string", "pattern": CLERK_ID_PATTERN.pattern},
                OpenApiParameter.PATH,
                description="The other user's Clerk id.",
            ),
            MessagesQuerySerializer,
        ],
        responses={
            200: MESSAGES_RESPONSE,
            400: BAD_REQUEST,
            401: UNAUTHORIZED,
            404: error_response("No such user", "User not found"),
        },
    )
    def messages_with(self, request, contactClerkId):
        _paging(request.query_params)  # refuse bad paging before creating anything
        if not valid_clerk_id(contactClerkId):
            raise NotFoundError("User not found")
        conversation = services.conversation_open(clerk_id=request.user.clerk_id, other_clerk_id=contactClerkId)
        conversation = selectors.conversation_for_participant(
            conversation_id=conversation.pk, clerk_id=request.user.clerk_id
        )
        return Response(_conversation_body(request.user.clerk_id, request.query_params, conversation))

    @extend_schema(
        operation_id="conversations_read",
        summary="Mark every incoming message of a conversation read",
        description="Also resets the caller's unread count for that contact; the senders hear of it over Socket.IO.",
        parameters=[CONVERSATION_ID],
        request=None,
        responses={200: READ_RESPONSE, 400: BAD_REQUEST, 401: UNAUTHORIZED, 404: NOT_PARTICIPANT},
    )
    def read(self, request, id):
        conversation_id = parse_id(id)
        message_ids, read_at = services.conversation_mark_read(
            reader_id=request.user.clerk_id, conversation_id=conversation_id
        )
        return Response(
            MarkReadResponseSerializer(
                {"success": True, "conversationId": conversation_id, "messageIds": message_ids, "readAt": read_at}
            ).data
        )


class MessageViewSet(viewsets.ViewSet):
    """Search of the caller's messages, and a sender's changes to their own message. Messages of
    other users' conversations answer 404."""

    @extend_schema(
        operation_id="messages_search",
        summary="Search your messages, newest first",
        description="Full-text search over the messages of your conversations (all, or `conversationId`'s): "
        "every word of `q` must occur, each as the start of a word, case-insensitively. Removed and deleted "
        "messages are never found. Page with `cursor=<nextCursor>`.",
        parameters=[SearchQuerySerializer],
        responses={
            200: SEARCH_RESPONSE,
            400: error_response("No word in q, or bad paging", "q must contain at least one letter or digit"),
            401: UNAUTHORIZED,
            404: NOT_PARTICIPANT,
        },
    )
    def search(self, request):
        me = request.user.clerk_id
        params = validated(SearchQuerySerializer, request.query_params)
        conversation_id = params.get("conversationId")
        if conversation_id is not None and not selectors.conversation_for_participant(
            conversation_id=conversation_id, clerk_id=me
        ):
            raise NotFoundError("Conversation not found")
        page = search.messages_search(
            clerk_id=me, query=params["q"], conversation_id=conversation_id, cursor=params.get("cursor"),
            limit=params["limit"],
        )  # fmt: skip
        others = [selectors.other_user(hit.conversation, me) for hit in page.hits]
        online = online_ids({u.clerk_id for u in others})
        nicknames = selectors.other_users_nicknames(clerk_id=me, users=others)
        results = [search_hit_data(hit, me, online=online, nicknames=nicknames) for hit in page.hits]
        return Response({"results": results, "nextCursor": page.next_cursor})

    @extend_schema(
        operation_id="messages_edit",
        summary="Edit your own message",
        description="Within `MESSAGE_EDIT_WINDOW_SECONDS` (default 15 minutes) of sending, and not once it was "
        "removed or deleted. The same text rules as sending apply. Both users' sockets get `message_edited`. "
        "Sending the text it already has changes nothing.",
        parameters=[MESSAGE_ID],
        request=MessageEditSerializer,
        responses={
            200: EDITED_RESPONSE,
            400: error_response(
                "Bad text, window closed, removed or deleted",
                "Messages can be edited only within 15 minutes of sending",
            ),
            401: UNAUTHORIZED,
            403: NOT_YOUR_MESSAGE,
            404: NO_MESSAGE,
        },
    )
    def change(self, request, id):
        me = request.user.clerk_id
        message_id = parse_id(id)
        text = validated(MessageEditSerializer, request.data)["text"]
        services.message_edit(editor_id=me, message_id=message_id, text=text)
        return Response(message_data(selectors.message_row(message_id=message_id), me))

    @extend_schema(
        operation_id="messages_delete",
        summary="Delete your own message for everyone",
        description="It keeps its place in both users' pages with `content: \"\"` and `deleted: true`; both users' "
        'sockets get `message_deleted` with `deletedBy: "sender"`, and the previews and the recipient\'s unread '
        "count follow. Deleting it again answers the same.",
        parameters=[MESSAGE_ID],
        request=None,
        responses={
            200: DELETED_RESPONSE,
            400: BAD_REQUEST,
            401: UNAUTHORIZED,
            403: error_response("A message you received", "You can only delete your own messages"),
            404: NO_MESSAGE,
        },
    )
    def remove(self, request, id):
        me = request.user.clerk_id
        message_id = parse_id(id)
        services.message_delete(deleter_id=me, message_id=message_id)
        return Response(message_data(selectors.message_row(message_id=message_id), me))
