"""Connection state recovery for socket.io-client 4.6+ (python-socketio has none).

The protocol: the server's CONNECT answer carries a private session id (`pid`) besides the
`sid`; every recoverable event (delivery.events.RECOVERABLE_EVENTS, to a user's room) carries
its offset in the user's event log (delivery.eventlog) as its last argument; after a transport
drop the client reconnects with `{pid, offset}` in its CONNECT auth; when the server restores
the session it answers with the same pid (the client sets `socket.recovered`) and sends the
events after that offset, in order, before any newer one.

Who is offered it (`offered`): a client that asks (`recovery: true` in its CONNECT auth or
`?recovery=1`) or presents a pid, and otherwise every client but python-socketio's, known by
its User-Agent (aiohttp's `Python/…`, requests' `python-requests/…`): their event handlers take
exactly the arguments they are sent, and an offset more would break them. `recovery: false`
(or `?recovery=0`) opts any client out.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import socketio
from django.conf import settings
from socketio import packet

from chat.realtime import confirmations
from chat.realtime.db import call
from delivery import eventlog, events, resume
from delivery.eventlog import Entry, offset_key
from users.identity import Identity, IdentityError, socket_identity_at_connect, socket_identity_checked_at_connect

logger = logging.getLogger(__name__)

PYTHON_AGENTS = ("python/", "python-")
_WISHES = {"1": True, "true": True, "0": False, "false": False}
UNLOGGED_KEPT = 1000  # per socket, see SocketLog.unlogged


def received_memory_seconds() -> float:
    """How long a socket remembers the messages it got: longer than a dead process goes unnoticed
    (its lease, plus a heartbeat), so a database catch-up after it never sends one twice."""
    return settings.PRESENCE_LEASE_SECONDS + 2 * settings.PRESENCE_HEARTBEAT_SECONDS + 30


@dataclass
class SocketLog:
    """One socket's place in its user's event log, kept by the manager of the process holding it:
    what recovery resumes from, and what a catch-up after a pub/sub outage starts after. Every
    socket has one; only those offered recovery have a pid (and are sent offsets)."""

    pid: str | None
    sids: list[str]
    clerk_id: str | None = None
    start: str = eventlog.START
    expires_at: float | None = None
    last: tuple[int, int] | None = None  # the newest offset sent to it
    # While a recovered socket is sent its missed events, newer ones wait here.
    waiting: list[Entry] | None = None
    missed: list[Entry] = field(default_factory=list)
    bound_at: float = 0.0  # when it joined its user's room (wall clock, as messages' created_at)
    # The messages it was sent as their recipient lately (id -> when): sent once each, whichever
    # path brings them (pub/sub, a catch-up from the log or from the database).
    received: OrderedDict[int, float] = field(default_factory=OrderedDict)
    # Of those, the ones sent without an offset (from the database): a recovery's replay of the
    # log after the client's offset must not send them again.
    unlogged: list[int] = field(default_factory=list)

    def sent_without_offset(self, message_id: int) -> None:
        if self.pid is not None:
            self.unlogged = [*self.unlogged[-(UNLOGGED_KEPT - 1) :], message_id]

    def first_time(self, event: str, data) -> bool:
        """Whether the event is not a receive_message this socket already got (then records it)."""
        if event != events.RECEIVE_MESSAGE or not isinstance(data, dict) or data.get("toClerkId") != self.clerk_id:
            return True
        message_id, now = data.get("messageId"), time.monotonic()
        if message_id in self.received:
            return False
        self.received[message_id] = now
        while self.received and next(iter(self.received.values())) < now - received_memory_seconds():
            self.received.popitem(last=False)
        return True

    def skips(self, entry: Entry) -> bool:
        """Whether this socket (or one it recovers) was not to be sent the entry."""
        return any(sid in self.sids for sid in entry.skip_sids)

    def accepts(self, event: str, data, offset: str) -> bool:
        """Whether a live event goes out now (else it waits for the replay, or was replayed)."""
        if self.waiting is not None:
            self.waiting.append(Entry(offset, event, data, ()))
            return False
        key = offset_key(offset)
        if self.last is not None and key <= self.last:
            return False
        self.last = key
        return True


def logs_of(manager) -> dict[str, SocketLog]:
    """The recovery state of the manager's sockets (server.py's managers deliver offsets by it)."""
    return vars(manager).setdefault("socket_logs", {})


def _wish(environ: dict, auth) -> bool | None:
    if isinstance(auth, dict) and isinstance(auth.get("recovery"), bool):
        return auth["recovery"]
    asked = parse_qs(environ.get("QUERY_STRING", "")).get("recovery")
    return _WISHES.get(asked[0].lower()) if asked else None


def offered(environ: dict, auth) -> bool:
    if settings.RECOVERY_WINDOW_SECONDS <= 0:
        return False
    wish = _wish(environ, auth)
    if wish is not None:
        return wish
    if isinstance(auth, dict) and "pid" in auth:
        return True
    return not environ.get("HTTP_USER_AGENT", "").lower().startswith(PYTHON_AGENTS)


def offer(manager, sid: str, environ: dict, auth) -> None:
    """A fresh connect: a new pid for a client that can use one."""
    pid = resume.new_pid() if offered(environ, auth) else None
    logs_of(manager)[sid] = SocketLog(pid=pid, sids=[sid])


async def bound(manager, sid: str, identity: Identity) -> None:
    """The socket proved its user: its log starts at the user's newest event (read before it
    joins the user's room)."""
    log = logs_of(manager).get(sid)
    if log is None or log.clerk_id == identity.clerk_id:
        return
    try:
        log.start = await eventlog.position(identity.clerk_id)
    except Exception:
        # Recovery is a bonus: without its log position this socket only cannot be recovered.
        logger.warning("reading the event log failed; this socket will not be recoverable", exc_info=True)
        logs_of(manager).pop(sid, None)
        return
    log.clerk_id = identity.clerk_id
    log.bound_at = time.time()
    log.expires_at = identity.claims.get("exp") if identity.claims else None


