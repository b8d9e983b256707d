"""The performance issue's targets, checked against one run's results: lines of
target / measured / met?. The targets are ours; the same checks on the other servers are printed
for reference (the old server is expected to fail them)."""

from __future__ import annotations

from dataclasses import dataclass

from benchlib.report import CLIENT_COUNTS, chat_violations
from benchlib.scenarios import Scenario

MIN_MSGS_S = 1500
MIN_VS_OLD = 4.0
MIN_VS_RELAY = 0.75
CORRECTNESS = ((200, 8), (1000, 1))  # USERSxWINDOW scenarios that must lose nothing
OPEN_RATE, MAX_P99_MS = 500, 50.0
IDLE_SOCKETS, MAX_KB_PER_SOCKET = 1000, 25.0  # issue 18 (100 KB before it)
STORM_SOCKETS, MIN_CONNECT_VS_OLD = 1000, 1.0
REST_CONNECTIONS, MIN_REQ_S, MIN_REST_VS_OLD = 32, 1000.0, 1.0  # issue 18: ≥ 1.0× old, same run


@dataclass
class Line:
    number: str
    server: str
    target: str
    measured: str
    met: bool | None  # None: not measured

    def as_dict(self) -> dict:
        return {
            "number": self.number,
            "server": self.server,
            "target": self.target,
            "measured": self.measured,
            "met": self.met,
        }


def _n(v, digits=0):
    return "-" if v is None else f"{v:,.{digits}f}"


def _of_kind(scenarios: list[Scenario], kind: str, users: int) -> Scenario | None:
    """The scenario of this kind with the target's size, else any of that kind."""
    exact = next((s for s in scenarios if s.kind == kind and s.users == users), None)
    return exact or next((s for s in scenarios if s.kind == kind), None)


