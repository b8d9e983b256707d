from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from biosync import docs_pages, health
from kernel import api_errors
from users.webhooks import clerk_webhook


class RootView(APIView):
    """Liveness for humans and load balancers; needs no identity."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="root",
        summary="Server is up",
        auth=[],
        responses={
            200: inline_serializer("Health", {"status": serializers.CharField(), "message": serializers.CharField()})
        },
        examples=[OpenApiExample("OK", value={"status": "OK", "message": "BioSync backend is running"})],
    )
    def get(self, request):
        return Response({"status": "OK", "message": "BioSync backend is running"})


# Moderators work in the lists: at 1,280 px the navigation sidebar took the width the Messages
# and Users lists need (the app index and breadcrumbs still lead everywhere).
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", RootView.as_view(), name="root"),
    path("", include("users.api.urls")),
    path("", include("contacts.api.urls")),
    path("", include("chat.api.urls")),
    path("", include("reports.api.urls")),
    path("", include("assist.api.urls")),
    # API documentation: the OpenAPI document at the seed's /doc, Scalar at the seed's /scalar.
    path("doc", SpectacularJSONAPIView.as_view(), name="schema"),
    path("scalar", docs_pages.scalar_page, name="scalar"),
    path("docs/swagger", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("docs/redoc", docs_pages.redoc_page, name="redoc"),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("webhooks/clerk", clerk_webhook, name="clerk-webhook"),
    # Last: every other path is a JSON 404, DEBUG or not.
    re_path(r"^(?P<path>.*)$", api_errors.unknown_route, name="unknown-route"),
]

handler400 = "kernel.api_errors.bad_request"
handler403 = "kernel.api_errors.permission_denied"
handler404 = "kernel.api_errors.not_found"
handler500 = "kernel.api_errors.server_error"
