"""Request middleware: one log line per HTTP request, and an honest 503 while the database is
unreachable.

The log line has method, path, status and time taken. The query string is left out: search
terms (users, the admin's message search) are private. Probes and metric scrapes go at DEBUG,
so they do not flood the log.
"""

import logging
import time

from asgiref.sync import iscoroutinefunction
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.utils.decorators import sync_and_async_middleware

from kernel.logging import log_event

logger = logging.getLogger("biosync.http")

QUIET_PATHS = {"/healthz", "/readyz", "/metrics"}


def request_logged(*, method: str, path: str, status: int, started: float) -> None:
    """The one log line of a request (Django's here, the hot-read lane's in biosync/hotreads.py)."""
    log_event(
        logger,
        "http.request",
        level=logging.DEBUG if path in QUIET_PATHS else logging.INFO,
        method=method,
        path=path,
        status=status,
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
    )


@sync_and_async_middleware
def request_log_middleware(get_response):
    if iscoroutinefunction(get_response):

        async def middleware(request):
            started = time.perf_counter()
            response = await get_response(request)
            request_logged(method=request.method, path=request.path, status=response.status_code, started=started)
            return response

    else:

        def middleware(request):
            started = time.perf_counter()
            response = get_response(request)
            request_logged(method=request.method, path=request.path, status=response.status_code, started=started)
            return response

    return middleware


# What a client is told to wait before retrying while the database is unreachable.
DATABASE_RETRY_AFTER_SECONDS = 5


class DatabaseOutageMiddleware:
    """A request that fails because the database cannot be reached (down, restarting, the pool
    exhausted) is answered 503 `{error}` with Retry-After, not 500: nothing is wrong with the
    request, and it can be sent again unchanged."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return database_unavailable_response(method=request.method, path=request.path, exception=exception)


def database_unavailable_response(*, method: str, path: str, exception: Exception) -> JsonResponse | None:
    """The 503 for a request that failed because the database cannot be reached, logged; None
    for any other exception. Django's middleware and the hot-read lane both answer with it."""
    if not isinstance(exception, OperationalError | InterfaceError):
        return None
    log_event(logger, "http.database_unavailable", level=logging.WARNING, method=method, path=path,
              error=type(exception).__name__)  # fmt: skip
    response = JsonResponse({"error": "The database is unavailable; try again shortly"}, status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response
