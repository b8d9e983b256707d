"""scripts/bench_search end to end at a tiny size: it builds its database, measures, reads the
plans and drops the database again. (Its real runs are the README's Search benchmark.)"""

import subprocess
import sys
import uuid

import pytest
from django.conf import settings

from tests.conftest import ROOT, environ_without_config

pytestmark = pytest.mark.postgres


def test_bench_search_runs_and_cleans_up():
    params = settings.DATABASES["default"]
    base = f"postgres://{params.get('USER') or 'postgres'}@{params.get('HOST') or '127.0.0.1'}:{params.get('PORT') or 5432}"
    database = f"biosync_bench_search_test_{uuid.uuid4().hex[:8]}"
    run = subprocess.run(
        [sys.executable, "scripts/bench_search.py", "--pg-url", base, "--database", database,
         "--total", "3000", "--user-messages", "1000", "--queries", "10"],
        cwd=ROOT, env=environ_without_config(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "messages: 3,000 in the table, 1,000 of them the measured user's" in out
    assert "target: p99 <= 50 ms; measured" in out
    assert "index used at 3,000 messages:" in out
    listed = subprocess.run(
        ["psql", "-X", "-At", "-d", f"{base}/postgres", "-c", f"SELECT count(*) FROM pg_database WHERE datname = '{database}'"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert listed.stdout.strip() == "0"
