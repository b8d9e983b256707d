"""Writes of the users app."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from delivery import emitter
from kernel.errors import NotFoundError, ServiceError
from kernel.logging import log_event
from users.models import PendingProfile, User, WebhookDelivery, valid_clerk_id
from users.presence import user_presence_refresh
from users.signals import user_deactivated

logger = logging.getLogger(__name__)

PROFILE_FIELDS = ("username", "full_name", "email", "image_url")
# Longer than Svix's 5-minute timestamp tolerance: a replayed delivery is refused either way.
WEBHOOK_DELIVERY_RETENTION = timedelta(days=1)


class WebhookReplayError(ServiceError):
    status_code = 409


def _fit(name: str, value) -> str:
    """A profile value cut to its column (PostgreSQL refuses longer ones, SQLite would keep them)."""
    text = value.strip() if isinstance(value, str) else ""
    return text[: User._meta.get_field(name).max_length]


def user_create(*, clerk_id: str, is_paralyzed: bool = False, **profile) -> User:
    if User.objects.filter(clerk_id=clerk_id).exists():
        raise ServiceError("User already exists", code="exists")
    fields = {name: profile[name] for name in PROFILE_FIELDS if profile.get(name) is not None}
    try:
        with transaction.atomic():
            # The pending row, inserted when missing, is also this clerk id's lock: a webhook
            # racing this creation waits for it (see user_upsert_from_clerk).
            pending, created = PendingProfile.objects.select_for_update().get_or_create(clerk_id=clerk_id)
            if not created:
                # Clerk's webhook came first: its profile fills what the caller left out.
                for name in PROFILE_FIELDS:
                    fields.setdefault(name, getattr(pending, name))
                fields["clerk_updated_at"] = pending.clerk_updated_at
            pending.delete()
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
        _sockets_disconnect_on_commit(clerk_id)
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


def _profile_save(user, profile: dict, **extra) -> list[str]:
    """Set the fields that differ; save only those (no write when nothing changed)."""
    changed = [name for name, value in {**profile, **extra}.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, {**profile, **extra}[name])
    if changed:
        user.save(update_fields=[*changed, "updated_at"] if isinstance(user, User) else changed)
    return changed


# --- From Clerk session token claims ---------------------------------------------------------
def profile_from_claims(claims: dict) -> dict:
    """Profile fields a (custom) Clerk session token carries; absent or empty claims are skipped."""
    names = {
        "username": ("username",),
        "email": ("email", "primary_email", "primary_email_address"),
        "full_name": ("full_name", "name"),
        "image_url": ("image_url", "picture"),
    }
    profile = {}
    for field, claim_names in names.items():
        value = next((claims[c] for c in claim_names if isinstance(claims.get(c), str) and claims[c].strip()), None)
        if value is not None:
            profile[field] = _fit(field, value)
    if "full_name" not in profile:
        name = " ".join(
            claims[c].strip()
            for c in ("first_name", "last_name")
            if isinstance(claims.get(c), str) and claims[c].strip()
        )
        if name:
            profile["full_name"] = _fit("full_name", name)
    return profile


# The profile each user's claims last wrote, per process: a request whose claims match it costs
# no query. Bounded by clearing; a miss only costs one SELECT.
_synced_profiles: dict[str, tuple] = {}
SYNCED_PROFILES_MAX = 10_000


def user_sync_from_claims(*, clerk_id: str, claims: dict) -> None:
    """Copy username/name/email/image from a session token's claims to the user's profile, or
    keep them for their `POST /users` (PendingProfile) when they have none yet.

    Clerk's default session token carries none of them; a custom session token template can
    (README, Identity). Claims equal to the last ones applied on this process cost nothing.
    """
    profile = profile_from_claims(claims)
    if not profile:
        return
    fingerprint = tuple(sorted(profile.items()))
    if _synced_profiles.get(clerk_id) == fingerprint:
        return
    user_upsert_from_clerk(clerk_id=clerk_id, profile=profile)
    if len(_synced_profiles) >= SYNCED_PROFILES_MAX:
        _synced_profiles.clear()
    _synced_profiles[clerk_id] = fingerprint


# --- From Clerk webhooks ---------------------------------------------------------------------
def profile_from_clerk_user(data: dict) -> dict:
    """username, full_name, email, image_url of a Clerk User object, as far as it has them."""
    profile = {}
    if "username" in data:
        profile["username"] = _fit("username", data.get("username"))
    if "first_name" in data or "last_name" in data:
        parts = [data.get(name) for name in ("first_name", "last_name")]
        profile["full_name"] = _fit("full_name", " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip()))
    primary_id = data.get("primary_email_address_id")
    for address in data.get("email_addresses") or []:
        if isinstance(address, dict) and address.get("id") == primary_id:
            profile["email"] = _fit("email", address.get("email_address"))
    if "image_url" in data:
        profile["image_url"] = _fit("image_url", data.get("image_url"))
    return profile


def user_upsert_from_clerk(*, clerk_id: str, profile: dict, clerk_updated_at: int | None = None) -> User | None:
    """Apply Clerk's profile of a user: to the user, or, before their `POST /users`, kept pending.

    Returns the user, or None when the profile is kept pending. A profile older than the one
    already applied (Svix does not keep order across retries) changes nothing.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().filter(clerk_id=clerk_id).first()
        target = user
        if user is None:
            target, _ = PendingProfile.objects.select_for_update().get_or_create(clerk_id=clerk_id)
            # user_create holds this row from its start to its commit: now that we hold it, a
            # user created meanwhile is visible, and a profile kept pending would never be taken.
            user = User.objects.select_for_update().filter(clerk_id=clerk_id).first()
            if user is not None:
                target.delete()
                target = user
        stored = target.clerk_updated_at
        if clerk_updated_at is not None and stored is not None and clerk_updated_at < stored:
            return user
        extra = {"clerk_updated_at": clerk_updated_at} if clerk_updated_at is not None else {}
        _profile_save(target, profile, **extra)
    return user


