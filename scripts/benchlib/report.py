"""Numbers out of chatload's JSON results, and the tables scripts/bench prints."""

from __future__ import annotations

import statistics

from benchlib import checks

MEDIAN_FIELDS = ("msgs_s", "p50", "p99", "ack_p99", "server_us", "db_us", "redis_us", "server_core")
SUM_FIELDS = ("sent", "received", "lost", "dup", "failed", "timed_out", "misrouted", "stored", "unregistered")


def row(result: dict, roles: dict[str, list[int]], stored: int | None) -> dict:
    """`roles`: the pids chatload measured, as {"server": [pid], "db": [...], "redis": [...]}."""
    delivery, ack = result["latencyMs"]["delivery"], result["latencyMs"]["ack"]
    cpu = (result.get("cpu") or {}).get("pids") or {}
    received = result["received"]

    def seconds(role):
        measured = [cpu[str(p)]["cpuSec"] for p in roles.get(role, []) if str(p) in cpu]
        return sum(measured) if measured else None

    def per_msg(role):
        sec = seconds(role)
        return sec / received * 1e6 if sec is not None and received else None

    server = cpu.get(str(roles["server"][0]), {})
    return {
        "msgs_s": result["throughput"],
        "p50": delivery.get("p50"),
        "p99": delivery.get("p99"),
        "ack_p99": ack.get("p99"),
        "sent": result["sent"],
        "received": received,
        "lost": result["missing"],
        "dup": result["duplicates"],
        "failed": result["failed"],
        "timed_out": result["timedOut"],
        "misrouted": result["misrouted"],
        "unregistered": result["connect"]["sockets"] - result["connect"]["registered"],
        "server_us": per_msg("server"),
        "db_us": per_msg("db"),
        "redis_us": per_msg("redis"),
        "server_core": server.get("pctOfOneCore"),
        "stored": stored,
    }


def combine(rows: list[dict]) -> dict:
    """Several rounds of one target and scenario: medians of rates, sums of counts."""
    out = {}
    for key in MEDIAN_FIELDS:
        vals = [r[key] for r in rows if r.get(key) is not None]
        out[key] = statistics.median(vals) if vals else None
    for key in SUM_FIELDS:
        vals = [r[key] for r in rows if r.get(key) is not None]
        out[key] = sum(vals) if vals else None
    out["check"] = combine_checks([r.get("check") for r in rows])
    out["rounds"] = len(rows)
    return out


def _f(v, digits=1):
    return "-" if v is None else f"{v:,.{digits}f}"


