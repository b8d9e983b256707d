"""In JSON mode every line a server process writes is one JSON object, tracebacks included
(as the `exc` field): the pub/sub listener's Redis retry lines, warnings, uncaught exceptions."""

import json
import logging
import sys
import threading

import pytest

from kernel.logging import JsonFormatter, log_uncaught_exceptions
from tests.chat.realtime.client import Client
from tests.conftest import free_port

pytestmark = pytest.mark.django_db(transaction=True)


def _lines(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines
    return [json.loads(line) for line in lines]  # raises on the first line that is not JSON


async def test_a_server_with_redis_down_writes_only_json_lines(asgi_server_factory):
    # Nothing listens on this port: the pub/sub listener (chat.realtime.server) retries and logs.
    server = asgi_server_factory(LOG_FORMAT="json", REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    client = await Client(server.url).connect()
    await client.emit("register_user", {"clerkId": "user_nobody_json"})
    await client.next("registered")
    await client.close()
    server.stop()
    records = _lines(server.log())
    assert any("pub/sub lost" in r.get("message", "") for r in records)
    assert any("REST on http://" in r.get("message", "") for r in records)
    assert all({"ts", "level", "logger"} <= set(r) for r in records)


def test_a_traceback_is_a_field_of_the_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, exc_info=sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    body = json.loads(line)
    assert body["message"] == "failed" and "ValueError: boom" in body["exc"] and "Traceback" in body["exc"]


def test_an_uncaught_exception_in_a_thread_is_logged(caplog):
    before = threading.excepthook
    try:
        log_uncaught_exceptions()
        thread = threading.Thread(target=lambda: 1 / 0, name="crashing")
        with caplog.at_level(logging.ERROR, logger="biosync.uncaught"):
            thread.start()
            thread.join()
        (record,) = [r for r in caplog.records if r.name == "biosync.uncaught"]
        assert record.getMessage() == "uncaught exception in thread crashing"
        assert record.exc_info[0] is ZeroDivisionError
    finally:
        threading.excepthook = before
        sys.excepthook = sys.__excepthook__


def test_a_client_chosen_string_never_splits_the_line():
    record = logging.makeLogRecord({"msg": "x", "levelname": "WARNING", "socket_event": "a\x85b\u2028c\u2029d\ne"})
    line = JsonFormatter().format(record)
    assert len(line.splitlines()) == 1
    assert json.loads(line)["socket_event"] == "a\x85b\u2028c\u2029d\ne"