def user_deactivate(*, clerk_id: str) -> User | None:
    """Clerk deleted the user: hide them, refuse messages to them, drop their sockets; keep messages."""
    with transaction.atomic():
        PendingProfile.objects.filter(clerk_id=clerk_id).delete()
        user = User.objects.select_for_update().filter(clerk_id=clerk_id).first()
        if user is None:
            return None
        if user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active", "updated_at"])
        user_deactivated.send(sender=User, clerk_id=clerk_id)
        _sockets_disconnect_on_commit(clerk_id)
    return user


def _sockets_disconnect_on_commit(clerk_id: str) -> None:
    emitter.disconnect_user_on_commit(clerk_id)
    # Status follows presence, not this write, so the user's contacts hear `user_status offline`
    # (from the disconnect handlers, or here for a status no socket backs any more).
    transaction.on_commit(lambda: user_presence_refresh(clerk_id=clerk_id))


def clerk_webhook_apply(*, svix_id: str, event_type: str, data) -> str:
    """Apply one verified Clerk webhook, once per `svix-id`; returns what was done.

    The delivery is recorded in the same transaction as its effect: a delivery that fails
    leaves no trace, so Clerk's retry (same svix-id) is applied, while a replay is refused.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                WebhookDelivery.objects.create(svix_id=svix_id, event_type=event_type[:100])
        except IntegrityError as exc:
            raise WebhookReplayError("Webhook already received (replay)", code="replay") from exc
        WebhookDelivery.objects.filter(received_at__lt=timezone.now() - WEBHOOK_DELIVERY_RETENTION).delete()
        if event_type not in {"user.created", "user.updated", "user.deleted"}:
            return "ignored"
        if not isinstance(data, dict) or not valid_clerk_id(data.get("id")):
            raise ServiceError("Webhook payload has no valid user id", code="malformed")
        if event_type == "user.deleted":
            user_deactivate(clerk_id=data["id"])
            return "deactivated"
        updated_at = data.get("updated_at")
        user_upsert_from_clerk(
            clerk_id=data["id"],
            profile=profile_from_clerk_user(data),
            clerk_updated_at=updated_at if isinstance(updated_at, int) and not isinstance(updated_at, bool) else None,
        )
        return "applied"
