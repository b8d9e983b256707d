"""Full-text search over message text: a GIN index on PostgreSQL, an FTS5 table on SQLite.

The PostgreSQL column `search_document` is the database's own (generated from the row), not a
model field: Django never reads or writes it.

Both index the same words: runs of letters and digits, lowercased, no stemming and no accent
folding (PostgreSQL's `simple` configuration over the text with every other character turned
into a space; FTS5's `unicode61` tokenizer with `remove_diacritics 0`), so that both backends
find the same messages (chat/search.py).

SQLite: the FTS5 table is an external-content index of `messages`, kept in step by triggers.
Django rebuilds a SQLite table (and so drops its triggers) for some schema changes; a later
migration that does so to `messages` must create the triggers again (tests/chat/test_search.py
checks they exist). Where SQLite lacks FTS5, nothing is created and search scans instead.
"""

from django.db import migrations
from django.db.utils import OperationalError

# PostgreSQL: each message's document, stored in a generated column that chat/search.py queries
# (so that checking a row costs no re-parsing, whichever plan the planner picks). Besides the
# words, it holds the message's two participants as lexemes ("@<clerk id>", which no word can
# equal: words have no "@"), so that the GIN index itself keeps to the caller's messages: without
# them, a common word's hits across every user would be read before the caller's are kept.
POSTGRES_DOCUMENT = (
    "to_tsvector('simple'::regconfig, regexp_replace(content, '[^[:alnum:]]+', ' ', 'g')) "
    "|| array_to_tsvector(ARRAY['@' || from_clerk_id, '@' || to_clerk_id])"
)
POSTGRES_INDEX = [
    "CREATE INDEX messages_search ON messages USING gin (search_document) "
    "WHERE removed_at IS NULL AND deleted_at IS NULL",
]
POSTGRES_INDEX_DROP = ["DROP INDEX IF EXISTS messages_search"]
POSTGRES_CREATE = [
    f"ALTER TABLE messages ADD COLUMN search_document tsvector GENERATED ALWAYS AS ({POSTGRES_DOCUMENT}) STORED",
    *POSTGRES_INDEX,
]
POSTGRES_DROP = [*POSTGRES_INDEX_DROP, "ALTER TABLE messages DROP COLUMN IF EXISTS search_document"]

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    "content, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content); END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content); "
    "INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TRIGGER IF EXISTS messages_fts_update",
    "DROP TABLE IF EXISTS messages_fts",
]


def _fts5_available(connection) -> bool:
    with connection.cursor() as cursor:
        try:
            cursor.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
        except OperationalError:
            return False
        cursor.execute("DROP TABLE temp.fts5_probe")
    return True


def _run(schema_editor, statements) -> None:
    for statement in statements:
        schema_editor.execute(statement)


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        _run(schema_editor, POSTGRES_CREATE)
    elif connection.vendor == "sqlite" and _fts5_available(connection):
        _run(schema_editor, SQLITE_CREATE)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, POSTGRES_DROP)
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_DROP)


class Migration(migrations.Migration):
    dependencies = [("chat", "0002_message_edit_delete")]

    operations = [migrations.RunPython(create, drop)]
