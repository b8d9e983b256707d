from django.urls import path

from contacts.api.views import ContactViewSet

urlpatterns = [
    path("contacts", ContactViewSet.as_view({"get": "index", "post": "create"}), name="contacts"),
    path(
        "contacts/<str:id>",
        ContactViewSet.as_view({"patch": "partial_update", "delete": "destroy"}),
        name="contact-detail",
    ),
]