async def left(manager, sid: str) -> None:
    """The socket is gone: its session waits RECOVERY_WINDOW_SECONDS for the client to return."""
    log = logs_of(manager).pop(sid, None)
    if log is None or log.clerk_id is None or log.pid is None:
        return
    session = resume.ResumeSession(
        clerk_id=log.clerk_id, start=log.start, sids=log.sids[-20:], expires_at=log.expires_at, received=log.unlogged
    )
    try:
        await call(resume.save, log.pid, session)
    except Exception:
        logger.warning("saving a recovery session failed", exc_info=True)


async def restore(namespace, sid: str, environ: dict, auth) -> bool:
    """Give back a dropped socket's identity, rooms and missed events; False to connect fresh.

    The session's identity is trusted without a new token until its token would have expired,
    and never for a suspended or deleted user (binding checks, as for any connect); a token
    that proves someone else refuses the recovery.
    """
    if not (isinstance(auth, dict) and offered(environ, auth)):
        return False
    session = await call(resume.find, auth.get("pid"))
    if session is None:
        return False
    try:
        checked = socket_identity_checked_at_connect()
        presented = await call(socket_identity_at_connect, environ, auth) if checked else None
    except IdentityError:
        presented = None
    if presented is not None and presented.clerk_id != session.clerk_id:
        return False
    if presented is None and session.expires_at is not None and session.expires_at < time.time():
        return False
    offset = auth.get("offset") if offset_key(auth.get("offset")) is not None else session.start
    manager = namespace.server.manager
    log = SocketLog(
        pid=auth["pid"], sids=[*session.sids, sid], clerk_id=session.clerk_id, start=session.start,
        expires_at=session.expires_at, waiting=[], bound_at=time.time(), unlogged=session.received,
        received=OrderedDict((message_id, time.monotonic()) for message_id in session.received),
    )  # fmt: skip
    logs_of(manager)[sid] = log
    try:
        await namespace.bind(sid, presented or Identity(clerk_id=session.clerk_id))
        missed = await eventlog.after(session.clerk_id, offset)
    except Exception:
        logger.info("recovery refused for a socket of %s", session.clerk_id, exc_info=True)
        missed = None
    if missed is None:
        logs_of(manager).pop(sid, None)
        await namespace.unbind(sid)
        return False
    await call(resume.forget, auth["pid"])
    log.missed = [e for e in missed if not log.skips(e)]
    log.last = offset_key(offset)
    return True


class RecoveringServer(socketio.AsyncServer):
    """Adds the pid to the CONNECT answer and sends a recovered socket what it missed."""

    async def _send_packet(self, eio_sid, pkt):
        if pkt.packet_type == packet.CONNECT and isinstance(pkt.data, dict) and "sid" in pkt.data:
            log = logs_of(self.manager).get(pkt.data["sid"])
            if log is not None and log.pid is not None:
                pkt.data = {**pkt.data, "pid": log.pid}
        return await super()._send_packet(eio_sid, pkt)

    async def _handle_connect(self, eio_sid, namespace, data):
        await super()._handle_connect(eio_sid, namespace, data)
        namespace = namespace or "/"
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        log = logs_of(self.manager).get(sid)
        if log is None:
            return
        if not self.manager.is_connected(sid, namespace):
            logs_of(self.manager).pop(sid, None)  # refused
        elif log.waiting is not None:
            await self._replay(eio_sid, namespace, log)

    async def _replay(self, eio_sid, namespace, log: SocketLog) -> None:
        missed, log.missed = log.missed, []
        try:
            for entry in missed:
                await self._send_logged(eio_sid, namespace, log, entry)
            # What arrived live meanwhile, without what the replay already sent.
            while log.waiting:
                await self._send_logged(eio_sid, namespace, log, log.waiting.pop(0))
        finally:
            log.waiting = None

    async def _send_logged(self, eio_sid, namespace, log: SocketLog, entry: Entry) -> None:
        key = offset_key(entry.offset)
        if log.last is not None and key <= log.last:
            return
        log.last = key
        if not log.skips(entry) and log.first_time(entry.event, entry.data):
            data = [entry.event, entry.data] if log.pid is None else [entry.event, entry.data, entry.offset]
            await self._send_packet(eio_sid, self.packet_class(packet.EVENT, namespace=namespace, data=data))
            confirmations.sent(entry.event, entry.data, {log.clerk_id})
