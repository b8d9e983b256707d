"""Presence, decided here and only here: who is online, the status other users see, and
`users.status`, which follows it.

A user is online while any of their sockets holds a lease (delivery.leases, on every process).
Every change of presence (a socket registered or gone, a lease renewed or expired) ends in
`user_presence_refresh`, which makes `users.status` follow the leases and tells the user's
contacts with `user_status`. Socket handlers reach this through chat.services.connections.
"""

from __future__ import annotations

import logging

from channels.db import database_sync_to_async
from django.db import transaction
from django.utils import timezone

from delivery import emitter, events, leases
from kernel.logging import log_event
from users.models import Block, User, UserStatus
from users.selectors import blockers_among, user_connect_refusals

logger = logging.getLogger(__name__)


_ONLINE, _OFFLINE = UserStatus.ONLINE.value, UserStatus.OFFLINE.value


# --- reads ------------------------------------------------------------------------------------
def online_ids(clerk_ids, *, viewer_id: str | None = None) -> set[str]:
    """Which of these users are online now (one Redis call for any number of them), as
    `viewer_id` sees them: a user who blocks the viewer is never online to them (one query,
    only when someone is online). No viewer: as the server sees them."""
    online = leases.online_among(list(clerk_ids))
    if viewer_id is not None and online:
        online -= blockers_among(blocked_id=viewer_id, clerk_ids=online)
    return online


async def aonline_ids(clerk_ids, *, viewer_id: str | None = None) -> set[str]:
    """`online_ids` on the event loop (its block query, when someone is online, on a worker thread)."""
    online = await leases.aonline_among(list(clerk_ids))
    if viewer_id is not None and online:
        blockers = database_sync_to_async(blockers_among, thread_sensitive=False)
        online -= await blockers(blocked_id=viewer_id, clerk_ids=online)
    return online


def status_of(clerk_id: str, online: set[str]) -> str:
    """The status shown for a user, given `online_ids` of the users on the page: a plain str,
    not the enum member (the hot reads' orjson renderer writes only plain types; a str subclass
    sent the whole body back to DRF's slower encoder)."""
    return _ONLINE if clerk_id in online else _OFFLINE


# --- sockets coming and going -------------------------------------------------------------------
def user_sockets_changed(*, changes: list[tuple[bool, str, str]]) -> list[str | None]:
    """Sockets arriving (True, clerk id, sid) and leaving (False, ...), in this order, as one
    batch: leases, refusals and `users.status` in a fixed number of round trips. Returns, for
    each, why the arrival was refused (a suspended or deleted user; its lease is withdrawn
    again), else None."""
    if not changes:
        return []
    # The leases first, the check after: a suspension committing meanwhile either is seen here,
    # or finds these sockets among the user's leases when it disconnects them after its commit.
    edges = leases.sockets_changed(changes)
    arriving = {clerk_id for connected, clerk_id, _ in changes if connected}
    refusals = user_connect_refusals(clerk_ids=arriving) if arriving else {}
    refused = [(False, clerk_id, sid) for connected, clerk_id, sid in changes if connected and clerk_id in refusals]
    if refused:
        leases.sockets_changed(refused)
    # An arrival every time, not only a user's first socket: it also repairs a status a crash
    # left wrong. A departure only when it was the user's last socket.
    refresh = [
        clerk_id
        for (connected, clerk_id, _), edge in zip(changes, edges)
        if (connected and clerk_id not in refusals) or (not connected and edge)
    ]
    users_presence_refresh(clerk_ids=refresh)
    return [refusals.get(clerk_id) if connected else None for connected, clerk_id, _ in changes]


def presence_heartbeat(*, reconcile: bool = False) -> None:
    """One beat of a server process: renew its leases, sweep crashed processes' ones."""
    lost = [(True, clerk_id, sid) for clerk_id, sid in leases.renew() if leases.is_local(sid)]
    if lost:
        leases.sockets_changed(lost)
    users_presence_refresh(clerk_ids=[clerk_id for _, clerk_id, _ in lost] + leases.sweep())
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
    Returns the status, or None for a user without a profile."""
    return users_presence_refresh(clerk_ids=[clerk_id]).get(clerk_id)


def users_presence_refresh(*, clerk_ids) -> dict[str, str]:
    """`user_presence_refresh` for several users in one transaction (one presence read, one
    update per new status); returns the status of each who has a profile.

    Presence is read under the users' row locks, taken in key order, so two racing refreshes
    (a socket leaving on one process while another connects elsewhere) end on the state
    presence has last, and two batches never wait for each other in a circle.
    """
    ids = sorted(set(clerk_ids))
    if not ids:
        return {}
    with transaction.atomic():
        rows = list(
            User.objects.select_for_update()
            .filter(clerk_id__in=ids)
            .order_by("clerk_id")
            .values_list("clerk_id", "status")
        )
        if not rows:
            return {}
        online = leases.online_among([clerk_id for clerk_id, _ in rows])
        statuses = {clerk_id: UserStatus.ONLINE if clerk_id in online else UserStatus.OFFLINE for clerk_id, _ in rows}
        changed = {clerk_id: statuses[clerk_id] for clerk_id, status in rows if status != statuses[clerk_id]}
        if changed:
            now = timezone.now()
            for status in (UserStatus.ONLINE, UserStatus.OFFLINE):
                group = [clerk_id for clerk_id, new in changed.items() if new == status]
                if group:
                    User.objects.filter(clerk_id__in=group).update(status=status, last_seen_at=now, updated_at=now)
            emitter.send_event_on_commit(lambda: _status_events(changed, now))
    return statuses


def _status_events(changed: dict[str, str], at) -> list[tuple]:
    # Read after commit, not under the row locks: a transaction holding one table's lock while
    # waiting for another's can deadlock with table-wide locks (TRUNCATE, migrations).
    # Watchers: the users who have the changed one in their contact list (contacts.Contact.owner),
    # except those it blocks: to them the user stays offline, and silent.
    watching = list(
        User.objects.filter(contacts__contact_id__in=changed).values_list("contacts__contact_id", "clerk_id")
    )
    owners = {owner_id for _, owner_id in watching}
    hidden = (
        set(Block.objects.filter(blocker_id__in=changed, blocked_id__in=owners).values_list("blocker_id", "blocked_id"))
        if owners
        else set()
    )
    online = leases.online_among(owners)
    watchers: dict[str, list[str]] = {}
    for contact_id, owner_id in watching:
        if owner_id in online and (contact_id, owner_id) not in hidden:
            watchers.setdefault(contact_id, []).append(owner_id)
    emits = []
    for clerk_id, status in changed.items():
        for owner_id in watchers.get(clerk_id, ()):
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
