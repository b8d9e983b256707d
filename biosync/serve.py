"""Serve biosync.asgi on PORT (REST) and SOCKET_PORT (Socket.IO) in one process: `python -m biosync.serve`.

ASGI_SERVER picks the server:
- uvicorn (default): uvloop, httptools and the sans-I/O websockets protocol; measured about
  twice as fast per message as daphne here (README, Performance);
- daphne: the design card's server, kept working and tested.

Both ports are served by the same process and application, so a socket and the REST calls
of one client reach the same presence and pub/sub state either way.
"""

from __future__ import annotations

import os
import socket
import sys


def _listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _uvicorn(host: str, ports: list[int]) -> None:
    import uvicorn

    config = uvicorn.Config(
        "biosync.asgi:application",
        loop="auto",  # uvloop and httptools, installed by requirements.txt where they build
        http="auto",
        ws="websockets-sansio",
        # Chat frames are small JSON: compressing each costs more CPU than the bytes it saves.
        ws_per_message_deflate=False,
        lifespan="on",
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        # Our middleware writes one JSON line per request; Django's LOGGING stays in charge.
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=5,
    )
    # The application first: once the ports accept connections, Django is set up and serving.
    config.load()
    uvicorn.Server(config).run(sockets=[_listening_socket(host, port) for port in ports])


def _daphne(host: str, ports: list[int]) -> None:
    from daphne.cli import CommandLineInterface

    endpoints = [arg for port in ports for arg in ("-e", f"tcp:port={port}:interface={host}")]
    CommandLineInterface().run([*endpoints, "--proxy-headers", "biosync.asgi:application"])


def main() -> None:
    host = os.environ.get("HOST", "127.0.0.1")
    ports = list(dict.fromkeys(int(os.environ.get(name, default)) for name, default in (("PORT", 3000), ("SOCKET_PORT", 3002))))
    server = os.environ.get("ASGI_SERVER", "uvicorn")
    if server not in ("uvicorn", "daphne"):
        sys.exit(f"ASGI_SERVER must be uvicorn or daphne, not {server!r}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "biosync.settings")
    print(f"BioSync ({server}): REST on http://{host}:{ports[0]}, Socket.IO on http://{host}:{ports[-1]}", flush=True)
    (_uvicorn if server == "uvicorn" else _daphne)(host, ports)


if __name__ == "__main__":
    main()
