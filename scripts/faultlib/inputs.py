"""Hostile input: every socket event with random structures (hypothesis), lone surrogates, deep
nesting and huge sizes, each packet asking for an ack; and schemathesis over the OpenAPI at /doc."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faultlib.base import Context, Stage
from faultlib.stalled import StalledClient

EVENTS = ["register_user", "send_message", "mark_as_read", "edit_message", "delete_message", "typing_start",
          "typing_stop", "suggest"]  # fmt: skip
LONE = st.sampled_from(["\ud83d", "\ude00", "a\udfffb", "\ud800"])
TEXT = st.text(max_size=40) | LONE | st.builds(lambda s, t: s + t, st.text(max_size=10), LONE)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(TEXT, inner, max_size=5),
    max_leaves=20,
)
KEYS = st.sampled_from(["fromClerkId", "toClerkId", "text", "clientMessageId", "messageIds", "messageId", "clerkId"])
PAYLOAD = JSON | st.dictionaries(KEYS, JSON, max_size=5)
NAME = st.sampled_from(EVENTS) | TEXT


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


SPECIAL = [  # (event, raw JSON of the payload)
    ("send_message", '{"text": "' + "\\ud83d" + '"}'),
    ("send_message", _deep(2_000)),
    ("mark_as_read", _deep(5_000)),
    ("send_message", json.dumps({"text": "z" * 900_000})),  # under the frame limit, over MESSAGE_MAX_LENGTH
    ("send_message", json.dumps({"text": "z" * 1_200_000})),  # over the 1,000,000-byte frame limit
    ("edit_message", json.dumps({"messageId": 10**30, "text": ["a"] * 50_000})),
]


class Prober:
    """A raw WebSocket Socket.IO client: sends packets with ack ids and waits for each ack."""

    def __init__(self, url: str, clerk_id: str):
        self.client = StalledClient(url, clerk_id)  # registered; it reads only when asked here
        self.ws = self.client.ws
        self.ack_id = 0

    def ask(self, event: str, raw_payload: str, timeout: float = 10.0) -> dict | None:
        """The ack's payload, or None if none came within `timeout`."""
        self.ack_id += 1
        self.ws.send(f"42{self.ack_id}[{json.dumps(event)},{raw_payload}]")
        deadline = time.monotonic() + timeout
        self.ws.settimeout(timeout)
        while time.monotonic() < deadline:
            frame = self.ws.recv()
            if frame == "2":
                self.ws.send("3")
            elif frame.startswith(f"43{self.ack_id}["):
                answer = json.loads(frame[len(f"43{self.ack_id}") :])
                return answer[0] if answer and isinstance(answer[0], dict) else {}
        return None


async def hostile_payloads(ctx: Context) -> Stage:
    async with Stage(ctx, "hostile_payloads") as stage:
        a = stage.server("a")
        me, other = stage.users(a, 2)
        prober = await asyncio.to_thread(Prober, a.url, me)
        unanswered: list[str] = []
        asked = [0]

        def ask(event: str, raw: str) -> None:
            asked[0] += 1
            if prober.ask(event, raw) is None:
                unanswered.append(f"{event!r}: {raw[:80]!r}")

        @settings(max_examples=150 if ctx.short else 1500, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(name=NAME, payload=PAYLOAD)
        def random_packets(name, payload):
            ask(name, json.dumps(payload))  # ensure_ascii: a lone surrogate goes as a \\udXXX escape

        def run_all():
            for event, raw in SPECIAL:
                ask(event, raw)
            random_packets()
            # The socket still works: a plain send to a real user succeeds.
            plain = json.dumps({"fromClerkId": me, "toClerkId": other, "text": "still here"})
            return (prober.ask("send_message", plain) or {}).get("success") is True

        usable = await asyncio.to_thread(run_all)
        stage.check("0 unanswered hostile packets", not unanswered, f"{asked[0]} sent; unanswered: {unanswered[:3]}")
        stage.check("the socket still works afterwards", usable)
        stage.check("the server process is alive", a.proc.poll() is None)
        ctx.figures["hostile packets answered"] = f"{asked[0] - len(unanswered)} of {asked[0]}"
        await asyncio.to_thread(prober.client.close)
        stage.json_logs_check()
    return stage


async def schemathesis_doc(ctx: Context) -> Stage:
    async with Stage(ctx, "schemathesis") as stage:
        a = stage.server("a")
        (me,) = stage.users(a, 1)
        argv = [
            sys.executable, "-m", "schemathesis.cli", "run", f"{a.url}/doc",
            "--checks", "not_a_server_error,response_schema_conformance,status_code_conformance",
            "--header", f"x-clerk-id: {me}", "--max-examples", "10" if ctx.short else "100",
            "--generation-database", "none", "--seed", "1", "--no-color",
        ]  # fmt: skip
        out = await asyncio.to_thread(subprocess.run, argv, capture_output=True, text=True, timeout=600)
        tail = [line for line in out.stdout.splitlines() if line.strip()][-3:]
        stage.check("schemathesis: no 5xx, no schema violation", out.returncode == 0, " | ".join(tail)[-300:])
        stage.json_logs_check()
    return stage
