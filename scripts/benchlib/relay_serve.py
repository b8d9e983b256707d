"""Serves the chatload tools' Python relay ceiling (ceilings/relay_py.py) the way our server is
served: this repository's virtualenv (the same uvicorn, websockets, uvloop, httptools and
python-socketio versions) and biosync.serve's uvicorn transport settings (sans-I/O websockets,
no per-message deflate). Run with the repository on PYTHONPATH:

    .venv/bin/python scripts/benchlib/relay_serve.py CEILINGS_DIR PORT
"""

from __future__ import annotations

import sys

import uvicorn

from biosync.serve import UVICORN_TRANSPORT


def main() -> None:
    ceilings, port = sys.argv[1], int(sys.argv[2])
    sys.path.insert(0, ceilings)
    config = uvicorn.Config("relay_py:app", host="127.0.0.1", port=port, log_level="warning", **UVICORN_TRANSPORT)
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
