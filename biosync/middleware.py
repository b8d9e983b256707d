"""One log line per HTTP request: method, path, status, time taken.

The query string is left out: search terms (users, the admin's message search) are
private. Probes and metric scrapes go at DEBUG, so they do not flood the log.
"""

import logging
import time

from asgiref.sync import iscoroutinefunction
from django.utils.decorators import sync_and_async_middleware

from kernel.logging import log_event

logger = logging.getLogger("biosync.http")

QUIET_PATHS = {"/healthz", "/readyz", "/metrics"}


def _log(request, response, started: float) -> None:
    log_event(
        logger,
        "http.request",
        level=logging.DEBUG if request.path in QUIET_PATHS else logging.INFO,
        method=request.method,
        path=request.path,
        status=response.status_code,
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
    )


@sync_and_async_middleware
def request_log_middleware(get_response):
    if iscoroutinefunction(get_response):

        async def middleware(request):
            started = time.perf_counter()
            response = await get_response(request)
            _log(request, response, started)
            return response

    else:

        def middleware(request):
            started = time.perf_counter()
            response = get_response(request)
            _log(request, response, started)
            return response

    return middleware
