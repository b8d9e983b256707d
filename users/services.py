"""Writes of the users app."""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from biosync.errors import NotFoundError, ServiceError
from biosync.logging import log_event
from contacts.models import Contact
from users.models import User, UserStatus

logger = logging.getLogger(__name__)

PROFILE_FIELDS = ("username", "full_name", "email", "image_url")


def user_create(*, clerk_id: str, is_paralyzed: bool = False, **profile) -> User:
    if User.objects.filter(clerk_id=clerk_id).exists():
        raise ServiceError("User already exists", code="exists")
    fields = {name: profile[name] for name in PROFILE_FIELDS if profile.get(name) is not None}
    try:
        with transaction.atomic():
            return User.objects.create(clerk_id=clerk_id, is_paralyzed=is_paralyzed, **fields)
    except IntegrityError as exc:
        raise ServiceError("User already exists", code="exists") from exc


def user_update(*, clerk_id: str, **changes) -> User:
    allowed = {"is_paralyzed", *PROFILE_FIELDS}
    with transaction.atomic():
        user = User.objects.select_for_update().filter(clerk_id=clerk_id).first()
        if user is None:
            raise NotFoundError("User not found")
        changed = [name for name, value in changes.items() if name in allowed and value is not None]
        for name in changed:
            setattr(user, name, changes[name])
        if changed:
            user.save(update_fields=[*changed, "updated_at"])
    return user


# --- Moderation -------------------------------------------------------------------------------
SUSPENSION_REASON_MAX = 500


def _disconnect_everywhere(clerk_id: str) -> None:
    from chat.realtime import emitter

    closed = emitter.disconnect_user(clerk_id)
    log_event(logger, "user.disconnected", clerk_id=clerk_id, sockets=closed)


def user_suspend(*, clerk_id: str, reason: str) -> User:
    """Suspend a user: their sockets are closed, and they can neither connect, send nor be messaged."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("A suspension needs a reason", code="reason_required")
    with transaction.atomic():
        user = User.objects.select_for_update().filter(clerk_id=clerk_id).first()
        if user is None:
            raise NotFoundError("User not found")
        # A second suspension updates the reason and keeps the original time.
        user.suspended_at = user.suspended_at or timezone.now()
        user.suspension_reason = reason[:SUSPENSION_REASON_MAX]
        user.save(update_fields=["suspended_at", "suspension_reason", "updated_at"])
        transaction.on_commit(lambda: _disconnect_everywhere(clerk_id))
    log_event(logger, "user.suspended", clerk_id=clerk_id)
    return user


def user_unsuspend(*, clerk_id: str) -> User:
    with transaction.atomic():
        user = User.objects.select_for_update().filter(clerk_id=clerk_id).first()
        if user is None:
            raise NotFoundError("User not found")
        if user.suspended_at is not None:
            user.suspended_at = None
            user.suspension_reason = ""
            user.save(update_fields=["suspended_at", "suspension_reason", "updated_at"])
    log_event(logger, "user.unsuspended", clerk_id=clerk_id)
    return user


def user_presence_refresh(*, clerk_id: str) -> str | None:
    """Make `users.status` follow presence; when it changes, tell the user's watchers after commit.

    Presence is read under the user's row lock, so two racing refreshes (a socket leaving on
    one process while another connects elsewhere) end on the state presence has last.
    Returns the status, or None for a user without a profile.
    """
    from chat.realtime import presence

    with transaction.atomic():
        user = User.objects.select_for_update().filter(clerk_id=clerk_id).only("clerk_id", "status").first()
        if user is None:
            return None
        status = UserStatus.ONLINE if presence.is_online(clerk_id) else UserStatus.OFFLINE
        if user.status == status:
            return status
        now = timezone.now()
        User.objects.filter(clerk_id=clerk_id).update(status=status, last_seen_at=now, updated_at=now)
        transaction.on_commit(lambda: _announce_status(clerk_id, status, now))
    return status


def _announce_status(clerk_id: str, status: str, at) -> None:
    from chat.realtime import emitter, events, presence

    # Read after commit, not under the row lock: a transaction holding one table's lock while
    # waiting for another's can deadlock with table-wide locks (TRUNCATE, migrations).
    watchers = list(Contact.objects.filter(contact_id=clerk_id).values_list("owner_id", flat=True))
    online = presence.online_among(watchers)
    for owner_id in watchers:
        if owner_id not in online:
            continue
        room = events.user_room(owner_id)
        emitter.emit(events.USER_STATUS, events.user_status_payload(clerk_id, status, at), room=room)
        if status == UserStatus.OFFLINE:
            # A typing indicator whose timer died with a crashed process ends here at the latest.
            emitter.emit(events.USER_TYPING, events.user_typing_payload(clerk_id, False), room=room)


def users_presence_reconcile() -> list[str]:
    """Users marked online that presence no longer knows (a restart, a lost Redis) go offline."""
    from chat.realtime import presence

    marked = list(User.objects.filter(status=UserStatus.ONLINE).values_list("clerk_id", flat=True))
    stale = sorted(set(marked) - presence.online_among(marked))
    for clerk_id in stale:
        user_presence_refresh(clerk_id=clerk_id)
    return stale
