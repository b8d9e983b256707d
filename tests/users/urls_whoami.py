"""A test-only route behind the project's default DRF authentication: who does the server see?"""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView


class WhoAmI(APIView):
    def get(self, request):
        return Response({"clerkId": request.user.clerk_id})


urlpatterns = [path("whoami", WhoAmI.as_view())]
