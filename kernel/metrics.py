"""Prometheus metrics of this process, served at /metrics.

Each server process keeps and serves its own numbers (prometheus-client's default registry,
not its multiprocess mode): scrape every process, or sum them in Prometheus
(`sum without(instance)(...)`). A restart starts the counters again at zero, which
Prometheus' `rate()` expects.
"""

from __future__ import annotations

import logging

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
