"""Forcing one interleaving of two transactions on PostgreSQL, deterministically.

`run_before(statement, action)` runs `action` when this thread's connection is about to
execute the first statement matching `statement`. `Elsewhere(fn)` runs `fn` in another thread,
on its own connection, and `settled()` returns once it has finished or is waiting for a lock
(PostgreSQL's own `pg_blocking_pids`, not a guess from time). Together: "a send lands between
these two statements", whether it commits there or has to wait for our locks.
"""

from __future__ import annotations

import concurrent.futures
import re
import threading
import time
from contextlib import contextmanager

from django.db import connection

TIMEOUT = 10.0


@contextmanager
def run_before(statement: str, action):
    """While inside, `action()` runs once, just before the first SQL statement matching the
    regular expression `statement` (case-insensitive) on this thread's connection."""
    pattern = re.compile(statement, re.IGNORECASE | re.DOTALL)
    fired = []

    def wrapper(execute, sql, params, many, context):
        if not fired and pattern.search(sql):
            fired.append(sql)
            action()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield fired
    assert fired, f"no statement matched {statement!r}"


class Elsewhere:
    """`fn()` in another thread with its own database connection."""

    def __init__(self, fn):
        self._pid: concurrent.futures.Future = concurrent.futures.Future()
        self._result: concurrent.futures.Future = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, args=(fn,), daemon=True)
        self._thread.start()

    def _run(self, fn) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self._pid.set_result(cursor.fetchone()[0])
            self._result.set_result(fn())
        except BaseException as exc:
            if not self._pid.done():
                self._pid.set_exception(exc)
            self._result.set_exception(exc)
        finally:
            connection.close()

    def settled(self) -> str:
        """ "done" once `fn` returned (or raised), "blocked" while it waits for another
        transaction's lock."""
        pid = self._pid.result(TIMEOUT)
        # Asked from a third connection: ours may be inside a transaction and a statement.
        return concurrent.futures.ThreadPoolExecutor(1).submit(self._wait_settled, pid).result(TIMEOUT)

    def _wait_settled(self, pid: int) -> str:
        deadline = time.monotonic() + TIMEOUT
        try:
            with connection.cursor() as cursor:
                while time.monotonic() < deadline:
                    if self._result.done():
                        return "done"
                    cursor.execute("SELECT cardinality(pg_blocking_pids(%s))", [pid])
                    if cursor.fetchone()[0]:
                        return "blocked"
                    time.sleep(0.005)
        finally:
            connection.close()
        raise TimeoutError("neither done nor waiting for a lock")

    def result(self):
        return self._result.result(TIMEOUT)
