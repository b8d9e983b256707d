from django.urls import path

from assist.api.views import AssistViewSet, ChatOptionsViewSet, PhraseViewSet, PreferencesViewSet

urlpatterns = [
    path("assist/suggestions", AssistViewSet.as_view({"get": "suggestions"}), name="assist-suggestions"),
    path("assist/model", AssistViewSet.as_view({"delete": "erase"}), name="assist-model"),
    path("chat/options", ChatOptionsViewSet.as_view({"post": "options"}), name="chat-options"),
    path("phrases", PhraseViewSet.as_view({"get": "index", "post": "create"}), name="phrases"),
    path("phrases/<str:id>", PhraseViewSet.as_view({"patch": "update_one", "delete": "destroy"}), name="phrase"),
    path(
        "users/me/preferences",
        PreferencesViewSet.as_view({"get": "retrieve_mine", "patch": "update_mine"}),
        name="preferences",
    ),
]
