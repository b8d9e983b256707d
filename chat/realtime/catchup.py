"""Catch-ups: what a connected socket missed while Redis or another process was down.

Every recoverable event reaches a process through pub/sub, which drops whatever is published
while a subscriber is away. Two catch-ups fill the gaps, each sending a socket only what it has
not had (by offset in its user's event log, and by message id for `receive_message`):
- from the event log, when this process's pub/sub subscription comes back (`catch_up`): the
  log holds every event appended meanwhile;
- from the database, when another process died (`after_process_death`): what it stored but had
  not yet logged (between a commit and its events reaching Redis, or the events it held while
  Redis was down) exists only there.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

from chat import selectors
from chat.realtime.db import call
from chat.realtime.recovery import SocketLog, logs_of, received_memory_seconds
from delivery import eventlog, events, leases
from delivery.eventlog import Entry, offset_key

logger = logging.getLogger(__name__)

CATCH_UP_ATTEMPTS = 3
# Before the time a dead process had logged everything through: its last batches' commits may
# lag their messages' created_at (taken when the send arrived) by this much.
LOGGED_MARGIN_SECONDS = 5.0


# --- from the event log, after a pub/sub outage -------------------------------------------------
def hold_all(manager) -> list[str]:
    """Hold live events for every socket bound to a user (and not already replaying): called the
    moment the pub/sub listener has subscribed again, before it reads the next message."""
    held = []
    for sid, log in logs_of(manager).items():
        if log.clerk_id is not None and log.waiting is None:
            log.waiting = []
            held.append(sid)
    return held


async def catch_up(server, sids: list[str], lost_at: float) -> None:
    """Send each held socket what it missed since pub/sub was lost at `lost_at` (epoch seconds):
    first the messages to its user stored since then that it has not had (the database has those
    another process held, and died with, while Redis was down), then what its user's event log
    gained after the last event it got, then what arrived meanwhile; once each, in order."""
    logs = logs_of(server.manager)
    by_user: dict[str, list[tuple[str, SocketLog]]] = {}
    for sid in sids:
        log = logs.get(sid)
        if log is not None:
            by_user.setdefault(log.clerk_id, []).append((sid, log))
    stored = await _stored_since(set(by_user), lost_at - LOGGED_MARGIN_SECONDS)
    results = await asyncio.gather(
        *(_catch_up_user(server, c, p, stored.get(c, [])) for c, p in by_user.items()), return_exceptions=True
    )
    sent = sum(r for r in results if isinstance(r, int))
    failed = [r for r in results if isinstance(r, BaseException)]
    for error in failed[:1]:
        logger.error("catch-up after a pub/sub outage failed for %d user(s)", len(failed), exc_info=error)
    logger.warning(
        "pub/sub back: %d socket(s) of %d user(s) caught up, %d event(s) sent", len(sids), len(by_user), sent
    )


async def _stored_since(clerk_ids: set[str], since: float) -> dict[str, list]:
    """The messages to these users stored since `since`, by recipient; none when the database
    cannot say (the event log still has its part). No further back than sockets remember."""
    since = max(since, time.time() - received_memory_seconds() + LOGGED_MARGIN_SECONDS)
    try:
        messages = await call(
            selectors.messages_received_since, clerk_ids=clerk_ids, since=datetime.fromtimestamp(since, UTC)
        )
    except Exception:
        logger.warning("catch-up from the database failed", exc_info=True)
        return {}
    by_user: dict[str, list] = {}
    for message in messages:
        by_user.setdefault(message.recipient_id, []).append(message)
    return by_user


async def _send_stored(server, sid: str, log: SocketLog, messages) -> int:
    """Messages (oldest first) the socket has not had, stored since it joined: sent as any event
    is, once per socket (by message id), confirmed delivered; never held back."""
    sent = 0
    for message in messages:
        if message.created_at.timestamp() >= log.bound_at:
            payload = events.receive_message_payload(message)
            if await server.manager.emit_here(events.RECEIVE_MESSAGE, payload, sid):
                sent += 1
                log.sent_without_offset(message.id)
    return sent


async def _entries_after(clerk_id: str, since: tuple[int, int]) -> list[Entry]:
    for attempt in range(CATCH_UP_ATTEMPTS):
        try:
            entries = await eventlog.after(clerk_id, f"{since[0]}-{since[1]}")
            break
        except Exception:
            if attempt == CATCH_UP_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.5)
    if entries is None:
        # The log no longer holds every event after that point (a long outage): what it holds.
        logger.warning("event log of %s trimmed past a socket's place: the rest is in GET /sync", clerk_id)
        entries = await eventlog.after(clerk_id, eventlog.START) or []
    return entries


async def _catch_up_user(server, clerk_id: str, pairs: list[tuple[str, SocketLog]], stored: list) -> int:
    since = min(log.last or offset_key(log.start) or (0, 0) for _, log in pairs)
    try:
        entries = await _entries_after(clerk_id, since)
    except Exception:
        # Released rather than held forever; the next outage's catch-up starts from the same place.
        logger.warning("catch-up read failed for %s", clerk_id, exc_info=True)
        entries = []
    logs, count = logs_of(server.manager), 0
    for sid, log in pairs:
        if logs.get(sid) is not log:
            continue  # gone meanwhile
        log.missed = [e for e in entries if not log.skips(e)]
        count += len(log.missed)
        eio_sid = server.manager.eio_sid_from_sid(sid, "/")
        try:
            if eio_sid is not None:
                # The log first (its events carry offsets), then what only the database has,
                # then the events that arrived meanwhile.
                missed, log.missed = log.missed, []
                for entry in missed:
                    await server._send_logged(eio_sid, "/", log, entry)
                count += await _send_stored(server, sid, log, stored)
                await server._replay(eio_sid, "/", log)
        finally:
            log.waiting = None
    return count


# --- from the database, after another process died ---------------------------------------------
_handled: dict[str, float] = {}  # dead host id -> the lease expiry it was caught up for
_logged_through = 0.0  # this process had logged every event it stored up to then (epoch seconds)


async def processes_checked(server) -> None:
    """Called every heartbeat: this process's own lease, then a catch-up for each process whose
    lease ran out since the last look."""
    manager = server.manager
    host_id = getattr(manager, "host_id", None)
    if host_id is None:
        return  # one process, no Redis
    global _logged_through
    if not eventlog.events_held():
        _logged_through = time.time()
    await call(leases.process_renew, host_id, _logged_through)
    gone = await call(leases.processes_gone)
    for host in set(_handled) - {host for host, _, _ in gone}:
        del _handled[host]  # forgotten by the registry too
    for host, expiry, logged_through in gone:
        if host == host_id or _handled.get(host) == expiry:
            continue
        _handled[host] = expiry
        await after_process_death(server, logged_through - LOGGED_MARGIN_SECONDS)


async def after_process_death(server, since: float) -> int:
    """Send this process's sockets the messages to their users stored since `since` (epoch
    seconds) that they have not had, oldest first; returns how many were sent."""
    logs = [(sid, log) for sid, log in logs_of(server.manager).items() if log.clerk_id is not None]
    if not logs:
        return 0
    stored = await _stored_since({log.clerk_id for _, log in logs}, since)
    sent = 0
    for sid, log in logs:
        sent += await _send_stored(server, sid, log, stored.get(log.clerk_id, []))
    logger.warning("a server process died: %d stored message(s) its users' sockets here had missed sent", sent)
    return sent
