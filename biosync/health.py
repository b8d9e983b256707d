"""Probes and metrics for the load balancer / orchestrator and Prometheus.

No identity: probes carry no credentials. /healthz says only that the process answers;
/readyz that it can do its work (database, and Redis when REDIS_URL is set); /metrics is
this process's Prometheus exposition. Restrict /metrics at the proxy if it must not be public.
"""

import functools
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.db import close_old_connections, connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from kernel import redis
from kernel.logging import log_event

logger = logging.getLogger(__name__)

PROBE_METHODS = ("GET", "HEAD")


def probe(view):
    """GET and HEAD only; anything else is a JSON 405 naming what is allowed.

    CSRF-exempt: probes carry no cookies, and without it Django's CSRF check answers a POST
    with an HTML 403 before the method is even looked at.
    """

    @csrf_exempt
    @functools.wraps(view)
    def checked(request):
        if request.method not in PROBE_METHODS:
            response = JsonResponse({"error": f"Method {request.method} not allowed; use GET"}, status=405)
            response["Allow"] = ", ".join(PROBE_METHODS)
            return response
        return view(request)

    return checked


@probe
def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_redis() -> None:
    redis.client().ping()


# /readyz answers within this, whatever the database or Redis do: a probe that hangs is
# worse than one that says "down".
CHECK_TIMEOUT_SECONDS = 0.8
# One thread per check kind: a check still hanging from an earlier probe is reported, not
# queued behind (so a dead database never piles up threads).
_checkers = {
    name: ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"readyz-{name}") for name in ("database", "redis")
}
_pending: dict[str, Future] = {}


def _run(name: str, check) -> str:
    pending = _pending.get(name)
    if pending is not None and not pending.done():
        return "down: still waiting for the previous check"
    _pending[name] = future = _checkers[name].submit(_closing_connections(check))
    try:
        future.result(timeout=CHECK_TIMEOUT_SECONDS)
        return "ok"
    except FutureTimeout:
        return f"down: no answer within {CHECK_TIMEOUT_SECONDS} s"
    except Exception as exc:  # any failure means not ready; the kind goes in the answer
        return f"down: {type(exc).__name__}"


def _closing_connections(check):
    def run():
        try:
            check()
        finally:
            # The checker thread is not a request: hand its database connection back itself.
            close_old_connections()

    return run


@probe
def readyz(request):
    started = time.perf_counter()
    checks = {"database": _run("database", _check_database)}
    checks["redis"] = _run("redis", _check_redis) if settings.REDIS_URL else "not configured"
    down = sorted(name for name, state in checks.items() if state.startswith("down"))
    duration_ms = round((time.perf_counter() - started) * 1000, 2)
    if down:
        log_event(logger, "readyz.down", level=logging.WARNING, down=down, checks=checks, duration_ms=duration_ms)
        return JsonResponse({"error": f"{', '.join(down)} unreachable", "checks": checks}, status=503)
    return JsonResponse({"status": "ok", "checks": checks})


@probe
def metrics(request):
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
