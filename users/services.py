"""Writes of the users app."""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from biosync.errors import NotFoundError, ServiceError
from biosync.logging import log_event
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

    disconnect = getattr(emitter, "disconnect_user", None)
    if disconnect is None:
        # The realtime layer has no cross-process disconnect yet: the sockets stay open until
        # they reconnect, and then connect/register and every send are refused.
        log_event(logger, "user.disconnect_unavailable", level=logging.WARNING, clerk_id=clerk_id)
        return
    disconnect(clerk_id)


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


# --- Presence ---------------------------------------------------------------------------------
def users_status_reconcile(*, online_clerk_ids: set[str]) -> tuple[list[str], list[str]]:
    """Make users.status agree with presence; returns (set online, set offline) clerk ids.

    A crashed process never ran its disconnect handlers, so its users stay `online` in the
    table until this runs.
    """
    with transaction.atomic():
        stale_online = list(
            User.objects.filter(status=UserStatus.ONLINE).exclude(clerk_id__in=online_clerk_ids)
            .values_list("clerk_id", flat=True)
        )
        stale_offline = list(
            User.objects.filter(clerk_id__in=online_clerk_ids).exclude(status=UserStatus.ONLINE)
            .values_list("clerk_id", flat=True)
        )
        now = timezone.now()
        User.objects.filter(clerk_id__in=stale_online).update(status=UserStatus.OFFLINE, last_seen_at=now, updated_at=now)
        User.objects.filter(clerk_id__in=stale_offline).update(status=UserStatus.ONLINE, updated_at=now)
    log_event(logger, "presence.reconciled", set_online=len(stale_offline), set_offline=len(stale_online))
    return sorted(stale_offline), sorted(stale_online)
