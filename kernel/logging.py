"""One JSON object per line per event, for log shippers (Loki, CloudWatch, journald).

Call sites name the event and pass ids, counts and timings as fields:

    log_event(logger, "message.stored", message_id=12, length=40, duration_ms=3.1)

Never pass message text: these users' messages are private. Fields are ids, lengths,
codes and timings only.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import UTC, datetime

# LogRecord attributes that are not user fields, and uvicorn's `color_message` (the message
# again, with ANSI colour escapes for its own console handler).
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "color_message"}
_LINE_SEPARATORS = [("\x85", "\\u0085"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")]


def log_event(logger: logging.Logger, event: str, *, level: int = logging.INFO, **fields) -> None:
    if logger.isEnabledFor(level):
        # A field named like a LogRecord attribute (name, args, ...) would make logging raise.
        extra = {(f"{key}_" if key in _RESERVED else key): value for key, value in fields.items()}
        logger.log(level, event, extra={**extra, "event": event})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
        }
        event = getattr(record, "event", None)
        if event:
            body["event"] = event
        else:
            body["message"] = record.getMessage()
        for key, value in vars(record).items():
            if key not in _RESERVED and key != "event" and not key.startswith("_"):
                body[key] = value
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        line = json.dumps(body, default=str, ensure_ascii=False)
        # json.dumps escapes control characters but not these, which some readers (Python's
        # splitlines, JavaScript before ES2019) take as line ends: a client-chosen event name
        # must not split a line in two.
        for separator, escaped in _LINE_SEPARATORS:
            if separator in line:
                line = line.replace(separator, escaped)
        return line


class PlainFormatter(logging.Formatter):
    """Human-readable: `time LEVEL logger event key=value …` (LOG_FORMAT=plain)."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = " ".join(
            f"{key}={value}"
            for key, value in vars(record).items()
            if key not in _RESERVED and key != "event" and not key.startswith("_")
        )
        return f"{line} {extras}" if extras else line


def log_uncaught_exceptions() -> None:
    """Uncaught exceptions (the main thread's, a worker thread's) go through logging, so a
    JSON log stays one object per line with the traceback in its `exc` field."""
    crashes = logging.getLogger("biosync.uncaught")

    def main_thread(kind, value, traceback):
        crashes.critical("uncaught exception", exc_info=(kind, value, traceback))

    def other_thread(args):
        if args.exc_type is not SystemExit:
            crashes.error(
                "uncaught exception in thread %s", getattr(args.thread, "name", "?"),
                exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
            )  # fmt: skip

    sys.excepthook = main_thread
    threading.excepthook = other_thread
