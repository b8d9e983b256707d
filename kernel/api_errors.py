"""Every API error leaves as `{"error": "<one readable sentence>", "details": ...}`.

The seed's frontend reads `error`; DRF's default bodies (`{"detail": ...}` or per-field lists)
would reach it as undefined.
"""

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from kernel.errors import ServiceError


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for field, value in detail.items():
            message = _first_message(value)
            return message if field in {"detail", "non_field_errors", "error"} else f"{field}: {message}"
        return "Invalid request"
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else "Invalid request"
    return str(detail)


def error_body_exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        return Response({"error": "Request body too large"}, status=413)
    if isinstance(exc, ServiceError):
        body = {"error": exc.message}
        if exc.details is not None:
            body["details"] = exc.details
        return Response(body, status=exc.status_code)
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = getattr(exc, "detail", response.data)
    body = {"error": _first_message(detail)}
    if isinstance(exc, exceptions.ValidationError) and isinstance(detail, (dict, list)):
        body["details"] = response.data
    response.data = body
    return response


def not_found(request, exception=None):
    return JsonResponse({"error": "Not found"}, status=404)


@csrf_exempt
def unknown_route(request, path=""):
    """The last URL pattern: any path no route matched, any method, is a JSON 404.

    handler404 alone is not enough: with DEBUG on (scripts/serve's default) Django answers
    an unmatched path with its HTML debug page instead. CSRF-exempt so a POST gets the 404,
    not an HTML CSRF 403. The admin keeps its own HTML 404s (its URLs end in a catch-all).
    """
    return not_found(request)


def server_error(request):
    return JsonResponse({"error": "Internal server error"}, status=500)


def bad_request(request, exception=None):
    return JsonResponse({"error": "Bad request"}, status=400)


def permission_denied(request, exception=None):
    return JsonResponse({"error": "Forbidden"}, status=403)
