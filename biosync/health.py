"""Probes and metrics for the load balancer / orchestrator and Prometheus.

No identity: probes carry no credentials. /healthz says only that the process answers;
/readyz that it can do its work (database, and Redis when REDIS_URL is set); /metrics is
this process's Prometheus exposition. Restrict /metrics at the proxy if it must not be public.
"""

import logging
import time

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from kernel import redis
from kernel.logging import log_event

logger = logging.getLogger(__name__)

@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_redis() -> None:
    redis.client().ping()


def _run(check) -> str:
    try:
        check()
        return "ok"
    except Exception as exc:  # any failure means not ready; the kind goes in the answer
        return f"down: {type(exc).__name__}"


@require_GET
def readyz(request):
    started = time.perf_counter()
    checks = {"database": _run(_check_database)}
    checks["redis"] = _run(_check_redis) if settings.REDIS_URL else "not configured"
    down = sorted(name for name, state in checks.items() if state.startswith("down"))
    duration_ms = round((time.perf_counter() - started) * 1000, 2)
    if down:
        log_event(logger, "readyz.down", level=logging.WARNING, down=down, checks=checks, duration_ms=duration_ms)
        return JsonResponse({"error": f"{', '.join(down)} unreachable", "checks": checks}, status=503)
    return JsonResponse({"status": "ok", "checks": checks})


@require_GET
def metrics(request):
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
