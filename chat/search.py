"""Full-text search of the caller's own messages (GET /messages/search).

Words are runs of letters and digits, matched case-insensitively by prefix ("appoint" finds
"appointment"); every word of the query must occur. Hits are the newest first, paged by a
cursor (the last hit's id). PostgreSQL answers from the GIN index `messages_search`, SQLite
from the FTS5 table `messages_fts` (both made by chat/migrations/0003_message_search.py, which
explains why they index the same words); a SQLite without FTS5 scans the caller's messages.
The snippet and its highlights are computed here, identically for every backend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection

from chat.models import Conversation, Message
from chat.selectors import MESSAGE_ROW_EXPRESSIONS, MESSAGE_ROW_FIELDS
from kernel.errors import ServiceError

SEARCH_DEFAULT_LIMIT = 20
SEARCH_MAX_LIMIT = 50
MAX_TERMS = 8
MAX_TERM_LENGTH = 64
SNIPPET_CHARS = 120
# Characters of context kept before the first highlighted word.
SNIPPET_LEAD = 30
# The scan without FTS5 reads the caller's messages this many at a time.
SCAN_CHUNK = 1000

_WORD = re.compile(r"[^\W_]+")
# PostgreSQL's generated column of each message's words and participants, GIN-indexed
# (chat/migrations/0003_message_search.py).
_POSTGRES_DOCUMENT = "search_document"


@dataclass(frozen=True)
class SearchHit:
    message: dict  # a message row (chat.selectors.MESSAGE_ROW_FIELDS)
    conversation: Conversation  # with both users
    snippet: str
    highlights: list[tuple[int, int]]  # [start, end) character offsets into `snippet`


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    next_cursor: int | None  # pass as `cursor` for the next (older) page; None at the end


def search_terms(query) -> list[str]:
    """The query's words, lowercased; a query with none is refused."""
    terms = [word.lower()[:MAX_TERM_LENGTH] for word in _WORD.findall(query if isinstance(query, str) else "")]
    if not terms:
        raise ServiceError("q must contain at least one letter or digit", code="invalid_query", details={"field": "q"})
    return list(dict.fromkeys(terms))[:MAX_TERMS]


def _matches(text: str, terms: list[str]) -> bool:
    words = [w.lower() for w in _WORD.findall(text)]
    return all(any(w.startswith(t) for w in words) for t in terms)


def _scope_sql(*, conversation_id: int | None, cursor: int | None, alias: str = "") -> tuple[str, list]:
    """The hidden, the caller's own and the paging conditions, shared by every backend's query."""
    a = alias
    sql = f" AND {a}removed_at IS NULL AND {a}deleted_at IS NULL AND ({a}from_clerk_id = %s OR {a}to_clerk_id = %s)"
    params: list = []
    if conversation_id is not None:
        sql += f" AND {alias}conversation_id = %s"
        params.append(conversation_id)
    if cursor is not None:
        sql += f" AND {alias}id < %s"
        params.append(cursor)
    return sql, params


def participant_lexeme(clerk_id: str) -> str:
    """The tsquery literal of a participant's lexeme in the PostgreSQL document."""
    return "'@" + clerk_id.replace("\\", "\\\\").replace("'", "''") + "'"


def indexed_query(clerk_id, terms, conversation_id, cursor, limit) -> tuple[str, list]:
    """The SQL (and its parameters) that PostgreSQL's GIN index or SQLite's FTS5 table answers:
    the matching ids, newest first. Also what the tests and scripts/bench_search EXPLAIN."""
    table = Message._meta.db_table
    if connection.vendor == "postgresql":
        source, alias = table, ""
        # The caller's participant lexeme is cast as it is: to_tsquery would split it at "@" and "_".
        match = f"{_POSTGRES_DOCUMENT} @@ (%s::tsquery && to_tsquery('simple'::regconfig, %s))"
        query = [participant_lexeme(clerk_id), " & ".join(f"{t}:*" for t in terms)]
    else:
        source, alias = f"messages_fts JOIN {table} m ON m.id = messages_fts.rowid", "m."
        match, query = "messages_fts MATCH %s", [" AND ".join(f'"{t}"*' for t in terms)]
    scope, params = _scope_sql(conversation_id=conversation_id, cursor=cursor, alias=alias)
    sql = f"SELECT {alias}id FROM {source} WHERE {match}{scope} ORDER BY {alias}id DESC LIMIT %s"
    return sql, [*query, clerk_id, clerk_id, *params, limit]