def evaluate(
    scenarios: list[Scenario], servers: list[str], chat: dict, memory: dict, rest: dict, storms: dict | None = None
) -> list[Line]:
    lines: list[Line] = []
    missing = lambda num, target, how: lines.append(Line(num, "ours", target, f"not measured ({how})", None))  # noqa: E731
    has_ours = "ours" in servers
    refs = [s for s in servers if s != "ours"]

    # 1. 200x1 throughput, absolute and against the old server and the Python relay, same run.
    sc = next((s for s in scenarios if s.kind == "chat" and s.users == 200 and s.window == 1), None)
    t1 = f"200x1: ≥ {MIN_MSGS_S:,} msgs/s"
    mine = chat.get(("ours", sc.name)) if sc and has_ours else None
    if not mine:
        missing("1", t1, "needs ours and scenario 200x1")
    else:
        v = mine["msgs_s"]
        lines.append(Line("1", "ours", t1, f"{_n(v)} msgs/s", v is not None and v >= MIN_MSGS_S))
        for other, need in (("old", MIN_VS_OLD), ("relay-py", MIN_VS_RELAY)):
            target = f"200x1: ≥ {need:g}× {other} (same run)"
            theirs = chat.get((other, sc.name))
            if not theirs:
                missing("1", target, f"needs target {other}")
                continue
            q = v / theirs["msgs_s"] if v is not None and theirs["msgs_s"] else None
            lines.append(
                Line(
                    "1",
                    "ours",
                    target,
                    f"{_n(q, 2)}× ({_n(v)} vs {_n(theirs['msgs_s'])} msgs/s)",
                    q is not None and q >= need,
                )
            )

    # 2. Correctness under concurrency, from chatload and from the database.
    for users, window in CORRECTNESS:
        name = f"{users}x{window}"
        sc = next((s for s in scenarios if s.kind == "chat" and s.users == users and s.window == window), None)
        t2c = f"{name}: nothing lost, duplicated, failed, timed out or misrouted"
        t2d = f"{name}: in the DB one conversation per pair, exact unread counts, no message stored twice"
        if not sc or not has_ours:
            missing("2", t2c, f"needs ours and scenario {name}")
            continue
        # For reference, the servers with a database (the relays store nothing to check).
        for server in ["ours", *[s for s in refs if (chat.get((s, sc.name)) or {}).get("check")]]:
            r = chat.get((server, sc.name))
            if not r:
                continue
            client = sum(r[k] or 0 for k in CLIENT_COUNTS)
            lines.append(
                Line(
                    "2", server, t2c, ", ".join(f"{k.replace('_', ' ')} {_n(r[k])}" for k in CLIENT_COUNTS), client == 0
                )
            )
            c = r.get("check")
            if c is None:
                if server in ("ours", "old"):
                    lines.append(Line("2", server, t2d, "not checked (no database)", None))
                continue
            db = chat_violations(r) - client
            lines.append(
                Line(
                    "2",
                    server,
                    t2d,
                    f"{c['conv_extra']:,} extra conversation(s) in {c['conv_pairs']:,} pairs, "
                    f"{c['misfiled']:,} misfiled, {c['unread_wrong']:,} contact row(s) with a wrong "
                    f"unread_count ({c['unread_missing']:,} increments missing, {c['unread_extra']:,} extra), "
                    f"{c['unread_uncovered']:,} uncovered, {c['stored_twice']:,} stored twice",
                    db == 0,
                )
            )

    # 3. Open-loop latency at 500 msgs/s.
    sc = next((s for s in scenarios if s.kind == "chat" and s.rate == OPEN_RATE), None)
    t3 = f"open loop at {OPEN_RATE} msgs/s: delivery p99 ≤ {MAX_P99_MS:g} ms, nothing lost"
    if not sc or not has_ours:
        missing("3", t3, f"needs ours and a scenario USERS@{OPEN_RATE}, e.g. 200@{OPEN_RATE}")
    else:
        for server in ["ours", *[s for s in refs if (s, sc.name) in chat]]:
            r = chat.get((server, sc.name))
            if not r:
                continue
            p99, lost = r["p99"], r["lost"]
            lines.append(
                Line(
                    "3",
                    server,
                    f"{sc.name}: delivery p99 ≤ {MAX_P99_MS:g} ms, nothing lost",
                    f"p99 {_n(p99, 1)} ms (p50 {_n(r['p50'], 1)}), {_n(r['msgs_s'])} msgs/s, lost {_n(lost)}",
                    p99 is not None and p99 <= MAX_P99_MS and not lost,
                )
            )

    # 4. Memory per idle registered socket.
    sc = _of_kind(scenarios, "idle", IDLE_SOCKETS)
    t4 = f"{IDLE_SOCKETS:,} idle registered sockets: ≤ {MAX_KB_PER_SOCKET:g} KB each (server RSS)"
    if not sc or ("ours", sc.name) not in memory:
        missing("4", t4, "needs ours and scenario idle1000")
    else:
        for server in ["ours", *[s for s in refs if (s, sc.name) in memory]]:
            m = memory[(server, sc.name)]
            kb = m["kb_per_socket"]
            all_up = m["registered"] == m["sockets"] and not m["dropped"]
            measured = (
                f"{_n(kb, 1)} KB/socket ({_n(m['registered'])}/{_n(m['sockets'])} registered, "
                f"RSS {_n(m['rss_before_kb'] / 1024, 1)} → {_n(m['rss_held_kb'] / 1024, 1)} MB)"
            )
            met = kb is not None and kb <= MAX_KB_PER_SOCKET and all_up
            if sc.users < IDLE_SOCKETS:
                measured += f"; the target is at {IDLE_SOCKETS:,} sockets (idle{IDLE_SOCKETS})"
                met = None
            lines.append(
                Line(
                    "4",
                    server,
                    f"{sc.name}: ≤ {MAX_KB_PER_SOCKET:g} KB per registered socket (server RSS)",
                    measured,
                    met,
                )
            )

    # 5. REST throughput at 32 connections.
    sc = next((s for s in scenarios if s.kind == "rest" and s.users == REST_CONNECTIONS), None)
    if not sc or not any(k[0] == "ours" and k[1] == sc.name for k in rest):
        missing(
            "5",
            f"REST at {REST_CONNECTIONS} connections: ≥ {MIN_REQ_S:,.0f} req/s per route, all 2xx",
            "needs ours and scenario rest",
        )
    else:
        for server in ["ours", *refs]:
            for (t, name, route), r in rest.items():
                if t != server or name != sc.name:
                    continue
                ok = r["req_s"] is not None and r["req_s"] >= MIN_REQ_S and not r["non2xx"] and not r["errors"]
                lines.append(
                    Line(
                        "5",
                        server,
                        f"`{route}`, {sc.users} connections: ≥ {MIN_REQ_S:,.0f} req/s, all 2xx",
                        f"{_n(r['req_s'])} req/s, p99 {_n(r['p99'], 1)} ms, {_n(r['non2xx'])} non-2xx, "
                        f"{_n(r['errors'])} errors",
                        ok,
                    )
                )
                old = rest.get(("old", name, route))
                if server == "ours" and old is not None and old["req_s"]:
                    ratio = (r["req_s"] or 0) / old["req_s"]
                    lines.append(
                        Line(
                            "5",
                            server,
                            f"`{route}`: ≥ {MIN_REST_VS_OLD:g}× old's req/s (same run)",
                            f"{ratio:.2f}× ({_n(r['req_s'])} vs {_n(old['req_s'])} req/s)",
                            ratio >= MIN_REST_VS_OLD and not r["non2xx"] and not r["errors"],
                        )
                    )

    # 6. Connecting (50 at a time) at least at the old server's rate, same run; the reconnect storm measured.
    storms = storms or {}
    sc = _of_kind(scenarios, "storm", STORM_SOCKETS)
    t6 = f"{STORM_SOCKETS:,} sockets connect and register: ≥ {MIN_CONNECT_VS_OLD:g}× old's rate (same run)"
    if not sc or ("ours", sc.name) not in storms:
        missing("6", t6, "needs ours and scenario storm1000")
    else:
        mine, old = storms[("ours", sc.name)], storms.get(("old", sc.name))
        if old is None:
            lines.append(Line("6", "ours", t6, f"{_n(mine['connect_s'], 2)} s; old not in this run", None))
        else:
            ratio = old["connect_s"] / mine["connect_s"] if mine["connect_s"] else None
            lines.append(
                Line(
                    "6",
                    "ours",
                    t6,
                    f"{_n(ratio, 2)}× ({_n(mine['connect_s'], 2)} s vs {_n(old['connect_s'], 2)} s)",
                    ratio is not None and ratio >= MIN_CONNECT_VS_OLD and mine["registered"] == mine["sockets"],
                )
            )
        for server in ["ours", *[s for s in refs if (s, sc.name) in storms]]:
            r = storms[(server, sc.name)]
            vs_old = (
                f", {old['storm_s'] / r['storm_s']:.2f}× old's rate" if old and server != "old" and r["storm_s"] else ""
            )
            lines.append(
                Line(
                    "6",
                    server,
                    f"{sc.name}: every socket dropped at once is registered again (measured)",
                    f"{_n(r['back'])}/{_n(r['registered'])} back in {_n(r['storm_s'], 2)} s{vs_old}",
                    r["back"] == r["registered"] == r["sockets"] and not r["timed_out"],
                )
            )
    return lines


def table(lines: list[Line]) -> str:
    out = ["| # | server | target | measured | met? |", "|---|---|---|---|---|"]
    for ln in lines:
        met = {True: "yes", False: "**NO**", None: "n/a"}[ln.met]
        if ln.server != "ours" and ln.met is not None:
            met = f"({'yes' if ln.met else 'no'}, reference)"
        out.append(f"| {ln.number} | {ln.server} | {ln.target} | {ln.measured} | {met} |")
    return "\n".join(out)
