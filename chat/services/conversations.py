"""Opening a conversation: the pair's one conversation, created when missing."""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from chat.models import Conversation
from chat.services.storage import db_time
from kernel.errors import NotFoundError, ServiceError
from users.models import User


def conversation_get_or_create(*, user_a: str, user_b: str) -> Conversation:
    if user_a == user_b:
        raise ServiceError("Cannot open a conversation with yourself", code="self")
    user1, user2 = sorted((user_a, user_b))
    conversation = Conversation.objects.filter(user1_id=user1, user2_id=user2).first()
    if conversation is not None:
        return conversation
    table = Conversation._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user1_clerk_id, user2_clerk_id, created_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (user1_clerk_id, user2_clerk_id) DO NOTHING",
            [user1, user2, db_time(timezone.now())],
        )
    return Conversation.objects.get(user1_id=user1, user2_id=user2)


def conversation_open(*, clerk_id: str, other_clerk_id: str) -> Conversation:
    """The pair's conversation, created when missing. 404 for an unknown user; a deactivated
    user's existing conversation still opens (its history stays readable), a new one does not."""
    if clerk_id == other_clerk_id:
        raise ServiceError("Cannot open a conversation with yourself", code="self")
    users = {u.clerk_id: u for u in User.objects.filter(clerk_id__in=[clerk_id, other_clerk_id])}
    other = users.get(other_clerk_id)
    if other is None:
        raise NotFoundError("User not found")
    if clerk_id not in users:
        raise ServiceError("Create your profile first with POST /users", code="unknown_owner")
    user1, user2 = sorted((clerk_id, other_clerk_id))
    existing = Conversation.objects.filter(user1_id=user1, user2_id=user2).first()
    if existing is not None:
        return existing
    if not other.is_active:
        raise NotFoundError("User not found")
    try:
        return conversation_get_or_create(user_a=clerk_id, user_b=other_clerk_id)
    except IntegrityError as exc:
        # One of the two users was deleted between the check and the insert.
        raise NotFoundError("User not found") from exc
