"""Prometheus metrics of this process, served at /metrics.

Each server process keeps and serves its own numbers (prometheus-client's default registry,
not its multiprocess mode): scrape every process, or sum them in Prometheus
(`sum without(instance)(...)`). A restart starts the counters again at zero, which
Prometheus' `rate()` expects.
"""

from __future__ import annotations

import functools
import logging
import time

from prometheus_client import Counter, Gauge, Histogram

from biosync.errors import ServiceError
from biosync.logging import log_event

logger = logging.getLogger("chat.send")

CONNECTED_SOCKETS = Gauge("biosync_connected_sockets", "Sockets of identified users connected to this process")


def _connected_sockets() -> int:
    # Read from presence at scrape time, so no connect/disconnect path can forget to count.
    from chat.realtime import presence

    return len(presence.local_sockets())


CONNECTED_SOCKETS.set_function(_connected_sockets)
MESSAGES_STORED = Counter("biosync_messages_stored_total", "Messages stored (retries of a stored message not counted)")
SEND_LATENCY = Histogram(
    "biosync_send_latency_seconds",
    "Time to store a message and hand its events to the sockets",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SEND_FAILURES = Counter("biosync_send_failures_total", "Sends refused or failed, by reason", ["reason"])


def send_failed(reason: str) -> None:
    SEND_FAILURES.labels(reason=reason).inc()


def instrument_send(service):
    """Wrap `message_send`: latency, stored count, failures by reason and one log line.

    The log line carries ids and the text's length, never the text: these users' messages
    are private.
    """

    @functools.wraps(service)
    def wrapper(**kwargs):
        started = time.perf_counter()
        try:
            result = service(**kwargs)
        except ServiceError as exc:
            send_failed(exc.code)
            log_event(logger, "message.refused", level=logging.INFO, reason=exc.code,
                      sender=kwargs.get("sender_id"), duration_ms=_ms(started))
            raise
        except Exception:
            send_failed("error")
            raise
        elapsed = time.perf_counter() - started
        SEND_LATENCY.observe(elapsed)
        message = result.message
        if result.created:
            MESSAGES_STORED.inc()
        log_event(
            logger,
            "message.stored" if result.created else "message.retry",
            message_id=message.id,
            conversation_id=message.conversation_id,
            sender=message.sender_id,
            recipient=message.recipient_id,
            length=len(message.content),
            status=result.status,
            duration_ms=round(elapsed * 1000, 2),
        )
        return result

    return wrapper


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
