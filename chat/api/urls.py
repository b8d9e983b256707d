from django.urls import path

from chat.api.sync import SyncView
from chat.api.views import ConversationViewSet

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
    path("sync", SyncView.as_view(), name="sync"),
    path("conversations/<str:id>/read", ConversationViewSet.as_view({"post": "read"}), name="conversation-read"),
]