def _ids_indexed(clerk_id, terms, conversation_id, cursor, limit) -> list[int]:
    with connection.cursor() as db:
        db.execute(*indexed_query(clerk_id, terms, conversation_id, cursor, limit))
        return [row[0] for row in db.fetchall()]


def _ids_scan(clerk_id, terms, conversation_id, cursor, limit) -> list[int]:
    found: list[int] = []
    while len(found) < limit:
        scope, params = _scope_sql(conversation_id=conversation_id, cursor=cursor)
        with connection.cursor() as db:
            db.execute(
                f"SELECT id, content FROM {Message._meta.db_table} WHERE 1 = 1{scope} ORDER BY id DESC LIMIT %s",
                [clerk_id, clerk_id, *params, SCAN_CHUNK],
            )
            rows = db.fetchall()
        found += [pk for pk, content in rows if _matches(content, terms)]
        if len(rows) < SCAN_CHUNK:
            break
        cursor = rows[-1][0]
    return found[:limit]


def fts5_ready() -> bool:
    with connection.cursor() as db:
        db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages_fts'")
        return db.fetchone() is not None


def _matching_ids(clerk_id, terms, conversation_id, cursor, limit) -> list[int]:
    if connection.vendor == "postgresql" or fts5_ready():
        return _ids_indexed(clerk_id, terms, conversation_id, cursor, limit)
    return _ids_scan(clerk_id, terms, conversation_id, cursor, limit)


def snippet_of(text: str, terms: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """Up to SNIPPET_CHARS of `text` around its first matching word, with the matching words'
    offsets; "…" marks a cut at either end."""
    spans = [m.span() for m in _WORD.finditer(text) if any(m.group().lower().startswith(t) for t in terms)]
    start = 0
    if spans and spans[0][0] > SNIPPET_LEAD and len(text) > SNIPPET_CHARS:
        start = min(spans[0][0] - SNIPPET_LEAD, len(text) - SNIPPET_CHARS)
        while start > 0 and not text[start - 1].isspace() and spans[0][0] - start < SNIPPET_LEAD * 2:
            start -= 1  # do not begin inside a word
    end = min(len(text), start + SNIPPET_CHARS)
    prefix, suffix = ("…" if start > 0 else ""), ("…" if end < len(text) else "")
    shift = len(prefix) - start
    highlights = [(s + shift, min(e, end) + shift) for s, e in spans if s >= start and s < end]
    return prefix + text[start:end] + suffix, highlights


def messages_search(
    *,
    clerk_id: str,
    query: str,
    conversation_id: int | None = None,
    cursor: int | None = None,
    limit: int = SEARCH_DEFAULT_LIMIT,
) -> SearchPage:
    """The caller's messages (sent or received, in any of their conversations or the one given)
    containing every word of `query`, newest first; never removed or deleted ones."""
    terms = search_terms(query)
    limit = min(limit, SEARCH_MAX_LIMIT)
    ids = _matching_ids(clerk_id, terms, conversation_id, cursor, limit + 1)
    more, ids = len(ids) > limit, ids[:limit]
    rows = {
        r["id"]: r for r in Message.objects.filter(id__in=ids).values(*MESSAGE_ROW_FIELDS, **MESSAGE_ROW_EXPRESSIONS)
    }
    conversation_ids = {r["conversation_id"] for r in rows.values()}
    conversations = Conversation.objects.select_related("user1", "user2").in_bulk(conversation_ids)
    hits = []
    for pk in ids:
        row = rows.get(pk)
        if row is None:
            continue  # gone since (its user deleted)
        snippet, highlights = snippet_of(row["content"], terms)
        hits.append(SearchHit(row, conversations[row["conversation_id"]], snippet, highlights))
    return SearchPage(hits=hits, next_cursor=ids[-1] if more else None)
