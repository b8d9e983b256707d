from django.urls import path

from reports.api.views import ReportViewSet

urlpatterns = [
    path("reports", ReportViewSet.as_view({"post": "create"}), name="reports"),
]
