from django.urls import path

from chat.api.sync import SyncView
from chat.api.views import ConversationViewSet, MessageViewSet

urlpatterns = [
    path("conversations", ConversationViewSet.as_view({"get": "index"}), name="conversations"),
    path(
        "conversations/<str:id>/messages",
        ConversationViewSet.as_view({"get": "messages"}),
        name="conversation-messages",
    ),
    path(
        "conversations/with/<str:contactClerkId>/messages",
        ConversationViewSet.as_view({"get": "messages_with"}),
        name="conversation-with-messages",
    ),
    # Before messages/<id>, which would take "search" for an id.
    path("messages/search", MessageViewSet.as_view({"get": "search"}), name="messages-search"),
    path("messages/<str:id>", MessageViewSet.as_view({"patch": "change", "delete": "remove"}), name="message"),
    path("sync", SyncView.as_view(), name="sync"),
    path("conversations/<str:id>/read", ConversationViewSet.as_view({"post": "read"}), name="conversation-read"),
]
