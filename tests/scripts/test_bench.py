"""scripts/bench's bookkeeping: how chatload results become the table's numbers and ratios, and
how the old server's package.json is made installable. (Its speed runs are scripts/bench itself.)"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from benchlib import checks, goals, prepare, report  # noqa: E402
from benchlib.scenarios import Scenario  # noqa: E402


def roles(server_pid, n_db=0, redis=False):
    return {"server": [server_pid], "db": [9000 + i for i in range(n_db)], "redis": [8000] if redis else []}


def chatload_result(
    *, throughput, p50, p99, received, server_pid, server_sec, db_secs=(), redis_sec=None, missing=0, failed=0
):
    pids = {str(server_pid): {"cpuSec": server_sec, "pctOfOneCore": 50.0, "procs": 1}}
    pids.update({str(9000 + i): {"cpuSec": s, "pctOfOneCore": 5.0, "procs": 1} for i, s in enumerate(db_secs)})
    if redis_sec is not None:
        pids["8000"] = {"cpuSec": redis_sec, "pctOfOneCore": 1.0, "procs": 1}
    return {
        "throughput": throughput,
        "sent": received + missing,
        "received": received,
        "missing": missing,
        "duplicates": 0,
        "failed": failed,
        "timedOut": 0,
        "misrouted": 0,
        "connect": {"sockets": 20, "registered": 19},
        "latencyMs": {"delivery": {"p50": p50, "p99": p99}, "ack": {"p50": p50, "p99": p99 + 1}},
        "cpu": {"pids": pids},
    }


def test_row_splits_server_database_and_redis_cpu_per_delivered_message():
    result = chatload_result(
        throughput=500.0,
        p50=10.0,
        p99=40.0,
        received=1000,
        server_pid=42,
        server_sec=0.5,
        db_secs=(0.1, 0.2),
        redis_sec=0.05,
        missing=3,
        failed=2,
    )
    r = report.row(result, roles(42, n_db=2, redis=True), stored=1003)
    assert r["server_us"] == 500.0  # 0.5 s / 1000 messages
    assert round(r["db_us"], 6) == 300.0 and round(r["redis_us"], 6) == 50.0
    assert (r["lost"], r["failed"], r["sent"], r["stored"], r["unregistered"]) == (3, 2, 1003, 1003, 1)


def test_row_without_database_pids_has_no_db_cpu():
    r = report.row(
        chatload_result(throughput=1.0, p50=1.0, p99=2.0, received=10, server_pid=7, server_sec=0.01), roles(7), None
    )
    assert r["db_us"] is None and r["redis_us"] is None and r["stored"] is None


def test_combine_takes_medians_of_rates_and_sums_of_counts():
    rows = [
        report.row(
            chatload_result(
                throughput=t, p50=t / 10, p99=t / 5, received=100, server_pid=1, server_sec=0.01, missing=m
            ),
            roles(1),
            None,
        )
        for t, m in ((100.0, 1), (300.0, 0), (200.0, 2))
    ]
    c = report.combine(rows)
    assert c["msgs_s"] == 200.0 and c["p99"] == 40.0
    assert c["lost"] == 3 and c["sent"] == 303 and c["rounds"] == 3


def test_ratios_divide_ours_by_each_other_server():
    ours = report.combine(
        [
            report.row(
                chatload_result(
                    throughput=900.0,
                    p50=5.0,
                    p99=20.0,
                    received=1000,
                    server_pid=1,
                    server_sec=0.3,
                    db_secs=(0.1,),
                    redis_sec=0.1,
                ),
                roles(1, n_db=1, redis=True),
                None,
            )
        ]
    )
    old = report.combine(
        [
            report.row(
                chatload_result(
                    throughput=300.0, p50=20.0, p99=80.0, received=1000, server_pid=2, server_sec=1.0, db_secs=(1.0,)
                ),
                roles(2, n_db=1),
                None,
            )
        ]
    )
    text = report.ratios(["20x1"], {("ours", "20x1"): ours, ("old", "20x1"): old}, "ours", ["old"])
    assert "| 20x1 | old | 3.00× | 0.25× | 0.25× | 0.30× | 0.25× |" in text  # (0.3+0.1+0.1) / 2.0


def test_old_package_json_installs_outside_its_monorepo_on_postgres_js():
    pkg = {
        "dependencies": {"@app/db": "workspace:*", "zod": "catalog:", "hono": "^4.8.2"},
        "devDependencies": {"tsdown": "catalog:", "typescript": "catalog:"},
    }
    out = prepare.adapt_package_json(pkg)
    assert out["dependencies"] == {"zod": "^4.1.11", "hono": "^4.8.2", "postgres": "^3.4.5"}
    assert out["devDependencies"] == {"tsdown": "^0.15.5", "typescript": "^5.8.2"}
    assert pkg["dependencies"]["zod"] == "catalog:"  # the input is left alone


def test_scenarios_are_closed_or_open_loop():
    assert Scenario.parse("200x8").args() == ["--window", "8"]
    assert Scenario.parse("200@150").args() == ["--rate", "150"]
    for bad in ("201x1", "200", "200x0", "x8", "200y8", "idle0", "idlex", "rest@3"):
        with pytest.raises(ValueError):
            Scenario.parse(bad)


def test_idle_and_rest_scenarios_default_to_the_targets_counts():
    assert (Scenario.parse("idle").kind, Scenario.parse("idle").users) == ("idle", 1000)
    assert Scenario.parse("idle200").users == 200
    assert (Scenario.parse("rest").kind, Scenario.parse("rest").users) == ("rest", 32)
    assert Scenario.parse("REST64").users == 64
    assert (Scenario.parse("drops").kind, Scenario.parse("drops").users) == ("drops", 1000)
    assert Scenario.parse("drops200").users == 200


def db_check(**bad):
    return {**{k: 0 for k in checks.FIELDS}, "stored": 100, "conv_pairs": 10, **bad}


def chat(throughput=1000.0, p99=20.0, lost=0, check=None):
    r = report.combine(
        [
            report.row(
                chatload_result(
                    throughput=throughput,
                    p50=p99 / 2,
                    p99=p99,
                    received=1000,
                    server_pid=1,
                    server_sec=1.0,
                    missing=lost,
                ),
                roles(1),
                None,
            )
        ]
    )
    r["check"] = check
    return r


def test_violations_add_chatload_counts_and_database_findings():
    r = chat(lost=2, check=db_check(conv_extra=3, unread_wrong=1, unread_missing=7))
    assert report.chat_violations(r) == 6  # missing increments are detail of the wrong rows, not more violations
    assert report.chat_violations(chat()) == 0
    assert "| 200x8 | old | 2 | 0 | 0 | 0 | 0 | - | 3 | 0 | 1 | 0 | 7 / 0 | 0 | 6 |" in report.correctness_table(
        ["200x8"], ["old"], {("old", "200x8"): r}
    )


def test_checks_only_accept_plain_prefixes():
    assert "'b1a2b3\\_%'" in checks.consistency_sql("b1a2b3")
    with pytest.raises(ValueError):
        checks.consistency_sql("x'; DROP TABLE messages; --")


def test_targets_compare_ours_with_the_thresholds_and_the_other_servers_of_the_same_run():
    scenarios = [Scenario.parse(s) for s in ("200x1", "200x8", "200@500", "idle1000", "rest")]
    results = {
        ("ours", "200x1"): chat(1600.0),
        ("old", "200x1"): chat(380.0),
        ("relay-py", "200x1"): chat(2000.0),
        ("ours", "200x8"): chat(check=db_check()),
        ("old", "200x8"): chat(lost=5, check=db_check(conv_extra=4)),
        ("ours", "200@500"): chat(p99=60.0),
    }
    memory = {
        ("ours", "idle1000"): {
            "kb_per_socket": 20.0,
            "registered": 1000,
            "sockets": 1000,
            "dropped": 0,
            "rss_before_kb": 100_000,
            "rss_held_kb": 120_000,
        }
    }
    rest = {
        ("ours", "rest", "GET /contacts"): {"req_s": 1200.0, "p99": 30.0, "non2xx": 0, "errors": 0},
        ("ours", "rest", "GET /messages"): {"req_s": 1200.0, "p99": 30.0, "non2xx": 3, "errors": 0},
        ("old", "rest", "GET /contacts"): {"req_s": 1100.0, "p99": 20.0, "non2xx": 0, "errors": 0},
        ("old", "rest", "GET /messages"): {"req_s": 1000.0, "p99": 20.0, "non2xx": 0, "errors": 0},
    }
    lines = goals.evaluate(scenarios, ["ours", "old", "relay-py"], results, memory, rest)
    got = [(ln.number, ln.server, ln.met) for ln in lines]
    assert got == [
        ("1", "ours", True),
        ("1", "ours", True),
        ("1", "ours", True),  # 1600; 4.21x old; 0.8x relay
        ("2", "ours", True),
        ("2", "ours", True),
        ("2", "old", False),
        ("2", "old", False),
        ("2", "ours", None),  # 1000x1 not run
        ("3", "ours", False),  # p99 60 ms
        ("4", "ours", True),
        ("5", "ours", True),
        ("5", "ours", True),  # 1.09x old
        ("5", "ours", False),  # non-2xx answers fail the route
        ("5", "ours", False),  # 1.2x old, but not all 2xx
        ("5", "old", True),
        ("5", "old", True),
        ("6", "ours", None),  # storm1000 not run
    ]
    assert "1.09× (1,200 vs 1,100 req/s)" in lines[11].measured
    assert "4.21× (1,600 vs 380 msgs/s)" in lines[1].measured
    table = goals.table(lines)
    assert "| 3 | ours |" in table and "**NO**" in table and "(no, reference)" in table and "| n/a |" in table


def test_the_storm_target_compares_connecting_with_the_old_server_of_the_same_run():
    scenarios = [Scenario.parse("storm1000")]
    row = {"sockets": 1000, "registered": 1000, "back": 1000, "recovered": 1000, "timed_out": False}
    storms = {
        ("ours", "storm1000"): {**row, "connect_s": 2.0, "storm_s": 3.0},
        ("old", "storm1000"): {**row, "connect_s": 1.6, "recovered": 0, "storm_s": 2.0},
        ("relay-py", "storm1000"): {**row, "back": 999, "connect_s": 1.5, "recovered": 0, "storm_s": 2.5},
    }
    lines = goals.evaluate(scenarios, ["ours", "old", "relay-py"], {}, {}, {}, storms)
    storm = [(ln.server, ln.met) for ln in lines if ln.number == "6"]
    assert storm == [("ours", False), ("ours", True), ("old", True), ("relay-py", False)]
    assert "0.80× (2.00 s vs 1.60 s)" in next(ln.measured for ln in lines if ln.number == "6")
    assert Scenario.parse("storm").users == 1000 and Scenario.parse("storm50").kind == "storm"
