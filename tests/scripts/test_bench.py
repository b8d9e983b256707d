"""scripts/bench's bookkeeping: how chatload results become the table's numbers and ratios, and
how the old server's package.json is made installable. (Its speed runs are scripts/bench itself.)"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from benchlib import prepare, report  # noqa: E402
from benchlib.scenarios import Scenario  # noqa: E402


def roles(server_pid, n_db=0, redis=False):
    return {"server": [server_pid], "db": [9000 + i for i in range(n_db)], "redis": [8000] if redis else []}


def chatload_result(*, throughput, p50, p99, received, server_pid, server_sec, db_secs=(), redis_sec=None,
                    missing=0, failed=0):
    pids = {str(server_pid): {"cpuSec": server_sec, "pctOfOneCore": 50.0, "procs": 1}}
    pids.update({str(9000 + i): {"cpuSec": s, "pctOfOneCore": 5.0, "procs": 1} for i, s in enumerate(db_secs)})
    if redis_sec is not None:
        pids["8000"] = {"cpuSec": redis_sec, "pctOfOneCore": 1.0, "procs": 1}
    return {
        "throughput": throughput, "sent": received + missing, "received": received, "missing": missing,
        "duplicates": 0, "failed": failed, "timedOut": 0, "misrouted": 0,
        "connect": {"sockets": 20, "registered": 19},
        "latencyMs": {"delivery": {"p50": p50, "p99": p99}, "ack": {"p50": p50, "p99": p99 + 1}},
        "cpu": {"pids": pids},
    }


def test_row_splits_server_database_and_redis_cpu_per_delivered_message():
    result = chatload_result(throughput=500.0, p50=10.0, p99=40.0, received=1000, server_pid=42,
                             server_sec=0.5, db_secs=(0.1, 0.2), redis_sec=0.05, missing=3, failed=2)
    r = report.row(result, roles(42, n_db=2, redis=True), stored=1003)
    assert r["server_us"] == 500.0  # 0.5 s / 1000 messages
    assert round(r["db_us"], 6) == 300.0 and round(r["redis_us"], 6) == 50.0
    assert (r["lost"], r["failed"], r["sent"], r["stored"], r["unregistered"]) == (3, 2, 1003, 1003, 1)


def test_row_without_database_pids_has_no_db_cpu():
    r = report.row(chatload_result(throughput=1.0, p50=1.0, p99=2.0, received=10, server_pid=7, server_sec=0.01),
                   roles(7), None)
    assert r["db_us"] is None and r["redis_us"] is None and r["stored"] is None


def test_combine_takes_medians_of_rates_and_sums_of_counts():
    rows = [report.row(chatload_result(throughput=t, p50=t / 10, p99=t / 5, received=100, server_pid=1,
                                       server_sec=0.01, missing=m), roles(1), None)
            for t, m in ((100.0, 1), (300.0, 0), (200.0, 2))]
    c = report.combine(rows)
    assert c["msgs_s"] == 200.0 and c["p99"] == 40.0
    assert c["lost"] == 3 and c["sent"] == 303 and c["rounds"] == 3


def test_ratios_divide_ours_by_each_other_server():
    ours = report.combine([report.row(chatload_result(throughput=900.0, p50=5.0, p99=20.0, received=1000,
                                                      server_pid=1, server_sec=0.3, db_secs=(0.1,), redis_sec=0.1),
                                    roles(1, n_db=1, redis=True), None)])
    old = report.combine([report.row(chatload_result(throughput=300.0, p50=20.0, p99=80.0, received=1000,
                                                     server_pid=2, server_sec=1.0, db_secs=(1.0,)),
                                   roles(2, n_db=1), None)])
    text = report.ratios(["20x1"], {("ours", "20x1"): ours, ("old", "20x1"): old}, "ours", ["old"])
    assert "| 20x1 | old | 3.00× | 0.25× | 0.25× | 0.30× | 0.25× |" in text  # (0.3+0.1+0.1) / 2.0


def test_old_package_json_installs_outside_its_monorepo_on_postgres_js():
    pkg = {"dependencies": {"@app/db": "workspace:*", "zod": "catalog:", "hono": "^4.8.2"},
           "devDependencies": {"tsdown": "catalog:", "typescript": "catalog:"}}
    out = prepare.adapt_package_json(pkg)
    assert out["dependencies"] == {"zod": "^4.1.11", "hono": "^4.8.2", "postgres": "^3.4.5"}
    assert out["devDependencies"] == {"tsdown": "^0.15.5", "typescript": "^5.8.2"}
    assert pkg["dependencies"]["zod"] == "catalog:"  # the input is left alone


def test_scenarios_are_closed_or_open_loop():
    assert Scenario.parse("200x8").args() == ["--window", "8"]
    assert Scenario.parse("200@150").args() == ["--rate", "150"]
    for bad in ("201x1", "200", "200x0", "x8", "200y8"):
        with pytest.raises(ValueError):
            Scenario.parse(bad)
