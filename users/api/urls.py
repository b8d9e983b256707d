from django.urls import path

from users.api.blocks import BlockViewSet
from users.api.views import UserViewSet

urlpatterns = [
    path("users", UserViewSet.as_view({"post": "create"}), name="users"),
    path("users/me", UserViewSet.as_view({"get": "me", "patch": "update_me"}), name="users-me"),
    path("users/search", UserViewSet.as_view({"get": "search"}), name="users-search"),
    path("blocks", BlockViewSet.as_view({"get": "index", "post": "create"}), name="blocks"),
    path("blocks/<str:clerkId>", BlockViewSet.as_view({"delete": "destroy"}), name="block-detail"),
]
