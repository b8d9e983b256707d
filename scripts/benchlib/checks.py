"""What a chat run left in the database, restricted to that run's users (chatload's --prefix).

Both schemas (ours, and the old server's drizzle tables) use the same table and column names:
conversations (user1_clerk_id, user2_clerk_id), contacts (user_clerk_id, contact_clerk_id,
unread_count), messages (conversation_id, from_clerk_id, to_clerk_id, content, is_read), so one
set of queries checks both.

- extra conversations: conversations beyond the first for an unordered pair of users;
- misfiled messages: a message whose conversation is not between its sender and recipient;
- wrong unread rows: contact rows (owner U, contact C) whose unread_count differs from the number
  of messages C→U with is_read false; uncovered: a (U, C) with unread messages and no contact
  row at all; unread missing / extra: the sums of those differences;
- stored twice: message texts (chatload's nonces are unique) stored more than once.
"""

from __future__ import annotations

import re
import time

from benchlib.procs import Postgres

FIELDS = (
    "stored",
    "conv_pairs",
    "conv_extra",
    "misfiled",
    "unread_wrong",
    "unread_uncovered",
    "unread_missing",
    "unread_extra",
    "stored_twice",
)
# The ones that break the correctness target.
VIOLATIONS = ("conv_extra", "misfiled", "unread_wrong", "unread_uncovered", "stored_twice")


def _like(prefix: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9]+", prefix):
        raise ValueError(f"unexpected prefix {prefix!r}")
    return f"'{prefix}\\_%'"


def consistency_sql(prefix: str) -> str:
    p = _like(prefix)
    return f"""
WITH conv AS (
    SELECT LEAST(user1_clerk_id, user2_clerk_id) AS a, GREATEST(user1_clerk_id, user2_clerk_id) AS b, count(*) AS n
    FROM conversations WHERE user1_clerk_id LIKE {p} OR user2_clerk_id LIKE {p} GROUP BY 1, 2
), unread AS (
    SELECT to_clerk_id AS owner, from_clerk_id AS contact, count(*) AS n
    FROM messages WHERE to_clerk_id LIKE {p} AND NOT is_read GROUP BY 1, 2
), counted AS (
    SELECT user_clerk_id AS owner, contact_clerk_id AS contact, unread_count AS n
    FROM contacts WHERE user_clerk_id LIKE {p}
), cmp AS (
    SELECT c.owner IS NULL AS uncovered, coalesce(u.n, 0) AS actual, c.n AS counted
    FROM unread u FULL JOIN counted c USING (owner, contact)
), texts AS (
    SELECT count(*) AS n FROM messages WHERE from_clerk_id LIKE {p} GROUP BY content HAVING count(*) > 1
)
SELECT
    (SELECT count(*) FROM messages WHERE from_clerk_id LIKE {p}),
    (SELECT count(*) FROM conv),
    (SELECT coalesce(sum(n - 1), 0) FROM conv),
    (SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
      WHERE m.from_clerk_id LIKE {p}
        AND (LEAST(m.from_clerk_id, m.to_clerk_id), GREATEST(m.from_clerk_id, m.to_clerk_id))
            <> (LEAST(c.user1_clerk_id, c.user2_clerk_id), GREATEST(c.user1_clerk_id, c.user2_clerk_id))),
    (SELECT count(*) FROM cmp WHERE NOT uncovered AND counted <> actual),
    (SELECT count(*) FROM cmp WHERE uncovered),
    (SELECT coalesce(sum(GREATEST(actual - coalesce(counted, 0), 0)), 0) FROM cmp),
    (SELECT coalesce(sum(GREATEST(counted - actual, 0)), 0) FROM cmp WHERE NOT uncovered),
    (SELECT coalesce(sum(n - 1), 0) FROM texts)
"""


def settle(pg: Postgres, db: str, prefix: str, *, quiet: float = 1.0, limit: float = 20.0) -> int:
    """The run's stored message count once it stops changing (a server may still be writing
    after the client stopped waiting), at most `limit` seconds."""
    like = _like(prefix)
    deadline = time.monotonic() + limit
    last = int(pg.psql(db, f"SELECT count(*) FROM messages WHERE from_clerk_id LIKE {like}"))
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = int(pg.psql(db, f"SELECT count(*) FROM messages WHERE from_clerk_id LIKE {like}"))
        if now == last:
            return now
        last = now
    return last


def consistency(pg: Postgres, db: str, prefix: str) -> dict:
    settle(pg, db, prefix)
    values = pg.psql(db, consistency_sql(prefix)).split("|")
    return dict(zip(FIELDS, (int(v) for v in values)))


def violations(check: dict | None) -> int | None:
    return None if check is None else sum(check[k] for k in VIOLATIONS)
