"""scripts/admin_screenshots: the admin as a moderator sees it, in headless Chromium, over the DevTools protocol."""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websocket

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "screenshots"
WIDTHS = (1280, 1600)
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer in {timeout:.0f} s")


class Page:
    """One Chromium tab driven over the DevTools protocol: navigate, set a cookie, screenshot."""

    def __init__(self, debug_port: int):
        wait_for(f"http://127.0.0.1:{debug_port}/json/version")
        request = urllib.request.Request(f"http://127.0.0.1:{debug_port}/json/new?about:blank", method="PUT")
        target = json.load(urllib.request.urlopen(request, timeout=10))
        self.ws = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.ids = itertools.count(1)
        self.call("Page.enable")

    def call(self, method: str, **params) -> dict:
        call_id = next(self.ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            answer = json.loads(self.ws.recv())
            if answer.get("id") == call_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = self.call("Runtime.evaluate", expression="document.readyState")["result"].get("value")
            if (
                state == "complete"
                and self.call("Runtime.evaluate", expression="location.href")["result"]["value"] != "about:blank"
            ):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{url} did not load")

    def screenshot(self, path: Path, width: int) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1, mobile=False)
        time.sleep(0.3)  # one layout pass at the new width
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))
        print(path.relative_to(ROOT))


def main() -> None:
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"no Chromium at {CHROMIUM}: apt-get install chromium, or set CHROMIUM")
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="biosync-shots-"))
    port, debug_port = free_port(), free_port()
    env = {
        **os.environ, "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}", "REDIS_URL": "", "DEBUG": "false",
        "SECURE_COOKIES": "false", "LOG_LEVEL": "WARNING", "PORT": str(port), "SOCKET_PORT": str(port),
    }  # fmt: skip
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "seed_demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    session_key = (
        subprocess.run([*manage, "shell", "-c", SIGN_IN], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    server = subprocess.Popen([sys.executable, "-m", "biosync.serve"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    browser = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={work / 'chromium'}",
         f"--remote-debugging-port={debug_port}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/healthz")
        page = Page(debug_port)
        page.call("Network.enable")
        page.call("Network.setCookie", name="sessionid", value=session_key, url=base, path="/")
        pages = {
            "messages": "/admin/chat/message/",
            "users": "/admin/users/user/",
            "message": "/admin/chat/message/1/change/",
        }
        for name, path in pages.items():
            page.open(base + path)
            for width in WIDTHS:
                page.screenshot(OUT / f"{name}-{width}.png", width)
    finally:
        browser.terminate()
        server.terminate()
        browser.wait(10)
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)


# A superuser and a signed-in session for it; prints the session key.
SIGN_IN = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
Admin = get_user_model()
admin = Admin.objects.filter(username="moderator").first()
admin = admin or Admin.objects.create_superuser("moderator", "m@example.com", "screenshots")
session = SessionStore()
session[SESSION_KEY] = str(admin.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = admin.get_session_auth_hash()
session.create()
print(session.session_key)
"""

if __name__ == "__main__":
    main()
