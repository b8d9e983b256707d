"""Read-only reports for operators (selectors): a conversation export and chat statistics."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Min, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from chat.models import Conversation, Message
from kernel.errors import NotFoundError
from kernel.timestamps import iso_z
from users.models import User, UserStatus
from users.presence import online_ids


def _participant(user: User) -> dict:
    return {
        "clerkId": user.clerk_id,
        "username": user.username,
        "fullName": user.full_name,
        "email": user.email,
        "isParalyzed": user.is_paralyzed,
    }


def conversation_export(*, conversation_id: int) -> dict:
    """Everything stored about one conversation, oldest message first (a user's data request).

    A message a moderator removed, or its sender deleted, is listed with its times but without
    its content, as REST shows it to the participants.
    """
    conversation = Conversation.objects.select_related("user1", "user2").filter(pk=conversation_id).first()
    if conversation is None:
        raise NotFoundError(f"Conversation {conversation_id} not found")
    messages = Message.objects.filter(conversation_id=conversation.pk).order_by("id")
    return {
        "conversationId": conversation.pk,
        "createdAt": iso_z(conversation.created_at),
        "lastMessageAt": iso_z(conversation.last_message_at),
        "participants": [_participant(conversation.user1), _participant(conversation.user2)],
        "exportedAt": iso_z(timezone.now()),
        "messages": [
            {
                "id": m.id,
                "fromClerkId": m.sender_id,
                "toClerkId": m.recipient_id,
                "content": None if m.removed_at or m.deleted_at else m.content,
                "messageType": m.message_type,
                "createdAt": iso_z(m.created_at),
                "deliveredAt": iso_z(m.delivered_at),
                "isRead": m.is_read,
                "readAt": iso_z(m.read_at),
                "removedAt": iso_z(m.removed_at),
                "editedAt": iso_z(m.edited_at),
                "deletedAt": iso_z(m.deleted_at),
            }
            for m in messages.iterator()
        ],
    }


def _online_now() -> int:
    ids = list(User.objects.values_list("clerk_id", flat=True))
    return len(online_ids(ids))


def chat_stats(*, days: int = 7) -> dict:
    now = timezone.now()
    since = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    users = User.objects.aggregate(
        total=Count("clerk_id"),
        active=Count("clerk_id", filter=Q(is_active=True)),
        suspended=Count("clerk_id", filter=Q(suspended_at__isnull=False)),
        paralyzed=Count("clerk_id", filter=Q(is_paralyzed=True)),
        status_online=Count("clerk_id", filter=Q(status=UserStatus.ONLINE)),
    )
    per_day = dict(
        Message.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    backlog = Message.objects.filter(is_read=False).aggregate(
        unread=Count("id"),
        undelivered=Count("id", filter=Q(delivered_at__isnull=True)),
        oldest=Min("created_at"),
        recipients=Count("recipient", distinct=True),
    )
    return {
        "users": users,
        "onlineNow": _online_now(),
        "messagesTotal": Message.objects.count(),
        "messagesPerDay": {
            (since + timedelta(days=i)).date().isoformat(): per_day.get((since + timedelta(days=i)).date(), 0)
            for i in range(days)
        },
        "unreadBacklog": {
            "messages": backlog["unread"],
            "undelivered": backlog["undelivered"],
            "recipients": backlog["recipients"],
            "oldest": iso_z(backlog["oldest"]),
        },
    }
