"""Prometheus metrics of this process, served at /metrics.

Each server process keeps and serves its own numbers (prometheus-client's default registry,
not its multiprocess mode): scrape every process, or sum them in Prometheus
(`sum without(instance)(...)`). A restart starts the counters again at zero, which
Prometheus' `rate()` expects.
"""

from __future__ import annotations

import functools
import logging

from django_prometheus.middleware import Metrics as DjangoHttpMetrics
from prometheus_client import Counter, Gauge, Histogram

from kernel.logging import log_event

logger = logging.getLogger("chat.send")

# Set by delivery.leases, which knows this process's sockets.
CONNECTED_SOCKETS = Gauge("biosync_connected_sockets", "Sockets of identified users connected to this process")


MESSAGES_STORED = Counter("biosync_messages_stored_total", "Messages stored (retries of a stored message not counted)")
SEND_LATENCY = Histogram(
    "biosync_send_latency_seconds",
    "send_message from arrival to answer (queueing, validation, storage, delivery), successful sends",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SEND_BATCH_SIZE = Histogram(
    "biosync_send_batch_size",
    "Sends written together in one batch (chat.realtime.sendqueue)",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
SEND_FAILURES = Counter("biosync_send_failures_total", "Sends refused or failed, by reason", ["reason"])


def send_failed(reason: str) -> None:
    SEND_FAILURES.labels(reason=reason).inc()


def socket_event_done(event: str, outcome: str, seconds: float) -> None:
    """The namespace reports each send_message: its latency, or why it failed."""
    if event != "send_message":
        return
    if outcome == "ok":
        SEND_LATENCY.observe(seconds)
    else:
        send_failed(outcome)


def send_recorded(result, seconds: float) -> None:
    """One outcome of a send in `chat.services.messages_send_many`: counted when stored, and one
    log line with ids and the text's length, never the text: these users' messages are private."""
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
        duration_ms=round(seconds * 1000, 2),
    )


# --- HTTP responses written outside Django's middleware (biosync/hotreads.py) ---------------
HOT_READS = Counter("biosync_http_hot_reads_total", "Requests answered by the hot-read lane, by view", ["view"])
HOT_READS_ON_LOOP = Counter(
    "biosync_http_hot_reads_on_loop_total",
    "Of those, the ones read on the event loop with no worker thread for the database (PostgreSQL)",
    ["view"],
)


@functools.cache
def _django_http():
    return DjangoHttpMetrics.get_instance()  # the middlewares' own instance


@functools.cache
def _http_children(view: str, method: str, transport: str, status: int) -> tuple:
    m = _django_http()
    return (
        m.requests_by_method.labels(method=method),
        m.requests_by_transport.labels(transport=transport),
        m.requests_by_view_transport_method.labels(view=view, transport=transport, method=method),
        m.responses_by_status.labels(status=str(status)),
        m.responses_by_status_view_method.labels(status=str(status), view=view, method=method),
        m.responses_by_charset.labels(charset="utf-8"),
        m.requests_latency_by_view_method.labels(view=view, method=method),
    )


def hot_read_counted(
    *, view: str, method: str, transport: str, status: int, body_bytes: int, seconds: float, on_loop: bool
):
    """Counts an answer of the hot-read lane, and counts it in django-prometheus's HTTP metrics
    as its two middlewares would have, so that those show every request whichever path answered."""
    HOT_READS.labels(view=view).inc()
    if on_loop:
        HOT_READS_ON_LOOP.labels(view=view).inc()
    m = _django_http()
    by_method, by_transport, by_view, by_status, by_status_view, by_charset, latency = _http_children(
        view, method, transport, status
    )
    m.requests_total.inc()
    by_method.inc()
    by_transport.inc()
    m.requests_body_bytes.observe(0)
    by_view.inc()
    by_status.inc()
    by_status_view.inc()
    by_charset.inc()
    m.responses_body_bytes.observe(body_bytes)
    latency.observe(seconds)
    m.requests_latency_before.observe(seconds)
    m.responses_total.inc()
