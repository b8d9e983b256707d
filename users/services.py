"""Writes of the users app."""

from django.db import IntegrityError, transaction

from biosync.errors import NotFoundError, ServiceError
from users.models import User

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
