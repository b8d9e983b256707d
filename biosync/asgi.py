"""One ASGI application: Socket.IO at /socket.io/ (HTTP long-polling and WebSocket), Django for the rest."""

import gc
import logging
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "biosync.settings")

import django  # noqa: E402

# Django must be set up before anything that imports models.
django.setup(set_prefix=False)

from biosync.asgi_handler import SingleHopASGIHandler  # noqa: E402
from biosync.hotreads import HotReads  # noqa: E402
from users import checks  # noqa: E402

# ASGI servers run no system checks, and commands print users.W001 themselves: warn here, once.
if checks.dev_mode_unsafe():
    logging.getLogger("users.identity").warning(checks.DEV_MODE_WARNING)

# Each request in one call to a worker thread (biosync/asgi_handler.py), not Django's async chain;
# the two hot reads in front of it (biosync/hotreads.py).
django_asgi_app = SingleHopASGIHandler()
hot_reads_app = HotReads(django_asgi_app)

from channels.routing import ProtocolTypeRouter  # noqa: E402

from chat.realtime.server import SOCKETIO_PATH  # noqa: E402
from chat.realtime.server import asgi_app as socketio_app  # noqa: E402

SOCKETIO_PREFIX = f"/{SOCKETIO_PATH}/"


def http_route(scope, receive, send):
    """The HTTP side of the router: Socket.IO's long-polling, and Django (hot reads first) for the
    rest. A plain function, like `websocket_route`."""
    if scope["path"].startswith(SOCKETIO_PREFIX):
        return socketio_app(scope, receive, send)
    return hot_reads_app(scope, receive, send)


def websocket_route(scope, receive, send):
    """The WebSocket side of the router: Socket.IO's path, and a refusal for any other.

    A plain function that hands back the app's coroutine: nothing of the route stays alive for
    the connection's lifetime (URLRouter kept a copy of the scope and a frame per socket, about
    1 KB of each idle socket's memory; figures in the README, Performance)."""
    if scope["path"].startswith(SOCKETIO_PREFIX):
        return socketio_app(scope, receive, send)
    return _refuse_websocket(send)


async def _refuse_websocket(send) -> None:
    await send({"type": "websocket.close", "code": 1008})  # before accept: an HTTP 403 refusal


application = ProtocolTypeRouter(
    {
        "http": http_route,
        "websocket": websocket_route,
        "lifespan": socketio_app,
    }
)


# Garbage collection was the tail of delivery latency: with the default thresholds, full
# collections of this process's heap (Django, every socket's state) paused the event loop
# under load. Objects alive once the app is built live as long as the process: freeze them out
# of the collector's way, and collect the older generations rarely (most of ours are freed by
# reference counting anyway). The youngest generation is collected often enough that each of
# its pauses stays short: a young collection holding the GIL delays every socket at once.
# Figures: README, Performance.
gc.collect()
gc.freeze()
gc.set_threshold(10_000, 100, 10)

# The worker thread writing a batch of sends waits for the GIL after every database or Redis
# round trip; while the event loop is busy it got it back only after the default switch
# interval, several times per batch. A shorter interval hands it back sooner (figures: README,
# Performance).
sys.setswitchinterval(0.0005)
