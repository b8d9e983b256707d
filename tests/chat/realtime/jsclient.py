"""The real socket.io-client from npm (tests/realtime_js), as the web frontend uses it, driven
from a test: a Node process per client, reporting what happens as JSON lines."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess

from tests.conftest import ROOT

JS_DIR = ROOT / "tests" / "realtime_js"
TIMEOUT = 15.0


def install_socketio_client() -> None:
    """`npm ci` from tests/realtime_js's lock file, once (node_modules is not committed)."""
    if (JS_DIR / "node_modules" / "socket.io-client").is_dir():
        return
    if shutil.which("npm") is None:
        raise RuntimeError("these tests need Node 18+ with npm (the real socket.io-client)")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True, timeout=600)


class JsClient:
    def __init__(self, process: asyncio.subprocess.Process):
        self.process = process
        self.lines: asyncio.Queue[dict] = asyncio.Queue()
        self.seen: list[dict] = []  # everything reported, in order
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def start(cls, url: str, clerk_id: str, **options) -> JsClient:
        args = ["node", str(JS_DIR / "client.mjs"), url, clerk_id]
        if options:
            args.append(json.dumps(options))
        process = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=JS_DIR
        )
        return cls(process)

    async def _read(self) -> None:
        while line := await self.process.stdout.readline():
            item = json.loads(line)
            self.seen.append(item)
            self.lines.put_nowait(item)

    async def next(self, kind: str, event: str | None = None, timeout: float = TIMEOUT) -> dict:
        """The next report of this kind (and event name); earlier other ones are skipped."""

        async def find():
            while True:
                item = await self.lines.get()
                if item["type"] == kind and (event is None or item.get("event") == event):
                    return item

        try:
            return await asyncio.wait_for(find(), timeout)
        except TimeoutError:
            raise AssertionError(f"no {kind} {event or ''} within {timeout}s; reported so far: {self.seen}") from None

    async def until(self, predicate, timeout: float = TIMEOUT) -> None:
        """Returns once `predicate(self.seen)` holds, checked after each report."""

        async def wait():
            while not predicate(self.seen):
                await self.lines.get()

        await asyncio.wait_for(wait(), timeout)

    async def connected(self) -> dict:
        """The next (re)connect, once its register_user was answered."""
        connect = await self.next("connect")
        await self.next("event", "registered")
        return connect

    async def command(self, line: str) -> None:
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()

    async def drop(self) -> None:
        await self.command("drop")
        await self.next("disconnect")

    def events(self, *names: str) -> list[tuple[str, list]]:
        """(event, arguments) of every event received so far with one of these names, in order."""
        return [(i["event"], i["args"]) for i in self.seen if i["type"] == "event" and i["event"] in names]

    async def close(self) -> None:
        if self.process.returncode is None:
            self.process.stdin.close()
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self._reader.cancel()
