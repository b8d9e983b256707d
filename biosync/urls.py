from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path

from biosync import health


def root(request):
    return JsonResponse({"status": "OK", "message": "BioSync backend is running"})


urlpatterns = [
    path("", root, name="root"),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
]

handler400 = "biosync.api_errors.bad_request"
handler403 = "biosync.api_errors.permission_denied"
handler404 = "biosync.api_errors.not_found"
handler500 = "biosync.api_errors.server_error"
