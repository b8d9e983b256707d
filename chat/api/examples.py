"""OpenAPI response examples of the conversation routes."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from chat.api.serializers import (
    ConversationListSerializer,
    MarkReadResponseSerializer,
    MessageSerializer,
    MessagesResponseSerializer,
    SearchResponseSerializer,
)

MESSAGE_EXAMPLE = {
    "id": 123,
    "conversationId": 5,
    "fromClerkId": "user_789",
    "toClerkId": "user_123456",
    "content": "Hey, how are you?",
    "messageType": "text",
    "isRead": True,
    "readAt": "2025-11-06T12:35:00.000Z",
    "createdAt": "2025-11-06T12:30:00.000Z",
    "deliveredAt": "2025-11-06T12:30:00.000Z",
    "isMine": False,
    "removed": False,
    "clientMessageId": None,
    "editedAt": None,
    "deleted": False,
}
OTHER_USER_EXAMPLE = {
    "clerkId": "user_789",
    "username": "john",
    "fullName": "John Doe",
    "profileImage": None,
    "nickname": "Johnny",
    "isParalyzed": False,
    "status": "offline",
}
MESSAGES_RESPONSE = OpenApiResponse(
    MessagesResponseSerializer,
    examples=[
        OpenApiExample(
            "Page",
            value={
                "conversationId": 5,
                "otherUser": OTHER_USER_EXAMPLE,
                "messages": [MESSAGE_EXAMPLE],
                "hasMore": False,
            },
        )
    ],
)
CONVERSATIONS_RESPONSE = OpenApiResponse(
    ConversationListSerializer,
    examples=[
        OpenApiExample(
            "Conversations",
            value={
                "conversations": [
                    {
                        "id": 5,
                        "otherUserClerkId": "user_789",
                        "createdAt": "2025-11-05T10:00:00.000Z",
                        "lastMessageAt": "2025-11-06T12:30:00.000Z",
                        "unreadCount": 1,
                        "lastMessage": MESSAGE_EXAMPLE,
                        "otherUser": OTHER_USER_EXAMPLE,
                    }
                ]
            },
        )
    ],
)
READ_RESPONSE = OpenApiResponse(
    MarkReadResponseSerializer,
    examples=[
        OpenApiExample(
            "Read",
            value={
                "success": True,
                "conversationId": 5,
                "messageIds": [123, 124],
                "readAt": "2025-11-06T12:35:00.000Z",
            },
        )
    ],
)
EDITED_RESPONSE = OpenApiResponse(
    MessageSerializer,
    description="The message as the caller now sees it.",
    examples=[
        OpenApiExample(
            "Edited",
            value={
                **MESSAGE_EXAMPLE,
                "fromClerkId": "user_123456",
                "toClerkId": "user_789",
                "isMine": True,
                "content": "Hey, how are you today?",
                "editedAt": "2025-11-06T12:31:10.000Z",
            },
        )
    ],
)
DELETED_RESPONSE = OpenApiResponse(
    MessageSerializer,
    description="The message as both users now see it: in its place, without content.",
    examples=[
        OpenApiExample(
            "Deleted",
            value={
                **MESSAGE_EXAMPLE,
                "fromClerkId": "user_123456",
                "toClerkId": "user_789",
                "isMine": True,
                "content": "",
                "deleted": True,
            },
        )
    ],
)
SEARCH_RESPONSE = OpenApiResponse(
    SearchResponseSerializer,
    examples=[
        OpenApiExample(
            "Hits",
            value={
                "results": [
                    {
                        "message": {**MESSAGE_EXAMPLE, "content": "The appointment is on Tuesday at 10"},
                        "conversationId": 5,
                        "otherUser": OTHER_USER_EXAMPLE,
                        "snippet": "The appointment is on Tuesday at 10",
                        "highlights": [[4, 15]],
                    }
                ],
                "nextCursor": 123,
            },
        )
    ],
)