def table(scenarios, targets, results) -> str:
    head = (
        "| scenario | server | msgs/s | delivery p50 ms | p99 ms | ack p99 ms | sent | lost | dup "
        "| failed | stored in DB | server CPU µs/msg | DB CPU µs/msg | Redis CPU µs/msg | server CPU % of a core |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for sc in scenarios:
        for t in targets:
            r = results.get((t, sc))
            if not r:
                continue
            lines.append(
                f"| {sc} | {t} | {_f(r['msgs_s'])} | {_f(r['p50'])} | {_f(r['p99'])} | {_f(r['ack_p99'])} "
                f"| {_f(r['sent'], 0)} | {_f(r['lost'], 0)} | {_f(r['dup'], 0)} | {_f(r['failed'], 0)} | {_f(r['stored'], 0)} "
                f"| {_f(r['server_us'], 0)} | {_f(r['db_us'], 0)} | {_f(r['redis_us'], 0)} | {_f(r['server_core'])} |"
            )
    return "\n".join(lines)


def ratios(scenarios, results, base: str, against: list[str]) -> str:
    """`base` ÷ each other server: throughput above 1 is better, latency and CPU below 1."""
    lines = [
        f"| scenario | {base} ÷ | throughput | delivery p50 | delivery p99 | server CPU/msg "
        "| server+DB+Redis CPU/msg |",
        "|---|---|---|---|---|---|---|",
    ]
    for sc in scenarios:
        mine = results.get((base, sc))
        for other in against:
            theirs = results.get((other, sc))
            if not mine or not theirs:
                continue

            def q(key):
                a, b = mine.get(key), theirs.get(key)
                return f"{a / b:.2f}×" if a is not None and b else "-"

            def total(r):
                return None if r["server_us"] is None else r["server_us"] + (r["db_us"] or 0) + (r["redis_us"] or 0)

            a, b = total(mine), total(theirs)
            both = f"{a / b:.2f}×" if a is not None and b else "-"
            lines.append(f"| {sc} | {other} | {q('msgs_s')} | {q('p50')} | {q('p99')} | {q('server_us')} | {both} |")
    return "\n".join(lines)


def correctness_table(scenarios, targets, results) -> str:
    """chatload's counts and the database checks (benchlib.checks) per chat scenario and server."""
    head = (
        "| scenario | server | lost | dup | failed | timed out | misrouted | stored in DB | extra conversations "
        "| misfiled messages | contact rows with wrong unread_count | unread with no contact row "
        "| unread increments missing / extra | messages stored twice | violations |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for sc in scenarios:
        for t in targets:
            r = results.get((t, sc))
            if not r:
                continue
            c = r.get("check")
            counts = [_f(r[k], 0) for k in ("lost", "dup", "failed", "timed_out", "misrouted", "stored")]
            if c:
                db = [
                    _f(c["conv_extra"], 0),
                    _f(c["misfiled"], 0),
                    _f(c["unread_wrong"], 0),
                    _f(c["unread_uncovered"], 0),
                    f"{c['unread_missing']:,} / {c['unread_extra']:,}",
                    _f(c["stored_twice"], 0),
                ]
            else:
                db = ["-"] * 6
            v = chat_violations(r)
            lines.append(f"| {sc} | {t} | " + " | ".join(counts + db) + f" | {'-' if v is None else f'{v:,}'} |")
    return "\n".join(lines)


CLIENT_COUNTS = ("lost", "dup", "failed", "timed_out", "misrouted")
DB_VIOLATIONS = checks.VIOLATIONS


def chat_violations(r: dict) -> int | None:
    """Everything the correctness target forbids, chatload's and the database's (None: unknown)."""
    if any(r.get(k) is None for k in CLIENT_COUNTS):
        return None
    total = sum(r[k] for k in CLIENT_COUNTS)
    c = r.get("check")
    return total + sum(c[k] for k in DB_VIOLATIONS) if c else total


def combine_checks(checks: list[dict | None]) -> dict | None:
    """Database checks of several rounds (each on its own users): sums."""
    checks = [c for c in checks if c]
    return {k: sum(c[k] for c in checks) for k in checks[0]} if checks else None


def combine_any(rows: list[dict], sums=()) -> dict:
    """Idle and REST rounds: medians of numbers, sums of the `sums` counts."""
    out = {}
    for key in rows[0]:
        vals = [r[key] for r in rows if isinstance(r.get(key), (int, float)) and not isinstance(r.get(key), bool)]
        if key in sums:
            out[key] = sum(vals) if vals else None
        elif vals:
            out[key] = statistics.median(vals)
        else:
            out[key] = rows[-1][key]
    out["rounds"] = len(rows)
    return out


def memory_table(results) -> str:
    head = (
        "| scenario | server | sockets registered | connect s | RSS before MB | RSS held MB | KB per socket "
        "| RSS after disconnect MB | dropped while held |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for (t, sc), r in results.items():
        mb = lambda kb: _f(kb / 1024 if kb is not None else None)  # noqa: E731
        lines.append(
            f"| {sc} | {t} | {_f(r['registered'], 0)} / {_f(r['sockets'], 0)} | {_f(r['connect_s'])} "
            f"| {mb(r['rss_before_kb'])} | {mb(r['rss_held_kb'])} | {_f(r['kb_per_socket'])} "
            f"| {mb(r['rss_after_kb'])} | {_f(r['dropped'], 0)} |"
        )
    return "\n".join(lines)


def rest_table(results) -> str:
    head = (
        "| scenario | route | server | req/s | p50 ms | p99 ms | requests | non-2xx | errors+timeouts "
        "| server CPU % of a core | server CPU µs/req | DB CPU µs/req | items in a response |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for (t, sc, route), r in results.items():
        lines.append(
            f"| {sc} | `{route}` | {t} | {_f(r['req_s'])} | {_f(r['p50'])} | {_f(r['p99'])} "
            f"| {_f(r['requests'], 0)} | {_f(r['non2xx'], 0)} | {_f(r['errors'], 0)} "
            f"| {_f(r['server_core'])} | {_f(r['server_us'], 0)} | {_f(r['db_us'], 0)} "
            f"| {_f(r['items'], 0)} |"
        )
    return "\n".join(lines)
