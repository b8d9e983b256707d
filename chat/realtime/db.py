"""The one way socket handlers reach the ORM: a worker thread of the pool, with Django's
connection handling around each call."""

from channels.db import database_sync_to_async


def call(function, /, *args, **kwargs):
    # Not thread-sensitive: concurrent handlers use the thread pool (and the connection pool)
    # instead of queueing every ORM call behind one thread. database_sync_to_async closes
    # broken connections and returns pooled ones around each call (socket events are not
    # requests, so nothing else would).
    return database_sync_to_async(function, thread_sensitive=False)(*args, **kwargs)
