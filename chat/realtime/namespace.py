"""Socket.IO event handlers: identity from the session, validation, a service call, an answer.

Handlers emit only answers to the calling socket; everything other sockets hear comes from
services after commit. python-socketio runs handlers concurrently, so each socket's events
take a FIFO lock first: a socket's messages are stored and delivered in the order it sent
them, and an event sent right after `register_user` sees the registration.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time

import socketio
from django.utils import timezone
from socketio.exceptions import ConnectionRefusedError

from assist import selectors as assist_selectors
from assist import suggestions
from assist.realtime import learner
from chat import services
from chat.realtime import connectqueue, heartbeat, payloads, recovery, sendqueue
from chat.realtime.db import call
from chat.realtime.frames import UNDECODABLE_EVENT
from chat.services import typing
from chat.services.messages import SendRequest
from delivery import events, ratelimit
from kernel import metrics
from kernel.errors import ServiceError
from kernel.logging import log_event
from users.identity import (
    Identity,
    IdentityError,
    socket_identity_at_connect,
    socket_identity_at_register,
    socket_identity_checked_at_connect,
)
from users.selectors import user_connect_refusal

logger = logging.getLogger(__name__)

# Keystrokes: logged only at DEBUG, or they would drown everything else.
QUIET_EVENTS = {events.TYPING_START, events.TYPING_STOP}
# An unknown event's name is echoed in its error, cut to this many characters.
UNKNOWN_EVENT_NAME_SHOWN = 100
# When a socket that proved its user at connect is checked again (see on_connect): long enough
# for its handshake to have finished.
CONNECT_RECHECK_DELAY_SECONDS = 0.3
# How long a typing partner once checked is taken as allowed without asking the database again.
TYPING_RECHECK_SECONDS = 1.0


def event(name: str, *, registered: bool = True):
    """One client event: serialised per socket, failures answered, never raised."""

    def decorate(handler):
        @functools.wraps(handler)
        async def run(self, sid, data=None, *_ignored):
            started, outcome, clerk_id = time.perf_counter(), "ok", None
            lock = self._lock_of(sid)
            if lock is None:
                return None  # the socket is gone: nobody to answer
            async with lock:
                try:
                    clerk_id = await self._user(sid)
                    if registered and clerk_id is None:
                        raise ServiceError(
                            f"Register first: emit {events.REGISTER_USER} before {name}", code="unregistered"
                        )
                    return await handler(self, sid, clerk_id, data)
                except ServiceError as exc:
                    outcome = exc.code
                    return await self._fail(sid, name, data, exc)
                except Exception:
                    outcome = "internal"
                    logger.exception("socket event %s failed", name)
                    return await self._fail(sid, name, data, ServiceError("Internal error; try again", code="internal"))
                finally:
                    elapsed = time.perf_counter() - started
                    metrics.socket_event_done(name, outcome, elapsed)
                    # One line per event: ids, outcome and time (queueing included), never the payload.
                    log_event(
                        logger, "socket.event", level=logging.DEBUG if name in QUIET_EVENTS else logging.INFO,
                        socket_event=name, sid=sid, user=clerk_id, outcome=outcome, duration_ms=round(elapsed * 1000, 2),
                    )  # fmt: skip

        return run

    return decorate


class ChatNamespace(socketio.AsyncNamespace):
    def __init__(self, namespace=None):
        super().__init__(namespace)
        self._locks: dict[str, asyncio.Lock] = {}

    async def on_connect(self, sid, environ, auth=None):
        heartbeat.ensure_started(self.server)
        learner.ensure_started(self.server)
        try:
            if await recovery.restore(self, sid, environ, auth):
                return
            identity = None
            if socket_identity_checked_at_connect():
                identity = await call(socket_identity_at_connect, environ, auth)
            recovery.offer(self.server.manager, sid, environ, auth)
            if identity is not None:
                await self.bind(sid, identity)
                # A suspension committing while this handshake is still in flight disconnects the
                # user's sockets before this one counts as connected, which python-socketio
                # ignores: look once more when it does count.
                self.server.start_background_task(self._recheck_after_connect, sid, identity.clerk_id)
        except (IdentityError, ServiceError) as exc:
            raise ConnectionRefusedError(str(exc)) from exc
        except Exception as exc:
            logger.exception("socket connect failed")
            raise ConnectionRefusedError("Internal error; try again") from exc

    async def on_disconnect(self, sid, reason=None):
        # First: the client may be back for its session within a second.
        await recovery.left(self.server.manager, sid)
        # Queued behind the socket's pending events, so a registration in flight is undone too.
        async with self._locks.setdefault(sid, asyncio.Lock()):
            try:
                clerk_id = await self._user(sid)
                await typing.typing_socket_gone(sid=sid)
                if clerk_id is not None:
                    await connectqueue.disconnected(clerk_id, sid)
            except Exception:
                # The heartbeat forgets sockets the server no longer has.
                logger.exception("socket disconnect failed")
        self._locks.pop(sid, None)

    @event(events.REGISTER_USER, registered=False)
    async def on_register_user(self, sid, clerk_id, data):
        bound = Identity(clerk_id=clerk_id) if clerk_id else None
        try:
            identity = socket_identity_at_register(bound, payloads.register_user(data))
        except IdentityError as exc:
            raise ServiceError(str(exc), code="forbidden") from exc
        if bound is None:
            await self.bind(sid, identity)
        return await self._answer(sid, events.REGISTERED, events.registered_payload(identity.clerk_id, sid))

    @event(events.SEND_MESSAGE)
    async def on_send_message(self, sid, clerk_id, data):
        send = payloads.send_message(data, clerk_id)
        result = await sendqueue.send(SendRequest(
            sender_id=clerk_id, recipient_id=send.recipient_id, text=send.text,
            client_message_id=send.client_message_id, origin_sid=sid, received_at=timezone.now(),
        ))  # fmt: skip
        message = result.message
        if not result.created:
            # A retry: nothing was announced, so this socket is answered here as the first time.
            await self._answer(sid, events.MESSAGE_SENT, events.message_sent_payload(message))
            delivered = events.message_delivered_payload(
                message.id, result.status, message.read_at or message.created_at
            )
            await self._answer(sid, events.MESSAGE_DELIVERED, delivered)
        return events.send_ack_payload(message, result.status)

    @event(events.MARK_AS_READ)
    async def on_mark_as_read(self, sid, clerk_id, data):
        ids = payloads.mark_as_read(data)
        read, read_at = await call(services.messages_mark_read, reader_id=clerk_id, message_ids=ids)
        return {"success": True, **events.messages_read_payload(read, read_at)}

    @event(events.EDIT_MESSAGE)
    async def on_edit_message(self, sid, clerk_id, data):
        message_id, text = payloads.edit_message(data)
        message = await call(
            ratelimit.guarded, ratelimit.MESSAGES, clerk_id, services.message_edit,
            editor_id=clerk_id, message_id=message_id, text=text,
        )  # fmt: skip
        return {"success": True, **events.message_edited_payload(message)}

    @event(events.DELETE_MESSAGE)
    async def on_delete_message(self, sid, clerk_id, data):
        message_id = payloads.delete_message(data)
        message = await call(
            ratelimit.guarded, ratelimit.MESSAGES, clerk_id, services.message_delete,
            deleter_id=clerk_id, message_id=message_id,
        )  # fmt: skip
        payload = events.message_deleted_payload(message.id, message.conversation_id, events.DELETED_BY_SENDER)
        return {"success": True, **payload}

    @event(events.TYPING_START)
    async def on_typing_start(self, sid, clerk_id, data):
        recipient_id = await self._typing_target(sid, clerk_id, data)
        timeout = (await self.get_session(sid)).get("typing_timeout")
        await typing.typing_start(typist_id=clerk_id, recipient_id=recipient_id, sid=sid, timeout=timeout)
        return {"success": True}

    @event(events.TYPING_STOP)
    async def on_typing_stop(self, sid, clerk_id, data):
        recipient_id = await self._typing_target(sid, clerk_id, data)
        await typing.typing_stop(typist_id=clerk_id, recipient_id=recipient_id)
        return {"success": True}

    @event(events.SUGGEST)
    async def on_suggest(self, sid, clerk_id, data):
        text, to_clerk_id = payloads.suggest(data)
        found = await call(suggestions.suggestions_get, clerk_id=clerk_id, text=text, to_clerk_id=to_clerk_id)
        return {"success": True, **found}

    async def trigger_event(self, event, *args):
        if event == UNDECODABLE_EVENT:
            return await self._undecodable_event(*args)
        if isinstance(event, str) and hasattr(self, f"on_{event}"):
            return await super().trigger_event(event, *args)
        return await self._unknown_event(event, *args)

    async def _undecodable_event(self, sid, data, *_ignored):
        # One short line, never the payload: it may hold message text.
        name = data.get("event") or "unknown"
        log_event(logger, "socket.undecodable", level=logging.WARNING, sid=sid, socket_event=name[:UNKNOWN_EVENT_NAME_SHOWN],
                  reason=data["reason"])  # fmt: skip
        error = ServiceError(f"Could not decode the payload: {data['reason']}", code="undecodable")
        return await self._fail(sid, name[:UNKNOWN_EVENT_NAME_SHOWN], None, error)

    async def _unknown_event(self, name, sid, data=None, *_ignored):
        # python-socketio would ack an unknown event with nothing: a client typo would look like success.
        shown = str(name)[:UNKNOWN_EVENT_NAME_SHOWN]
        clerk_id = await self._user(sid)
        log_event(logger, "socket.event", socket_event="unknown", sid=sid, user=clerk_id, outcome="unknown_event")
        return await self._fail(sid, shown, data, ServiceError(f"Unknown event {shown!r}", code="unknown_event"))

    # --- helpers ---------------------------------------------------------------------------
    def _lock_of(self, sid) -> asyncio.Lock | None:
        """The socket's FIFO lock; None once the socket is gone. An event that started before
        the disconnect but runs after `on_disconnect` dropped the lock must not create a new
        one: nothing would ever drop it."""
        lock = self._locks.get(sid)
        if lock is None and self.server.manager.is_connected(sid, self.namespace):
            lock = self._locks[sid] = asyncio.Lock()
        return lock

    async def _user(self, sid) -> str | None:
        return (await self.get_session(sid)).get("clerk_id")

    async def bind(self, sid, identity: Identity) -> None:
        """The socket is this user's: their room, presence, and its session (recovery uses it too)."""
        room = events.user_room(identity.clerk_id)
        await recovery.bound(self.server.manager, sid, identity)
        # The room first: a message sent while presence already says online must reach us.
        await self.enter_room(sid, room)
        try:
            await connectqueue.connected(identity.clerk_id, sid)
        except Exception:
            await self.leave_room(sid, room)
            raise
        await self.save_session(sid, {"clerk_id": identity.clerk_id, "typing_ok": {}})

    async def _recheck_after_connect(self, sid, clerk_id: str) -> None:
        await asyncio.sleep(CONNECT_RECHECK_DELAY_SECONDS)
        try:
            refusal = await call(user_connect_refusal, clerk_id=clerk_id)
        except Exception:
            logger.exception("socket connect recheck failed")  # the heartbeat catches up later
            return
        if refusal is not None and self.server.manager.is_connected(sid, self.namespace):
            await self.disconnect(sid)

    async def unbind(self, sid) -> None:
        """Undo `bind` (a recovery that could not complete): the socket connects as a fresh one."""
        clerk_id = await self._user(sid)
        if clerk_id is not None:
            await self.leave_room(sid, events.user_room(clerk_id))
            await connectqueue.disconnected(clerk_id, sid)
            await self.save_session(sid, {})

    async def _typing_target(self, sid, clerk_id, data) -> str:
        recipient_id = payloads.typing(data, clerk_id)
        async with self.session(sid) as session:
            checked = session["typing_ok"]
            now = time.monotonic()
            if now - checked.get(recipient_id, -TYPING_RECHECK_SECONDS) < TYPING_RECHECK_SECONDS:
                await call(ratelimit.check, ratelimit.TYPING, clerk_id)
                return recipient_id
            await call(
                ratelimit.guarded, ratelimit.TYPING, clerk_id, services.typing_partner_check,
                sender_id=clerk_id, recipient_id=recipient_id,
            )  # fmt: skip
            # Remembered per socket for a moment, so a typist's keystrokes do not each cost a
            # query, yet a suspension (of either side) stops the indicators within that moment.
            checked.pop(recipient_id, None)
            checked[recipient_id] = now
            # The typist's own indicator timeout (longer for slow typists), re-read as often.
            session["typing_timeout"] = await call(assist_selectors.typing_timeout_for, clerk_id=clerk_id)
            while len(checked) > 50:
                checked.pop(next(iter(checked)))
        return recipient_id

    async def _answer(self, sid, name: str, payload: dict) -> dict:
        # ignore_queue: the calling socket is on this process; no need to go through Redis.
        await self.emit(name, payload, to=sid, ignore_queue=True)
        return payload

    async def _fail(self, sid, name: str, data, exc: ServiceError) -> dict:
        if name == events.SEND_MESSAGE:
            client_id = payloads.client_message_id_of(data)
            await self._answer(
                sid, events.MESSAGE_FAILED, events.message_failed_payload(exc.message, exc.details, client_id)
            )
        elif name == events.REGISTER_USER:
            await self._answer(sid, events.REGISTERED, events.failure_payload(exc.message))
        else:
            await self._answer(sid, events.ERROR, events.error_payload(name, exc.message, exc.details))
        return events.failure_payload(exc.message, exc.details)
