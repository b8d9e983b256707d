#!/usr/bin/env python3
"""Benchmark message search on PostgreSQL: p99 of GET /messages/search for one user with many
messages in a large table, and whether the planner uses the full-text index.

    scripts/bench_search [--pg-url postgres://postgres@127.0.0.1:5432] [--database biosync_bench_search]
        [--total 1000000] [--user-messages 100000] [--queries 300] [--keep]

Creates the database afresh (its name must start with biosync_bench), migrates it, writes
`--total` messages of generated text (`--user-messages` of them in the measured user's 50
conversations, the rest among 2,000 other users), then times `--queries` requests through the
whole Django stack (the test client: routing, identity, the view, the JSON) with words of every
frequency, and prints the plans PostgreSQL chooses. The database is dropped at the end unless
`--keep`. Results are the README's Search benchmark section.
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib.procs import Postgres  # noqa: E402

ME = "user_bench_me"
PARTNERS = 50
OTHERS = 2000
OTHER_CONVERSATIONS = 5000
VOCABULARY = 5000
TARGET_P99_MS = 50.0
SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]


def vocabulary(size: int) -> list[str]:
    rng, words = random.Random(17), {}
    while len(words) < size:
        words[("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))] = None
    return list(words)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="biosync_bench_search")
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--user-messages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


def setup_django(url: str) -> None:
    os.environ.update(
        DATABASE_URL=url, DJANGO_SETTINGS_MODULE="biosync.settings", AUTH_MODE="dev", DEBUG="false",
        ALLOWED_HOSTS="testserver", LOG_LEVEL="WARNING",
    )  # fmt: skip
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()


def generate(cursor, *, total: int, user_messages: int, words: list[str]) -> None:
    """Users, conversations and messages in a few INSERT … SELECT statements. Each message has 4
    to 14 words drawn with a skew (the commonest word is in about 40% of the messages, the
    tenth in about 4%)."""
    cursor.execute(
        "INSERT INTO users (clerk_id, username, full_name, email, image_url, is_paralyzed, status, created_at, "
        "updated_at, is_active, suspension_reason, blocks_anyone) "
        "SELECT 'user_bench_' || CASE WHEN i = 0 THEN 'me' ELSE i::text END, '', '', '', '', "
        "false, 'offline', now(), now(), true, '', false FROM generate_series(0, %s) i",
        [OTHERS],
    )
    # The measured user's conversations come first (ids 1..PARTNERS), then the others'.
    cursor.execute(
        "INSERT INTO conversations (user1_clerk_id, user2_clerk_id, created_at, last_message_at) "
        "SELECT least(%s, 'user_bench_' || i), greatest(%s, 'user_bench_' || i), now(), now() "
        "FROM generate_series(1, %s) i ORDER BY i",
        [ME, ME, PARTNERS],
    )
    cursor.execute(
        "INSERT INTO conversations (user1_clerk_id, user2_clerk_id, created_at, last_message_at) "
        "SELECT DISTINCT least(a, b), greatest(a, b), now(), now() FROM ("
        "  SELECT 'user_bench_' || (1 + (i * 7919) %% %s) a, 'user_bench_' || (1 + (i * 104729 + 13) %% %s) b"
        "  FROM generate_series(1, %s) i) p WHERE a <> b "
        "ON CONFLICT DO NOTHING",
        [OTHERS, OTHERS, OTHER_CONVERSATIONS],
    )
    cursor.execute("SELECT min(id), max(id) FROM conversations WHERE id > %s", [PARTNERS])
    low, high = cursor.fetchone()
    # Every `every`-th message is the measured user's: they write all along, like a heavy user.
    every = max(1, total // user_messages)
    conversation = (
        f"CASE WHEN g.i %% {every} = 0 THEN 1 + (g.i / {every}) %% {PARTNERS} ELSE {low} + g.i %% {high - low + 1} END"
    )
    cursor.execute(
        "INSERT INTO messages (conversation_id, from_clerk_id, to_clerk_id, content, message_type, is_read, "
        "created_at, delivered_at) "
        "SELECT c.id, CASE WHEN g.i %% 2 = 0 THEN c.user1_clerk_id ELSE c.user2_clerk_id END, "
        "CASE WHEN g.i %% 2 = 0 THEN c.user2_clerk_id ELSE c.user1_clerk_id END, "
        "(SELECT string_agg((%s::text[])[1 + floor(power(random(), 3) * %s)::int], ' ') "
        " FROM generate_series(1, 4 + (g.i %% 11))), 'text', true, now(), now() "
        f"FROM generate_series(1, %s) g(i) JOIN conversations c ON c.id = {conversation}",
        [words, len(words), total],
    )


def queries(words: list[str], count: int) -> list[tuple[str, str]]:
    """(kind, q): words of every frequency, two-word queries and prefixes."""
    rng = random.Random(5)
    kinds = {
        "common word": lambda: rng.choice(words[:10]),
        "mid word": lambda: rng.choice(words[50:500]),
        "rare word": lambda: rng.choice(words[1000:]),
        "two words": lambda: f"{rng.choice(words[:50])} {rng.choice(words[50:500])}",
        "prefix": lambda: rng.choice(words[:500])[:3],
    }
    return [(kind, make()) for kind, make in kinds.items() for _ in range(count // len(kinds))]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def plan_of(cursor, q: str) -> tuple[str, float]:
    from chat import search

    sql, params = search.indexed_query(ME, search.search_terms(q), None, None, 21)
    cursor.execute("EXPLAIN (ANALYZE, FORMAT TEXT) " + sql, params)
    lines = [row[0] for row in cursor.fetchall()]
    took = float(lines[-1].split(":")[1].split()[0])
    return "\n".join(lines), took


def main() -> int:
    args = parse_args()
    pg = Postgres(args.pg_url)
    pg.recreate(args.database)
    setup_django(pg.url(args.database))
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)
    words = vocabulary(VOCABULARY)
    index = importlib.import_module("chat.migrations.0003_message_search")
    try:
        with connection.cursor() as cursor:
            started = time.perf_counter()
            for statement in index.POSTGRES_INDEX_DROP:
                cursor.execute(statement)
            generate(cursor, total=args.total, user_messages=args.user_messages, words=words)
            generated = time.perf_counter() - started
            started = time.perf_counter()
            for statement in index.POSTGRES_INDEX:
                cursor.execute(statement)
            indexed = time.perf_counter() - started
            cursor.execute("VACUUM ANALYZE messages")
            cursor.execute(
                "SELECT count(*), count(*) FILTER (WHERE from_clerk_id = %s OR to_clerk_id = %s) FROM messages",
                [ME, ME],
            )
            count, mine = cursor.fetchone()
            cursor.execute("SELECT pg_size_pretty(pg_relation_size('messages_search'))")
            size = cursor.fetchone()[0]
        print(f"messages: {count:,} in the table, {mine:,} of them the measured user's")
        print(f"generated in {generated:.1f} s; index messages_search built in {indexed:.1f} s ({size})")

        client = Client(HTTP_X_CLERK_ID=ME)
        plan = queries(words, args.queries)
        for _, q in plan[:20]:  # warm-up: connections, caches
            client.get("/messages/search", {"q": q})
        timings: dict[str, list[float]] = {}
        hits = 0
        for kind, q in plan:
            started = time.perf_counter()
            response = client.get("/messages/search", {"q": q})
            timings.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content
            body = response.json()
            hits += len(body["results"])
            if body["nextCursor"] and kind == "common word":  # a second page, timed as its own request
                started = time.perf_counter()
                client.get("/messages/search", {"q": q, "cursor": body["nextCursor"]})
                timings.setdefault("next page", []).append((time.perf_counter() - started) * 1000)
        every = [t for values in timings.values() for t in values]
        print(f"\nGET /messages/search as the user with {mine:,} messages: {len(every)} requests, {hits} hits")
        print(f"{'query':<14} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for kind, values in [*timings.items(), ("all", every)]:
            print(
                f"{kind:<14} {len(values):>5} {statistics.median(values):>8.2f} {percentile(values, 99):>8.2f} "
                f"{max(values):>8.2f}"
            )
        p99 = percentile(every, 99)
        print(
            f"\ntarget: p99 <= {TARGET_P99_MS:.0f} ms; measured {p99:.2f} ms; met: {'yes' if p99 <= TARGET_P99_MS else 'NO'}"
        )

        print(f"\nplans at {count:,} messages:")
        used = []
        with connection.cursor() as cursor:
            for kind, q in [("common word", words[0]), ("mid word", words[200]), ("rare word", words[3000]),
                            ("prefix", words[100][:3]), ("two words", f"{words[1]} {words[300]}")]:  # fmt: skip
                text, took = plan_of(cursor, q)
                uses = "messages_search" in text
                used.append(uses)
                first = text.splitlines()[1].strip() if len(text.splitlines()) > 1 else text
                print(f"- {kind} ({q!r}): index used: {'yes' if uses else 'no'}; {took:.2f} ms; {first}")
        print(f"index used at {count:,} messages: {'yes' if any(used) else 'NO'} ({sum(used)} of {len(used)} plans)")
    finally:
        connection.close()
        if not args.keep:
            pg.psql("postgres", f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
