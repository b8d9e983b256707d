"""Numbers out of chatload's JSON results, and the tables scripts/bench prints."""

from __future__ import annotations

import statistics

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
        "msgs_s": result["throughput"], "p50": delivery.get("p50"), "p99": delivery.get("p99"),
        "ack_p99": ack.get("p99"), "sent": result["sent"], "received": received,
        "lost": result["missing"], "dup": result["duplicates"], "failed": result["failed"],
        "timed_out": result["timedOut"], "misrouted": result["misrouted"],
        "unregistered": result["connect"]["sockets"] - result["connect"]["registered"],
        "server_us": per_msg("server"), "db_us": per_msg("db"), "redis_us": per_msg("redis"),
        "server_core": server.get("pctOfOneCore"), "stored": stored,
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
    out["rounds"] = len(rows)
    return out


def _f(v, digits=1):
    return "-" if v is None else f"{v:,.{digits}f}"


def table(scenarios, targets, results) -> str:
    head = ("| scenario | server | msgs/s | delivery p50 ms | p99 ms | ack p99 ms | sent | lost | dup "
            "| failed | stored in DB | server CPU µs/msg | DB CPU µs/msg | Redis CPU µs/msg | server CPU % of a core |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for sc in scenarios:
        for t in targets:
            r = results.get((t, sc))
            if not r:
                continue
            lines.append(
                f"| {sc} | {t} | {_f(r['msgs_s'])} | {_f(r['p50'])} | {_f(r['p99'])} | {_f(r['ack_p99'])} "
                f"| {_f(r['sent'], 0)} | {_f(r['lost'], 0)} | {_f(r['dup'], 0)} | {_f(r['failed'], 0)} | {_f(r['stored'], 0)} "
                f"| {_f(r['server_us'], 0)} | {_f(r['db_us'], 0)} | {_f(r['redis_us'], 0)} | {_f(r['server_core'])} |")
    return "\n".join(lines)


def ratios(scenarios, results, base: str, against: list[str]) -> str:
    """`base` ÷ each other server: throughput above 1 is better, latency and CPU below 1."""
    lines = [f"| scenario | {base} ÷ | throughput | delivery p50 | delivery p99 | server CPU/msg "
             "| server+DB+Redis CPU/msg |", "|---|---|---|---|---|---|---|"]
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
