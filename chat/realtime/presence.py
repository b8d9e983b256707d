"""Presence: which users have a socket connected anywhere.

PLACEHOLDER (foundation): an in-process registry only. The realtime issue replaces this
module with Redis-backed leases shared by every process (and keeps this API).
"""

import threading
import time

_lock = threading.Lock()
_sockets: dict[str, dict[str, float]] = {}


def is_online(clerk_id: str) -> bool:
    with _lock:
        return bool(_sockets.get(clerk_id))


def online_among(clerk_ids) -> set[str]:
    with _lock:
        return {clerk_id for clerk_id in clerk_ids if _sockets.get(clerk_id)}


def socket_connected(clerk_id: str, sid: str) -> bool:
    """Record a socket; True when it is the user's first (the user just came online)."""
    with _lock:
        sids = _sockets.setdefault(clerk_id, {})
        first = not sids
        sids[sid] = time.time()
        return first


def socket_disconnected(clerk_id: str, sid: str) -> bool:
    """Forget a socket; True when it was the user's last (the user just went offline)."""
    with _lock:
        sids = _sockets.get(clerk_id, {})
        sids.pop(sid, None)
        if not sids:
            _sockets.pop(clerk_id, None)
            return True
        return False
