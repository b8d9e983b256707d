from django.urls import path

from users.api.views import UserViewSet

urlpatterns = [
    path("users", UserViewSet.as_view({"post": "create"}), name="users"),
    path("users/me", UserViewSet.as_view({"get": "me", "patch": "update_me"}), name="users-me"),
    path("users/search", UserViewSet.as_view({"get": "search"}), name="users-search"),
]
