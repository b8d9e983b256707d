"""Serve biosync.asgi on PORT (REST) and SOCKET_PORT (Socket.IO) in one process: `python -m biosync.serve`.

ASGI_SERVER picks the server:
- uvicorn (default): uvloop, httptools and the sans-I/O websockets protocol; measured about
  twice as fast per message as daphne here (README, Performance);
- daphne: the design card's server, kept working and tested.

Both ports are served by the same process and application, so a socket and the REST calls
of one client reach the same presence and pub/sub state either way.
"""

from __future__ import annotations

import errno
import importlib
import logging
import os
import socket
import sys

import django
from django.conf import settings

from biosync import preflight
from biosync.env import exit_on_config_error
from biosync.wsprotocol import SlimWebSocketsProtocol
from kernel.logging import JsonFormatter, log_uncaught_exceptions

logger = logging.getLogger("biosync.serve")

# How uvicorn carries the sockets. scripts/bench serves its Python relay ceiling with these too,
# so the relay differs from us by what the application does, not by transport.
UVICORN_TRANSPORT = {
    "loop": "auto",  # uvloop and httptools, installed by requirements.txt where they build
    "http": "auto",
    # uvicorn's "websockets-sansio" protocol, holding less per connection (biosync/wsprotocol.py).
    "ws": SlimWebSocketsProtocol,
    # Chat frames are small JSON: compressing each costs more CPU than the bytes it saves.
    "ws_per_message_deflate": False,
    # Engine.IO's own ping and pong (python-engineio) find dead peers; a WebSocket ping timer
    # besides, per socket, would only cost memory and wake-ups.
    "ws_ping_interval": None,
    # Our middleware writes one line per request; Django's LOGGING stays in charge.
    "access_log": False,
    "log_config": None,
    "lifespan": "on",
    "timeout_graceful_shutdown": 5,
}


def _listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _listening_sockets(host: str, ports: dict[int, str]) -> list[socket.socket]:
    """Bind every port before anything says it is served; a refusal exits naming its variable."""
    sockets = []
    for port, variable in ports.items():
        try:
            sockets.append(_listening_socket(host, port))
        except OSError as exc:
            reason = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound ({exc.strerror})"
            sys.exit(
                f"{variable}: port {port} on {host} {reason}; stop what listens there or set {variable} to a free port"
            )
    return sockets


def _uvicorn(sockets: list[socket.socket]) -> None:
    import uvicorn

    config = uvicorn.Config(
        "biosync.asgi:application",
        proxy_headers=True,
        forwarded_allow_ips=settings.FORWARDED_ALLOW_IPS,
        **UVICORN_TRANSPORT,
    )
    config.load()
    uvicorn.Server(config).run(sockets=sockets)


def _daphne(sockets: list[socket.socket]) -> None:
    from daphne.cli import CommandLineInterface

    # Twisted adopts the sockets bound above instead of binding its own. Daphne's "fd:" endpoint
    # takes no address family: IPv4 only (main refuses an IPv6 HOST with daphne).
    endpoints = [arg for sock in sockets for arg in ("-e", f"fd:fileno={sock.fileno()}")]
    CommandLineInterface().run([*endpoints, "--proxy-headers", "biosync.asgi:application"])


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "biosync.settings")
    with exit_on_config_error():
        django.setup(set_prefix=False)
    if settings.LOG_FORMAT == "json":
        log_uncaught_exceptions()
    problem = preflight.database_problem()
    if problem:
        sys.exit(problem)
    problem = preflight.redis_problem()
    if problem:
        logger.warning(problem)
    host, server = settings.HOST, settings.ASGI_SERVER
    if server == "daphne" and ":" in host:
        sys.exit(f"HOST: daphne serves IPv4 addresses only; use ASGI_SERVER=uvicorn for {host}")
    # The application first (uvicorn and daphne find it imported): once the ports accept
    # connections, Django is set up and serving.
    importlib.import_module("biosync.asgi")
    ports = {settings.PORT: "PORT"}
    ports.setdefault(settings.SOCKET_PORT, "SOCKET_PORT")  # equal ports share one socket
    sockets = _listening_sockets(host, ports)
    banner = (
        f"BioSync ({server}): REST on http://{host}:{settings.PORT}, Socket.IO on http://{host}:{settings.SOCKET_PORT}"
    )
    if settings.LOG_FORMAT == "json":
        # Printed whatever LOG_LEVEL says, and in the logs' format: a log shipper reads one JSON object a line.
        record = logging.makeLogRecord(
            {"name": logger.name, "levelno": logging.INFO, "levelname": "INFO", "msg": banner}
        )
        banner = JsonFormatter().format(record)
    print(banner, flush=True)
    (_uvicorn if server == "uvicorn" else _daphne)(sockets)


if __name__ == "__main__":
    main()
