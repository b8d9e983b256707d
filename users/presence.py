"""Presence, decided here and only here: who is online, the status other users see, and
`users.status`, which follows it.

A user is online while any of their sockets holds a lease (delivery.leases, on every process).
Every change of presence (a socket registered or gone, a lease renewed or expired) ends in
`user_presence_refresh`, which makes `users.status` follow the leases and tells the user's
contacts with `user_status`. Socket handlers reach this through chat.services.connections.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from delivery import emitter, events, leases
from kernel.errors import ServiceError
from kernel.logging import log_event
from users.models import User, UserStatus
from users.selectors import blockers_among, user_connect_refusal

logger = logging.getLogger(__name__)


# --- reads ------------------------------------------------------------------------------------
def online_ids(clerk_ids, *, viewer_id: str | None = None) -> set[str]:
    """Which of these users are online now (one Redis call for any number of them), as
    `viewer_id` sees them: a user who blocks the viewer is never online to them (one query,
    only when someone is online). No viewer: as the server sees them."""
    online = leases.online_among(list(clerk_ids))
    if viewer_id is not None and online:
        online -= blockers_among(blocked_id=viewer_id, clerk_ids=online)
    return online


def status_of(clerk_id: str, online: set[str]) -> str:
    """The status shown for a user, given `online_ids` of the users on the page."""
    return UserStatus.ONLINE if clerk_id in online else UserStatus.OFFLINE


# --- sockets coming and going -------------------------------------------------------------------
def user_socket_connected(*, clerk_id: str, sid: str) -> None:
    """Record a socket of a user who may connect; raises ServiceError for one who may not."""
    # The lease first, the check after: a suspension committing meanwhile either is seen here,
    # or finds this socket among the user's leases when it disconnects them after its commit.
    leases.socket_connected(clerk_id, sid)
    refusal = user_connect_refusal(clerk_id=clerk_id)
    if refusal is not None:
        leases.socket_disconnected(clerk_id, sid)
        raise ServiceError(refusal, code="account_disabled")
    # Every time, not only for the first socket: it also repairs a status a crash left wrong.
    user_presence_refresh(clerk_id=clerk_id)


def user_socket_disconnected(*, clerk_id: str, sid: str) -> None:
    if leases.socket_disconnected(clerk_id, sid):
        user_presence_refresh(clerk_id=clerk_id)


def presence_heartbeat(*, reconcile: bool = False) -> None:
    """One beat of a server process: renew its leases, sweep crashed processes' ones."""
    for clerk_id, sid in leases.renew():
        if leases.is_local(sid):
            leases.socket_connected(clerk_id, sid)
            user_presence_refresh(clerk_id=clerk_id)
    for clerk_id in leases.sweep():
        user_presence_refresh(clerk_id=clerk_id)
    if reconcile:
        users_presence_reconcile()


def presence_sweep() -> tuple[list[str], list[str]]:
    """Clear crashed processes' leases and fix users.status (manage.py presence_sweep).

    Returns (users whose last lease expired, users marked online whom presence does not know).
    """
    expired = leases.sweep()
    for clerk_id in expired:
        user_presence_refresh(clerk_id=clerk_id)
    stale = users_presence_reconcile()
    log_event(logger, "presence.swept", expired=len(expired), set_offline=len(stale))
    return expired, stale


# --- users.status -------------------------------------------------------------------------------
def user_presence_refresh(*, clerk_id: str) -> str | None:
    """Make `users.status` follow presence; when it changes, tell the user's watchers after commit.

    Presence is read under the user's row lock, so two racing refreshes (a socket leaving on
    one process while another connects elsewhere) end on the state presence has last.
    Returns the status, or None for a user without a profile.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().filter(clerk_id=clerk_id).only("clerk_id", "status").first()
        if user is None:
            return None
        status = UserStatus.ONLINE if leases.is_online(clerk_id) else UserStatus.OFFLINE
        if user.status == status:
            return status
        now = timezone.now()
        User.objects.filter(clerk_id=clerk_id).update(status=status, last_seen_at=now, updated_at=now)
        emitter.send_event_on_commit(lambda: _status_events(clerk_id, status, now))
    return status


def _status_events(clerk_id: str, status: str, at) -> list[tuple]:
    # Read after commit, not under the row lock: a transaction holding one table's lock while
    # waiting for another's can deadlock with table-wide locks (TRUNCATE, migrations).
    # Watchers: the users who have this one in their contact list (contacts.Contact.owner),
    # except those this user blocks: to them the user stays offline, and silent.
    watchers = list(
        User.objects.filter(contacts__contact_id=clerk_id)
        .exclude(blocked_by__blocker_id=clerk_id)
        .values_list("clerk_id", flat=True)
    )
    online = leases.online_among(watchers)
    emits = []
    for owner_id in watchers:
        if owner_id not in online:
            continue
        room = events.user_room(owner_id)
        emits.append((events.USER_STATUS, events.user_status_payload(clerk_id, status, at), room, None))
        if status == UserStatus.OFFLINE:
            # A typing indicator whose timer died with a crashed process ends here at the latest.
            emits.append((events.USER_TYPING, events.user_typing_payload(clerk_id, False), room, None))
    return emits


def user_status_show_on_commit(*, clerk_id: str, viewer_id: str) -> None:
    """After commit, tell `viewer_id` (when they watch the user) the status they now see of
    `clerk_id`: a block has just hidden it (offline) or an unblock shown it again."""

    def emits() -> list[tuple]:
        watching = User.objects.filter(pk=viewer_id, contacts__contact_id=clerk_id).exists()
        if not watching or not leases.is_online(viewer_id):
            return []
        user = User.objects.filter(pk=clerk_id).only("last_seen_at").first()
        shown = online_ids([clerk_id], viewer_id=viewer_id)
        status = UserStatus.ONLINE if clerk_id in shown else UserStatus.OFFLINE
        payload = events.user_status_payload(clerk_id, status, user.last_seen_at if user else None)
        return [(events.USER_STATUS, payload, events.user_room(viewer_id), None)]

    emitter.send_event_on_commit(emits)


def users_presence_reconcile() -> list[str]:
    """Users marked online that presence no longer knows (a restart, a lost Redis) go offline."""
    marked = list(User.objects.filter(status=UserStatus.ONLINE).values_list("clerk_id", flat=True))
    stale = sorted(set(marked) - leases.online_among(marked))
    for clerk_id in stale:
        user_presence_refresh(clerk_id=clerk_id)
    return stale
