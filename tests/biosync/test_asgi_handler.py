"""biosync.asgi_handler: each HTTP request is served in one call to a pooled worker thread."""

from __future__ import annotations

import asyncio
import threading

import pytest
from django.core import signals

from biosync.asgi import django_asgi_app
from biosync.asgi_handler import SingleHopASGIHandler


def _call(path: str, headers=()) -> tuple[int, dict, bytes]:
    async def run():
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"127.0.0.1"), *headers],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 3000),
        }
        messages, received = [], False

        async def receive():
            nonlocal received
            if not received:
                received = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.Event().wait()

        async def send(message):
            messages.append(message)

        await django_asgi_app(scope, receive, send)
        return messages

    messages = asyncio.run(run())
    start = messages[0]
    body = b"".join(m.get("body", b"") for m in messages[1:])
    assert not messages[-1].get("more_body", False)
    return start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}, body


@pytest.fixture
def threads_seen():
    """The threads request_started and request_finished ran on."""
    seen = {"started": [], "finished": []}

    def started(**kwargs):
        seen["started"].append(threading.current_thread())

    def finished(**kwargs):
        seen["finished"].append(threading.current_thread())

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    yield seen
    signals.request_started.disconnect(started)
    signals.request_finished.disconnect(finished)


def test_the_django_app_is_the_single_hop_handler():
    assert isinstance(django_asgi_app, SingleHopASGIHandler)


def test_a_request_starts_and_finishes_on_one_pooled_worker_thread(threads_seen):
    status, headers, body = _call("/")
    assert status == 200 and headers["content-type"] == "application/json"
    assert body == b'{"status":"OK","message":"BioSync backend is running"}'
    (started,), (finished,) = threads_seen["started"], threads_seen["finished"]
    # The same thread, so the request's database connection goes back to the pool where it was taken.
    assert started is finished
    assert started.name.startswith("http") and started is not threading.main_thread()


def test_worker_threads_are_reused_not_started_per_request(threads_seen):
    for _ in range(20):
        _call("/")
    threads = set(threads_seen["started"])
    assert len(threads) <= django_asgi_app.executor._max_workers


def test_errors_keep_the_api_error_body():
    status, headers, body = _call("/no-such-route")
    assert status == 404 and body == b'{"error": "Not found"}'


def test_streaming_responses_are_sent_and_closed(threads_seen):
    status, headers, body = _call("/static/rest_framework/css/default.css")
    assert status == 200 and headers["content-type"].startswith("text/css")
    assert b"{" in body and len(body) == int(headers["content-length"])
    assert len(threads_seen["finished"]) == 1
