"""Reads of the chat app."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from changelog.selectors import changes_after
from chat.models import Conversation, Message
from contacts.models import Contact
from contacts.selectors import nicknames_of
from delivery import events
from kernel.queries import CompiledValues
from kernel.timestamps import IsoZ, iso_z
from users.models import User

MESSAGES_DEFAULT_LIMIT = 50
MESSAGES_MAX_LIMIT = 200


def _of_participant(clerk_id: str):
    return Conversation.objects.filter(Q(user1_id=clerk_id) | Q(user2_id=clerk_id)).select_related("user1", "user2")


# The participants' fields a conversation read carries (conversation_for_participant), in the
# model's field order, as Model.from_db takes them.
PARTICIPANT_FIELDS = tuple(
    f.attname
    for f in User._meta.concrete_fields
    if f.attname in {"clerk_id", "username", "full_name", "image_url", "is_paralyzed", "last_seen_at", "status"}
)


def _participant_query(*, conversation_id: int, clerk_id: str):
    # The caller's contact row among the two participants can only be the other one (contacts_not_self).
    nickname = Contact.objects.filter(
        Q(contact_id=OuterRef("user1_id")) | Q(contact_id=OuterRef("user2_id")), owner_id=clerk_id
    ).values("nickname")[:1]
    users = [f"{side}__{name}" for side in ("user1", "user2") for name in PARTICIPANT_FIELDS]
    return (
        Conversation.objects.filter(Q(user1_id=clerk_id) | Q(user2_id=clerk_id), pk=conversation_id)
        .order_by()
        .values("id", "user1_id", "user2_id", *users, other_nickname=Subquery(nickname))
    )


# A hot read (every message page): compiled once (kernel.queries).
_participant_row = CompiledValues(_participant_query, conversation_id=-(2**62), clerk_id="\x00caller")


def conversation_for_participant(*, conversation_id: int, clerk_id: str) -> Conversation | None:
    """The conversation if the caller takes part in it; anyone else's answers like a missing one.

    With both users (`PARTICIPANT_FIELDS` loaded, the rest deferred), and `other_nickname`: the
    caller's nickname for the other participant (None when they are not a contact or have none).
    One query; no ORDER BY, the id picks one row.
    """
    return _participant_conversation(_participant_row.rows(conversation_id=conversation_id, clerk_id=clerk_id))


async def aconversation_for_participant(*, conversation_id: int, clerk_id: str) -> Conversation | None:
    """`conversation_for_participant` on the event loop (kernel.queries: raises NotCompiled
    until the blocking one has run in this process)."""
    return _participant_conversation(await _participant_row.arows(conversation_id=conversation_id, clerk_id=clerk_id))


def _participant_conversation(rows: list[dict]) -> Conversation | None:
    if not rows:
        return None
    row = rows[0]
    conversation = Conversation.from_db(
        "default", ["id", "user1_id", "user2_id"], [row["id"], row["user1_id"], row["user2_id"]]
    )
    for side in ("user1", "user2"):
        values = [row[f"{side}__{name}"] for name in PARTICIPANT_FIELDS]
        setattr(conversation, side, User.from_db("default", PARTICIPANT_FIELDS, values))
    conversation.other_nickname = row["other_nickname"]
    return conversation


def other_user(conversation: Conversation, clerk_id: str) -> User:
    return conversation.user2 if conversation.user1_id == clerk_id else conversation.user1


def conversations_list(*, clerk_id: str) -> list[Conversation]:
    """The caller's conversations, newest first, each with `unread_count` and `last_message` (a
    message row, or None).

    Two queries whatever the number of conversations.
    """
    unread = (
        Message.objects.filter(
            conversation=OuterRef("pk"), recipient_id=clerk_id, is_read=False, deleted_at__isnull=True
        )
        .order_by()
        .values("conversation")
        .annotate(n=Count("id"))
        .values("n")
    )
    last_id = Message.objects.filter(conversation=OuterRef("pk")).order_by("-id").values("id")[:1]
    conversations = list(
        _of_participant(clerk_id)
        .annotate(
            unread_count=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)),
            last_message_id=Subquery(last_id, output_field=IntegerField()),
        )
        .order_by(F("last_message_at").desc(nulls_last=True), "-created_at", "-id")
    )
    ids = [c.last_message_id for c in conversations if c.last_message_id]
    rows = Message.objects.filter(id__in=ids).values(*MESSAGE_ROW_FIELDS, **MESSAGE_ROW_EXPRESSIONS) if ids else []
    last = {row["id"]: row for row in rows}
    for conversation in conversations:
        conversation.last_message = last.get(conversation.last_message_id)
    return conversations


def other_users_nicknames(*, clerk_id: str, users) -> dict[str, str | None]:
    return nicknames_of(owner_id=clerk_id, clerk_ids=[u.clerk_id for u in users])


@dataclass(frozen=True)
class MessagePage:
    messages: list  # message rows, oldest first
    has_more: bool  # more messages lie beyond this page, in the direction it was read


# What a message page shows of each message (message_rows_page); timestamps already written as
# the API writes them (`*_iso`, see kernel.timestamps.IsoZ).
MESSAGE_ROW_FIELDS = (
    "id",
    "conversation_id",
    "sender_id",
    "recipient_id",
    "content",
    "message_type",
    "is_read",
    "client_message_id",
)
MESSAGE_ROW_EXPRESSIONS = {
    "read_at_iso": IsoZ("read_at"),
    "created_at_iso": IsoZ("created_at"),
    "delivered_at_iso": IsoZ("delivered_at"),
    "removed": Q(removed_at__isnull=False),
    "edited_at_iso": IsoZ("edited_at"),
    "deleted": Q(deleted_at__isnull=False),
}


def message_row(*, message_id: int) -> dict | None:
    """One message as a row (`MESSAGE_ROW_FIELDS`), for the answer to a change of it."""
    return Message.objects.filter(pk=message_id).values(*MESSAGE_ROW_FIELDS, **MESSAGE_ROW_EXPRESSIONS).first()


def message_rows_page(
    *,
    conversation_id: int,
    limit: int = MESSAGES_DEFAULT_LIMIT,
    offset: int = 0,
    after: int | None = None,
    before: int | None = None,
) -> MessagePage:
    """One page of a conversation as plain rows (`MESSAGE_ROW_FIELDS`), always oldest first.

    Without `after`: the newest `limit` messages (older than `before`, if given) after skipping
    `offset` newest, as the seed pages. With `after`: the oldest `limit` messages newer than it,
    how a reconnecting client catches up page by page.
    """
    query, limit, values = _page_read(conversation_id, limit, offset, after, before)
    return _page_of(query.rows(**values), limit, after)


async def amessage_rows_page(
    *,
    conversation_id: int,
    limit: int = MESSAGES_DEFAULT_LIMIT,
    offset: int = 0,
    after: int | None = None,
    before: int | None = None,
) -> MessagePage:
    """`message_rows_page` on the event loop (kernel.queries: raises NotCompiled until the
    blocking one has read this kind of page in this process)."""
    query, limit, values = _page_read(conversation_id, limit, offset, after, before)
    return _page_of(await query.arows(**values), limit, after)


def _page_read(conversation_id: int, limit: int, offset: int, after, before) -> tuple[CompiledValues, int, dict]:
    """The page's query, its limit, and the values to read it with (one row more than the limit)."""
    limit = min(limit, MESSAGES_MAX_LIMIT)
    values = {"conversation_id": conversation_id, "limit": limit + 1, "offset": offset}
    if after is not None:
        values["after"] = after
    if before is not None:
        values["before"] = before
    return _pages[(after is not None, before is not None)], limit, values


def _page_of(rows: list[dict], limit: int, after) -> MessagePage:
    has_more = len(rows) > limit
    rows = rows[:limit]
    if after is None:
        rows.reverse()
    return MessagePage(messages=rows, has_more=has_more)


def _page_query(*, conversation_id: int, after: int | None = None, before: int | None = None):
    messages = Message.objects.filter(conversation_id=conversation_id)
    if after is not None:
        messages = messages.filter(id__gt=after)
    if before is not None:
        messages = messages.filter(id__lt=before)
    ordered = messages.order_by("id") if after is not None else messages.order_by("-id")
    return ordered.values(*MESSAGE_ROW_FIELDS, **MESSAGE_ROW_EXPRESSIONS)


def _page_variant(newer: bool, older: bool) -> CompiledValues:
    bounds = {"after": -(2**62) + 1} if newer else {}
    if older:
        bounds["before"] = -(2**62) + 2
    return CompiledValues(_page_query, conversation_id=-(2**62), **bounds)


# Every message page is one of four queries (with or without each cursor), compiled once each.
_pages = {(newer, older): _page_variant(newer, older) for newer in (False, True) for older in (False, True)}


SYNC_DEFAULT_LIMIT = 100
SYNC_MAX_LIMIT = 500


@dataclass(frozen=True)
class SyncPage:
    changes: list[dict]
    cursor: int
    has_more: bool


def sync_page(*, clerk_id: str, after: int, limit: int) -> SyncPage:
    """The caller's changes numbered after `after` (GET /sync), oldest first. A message is
    read as it is now: a removed one has no text (its removal follows as message_deleted)."""
    rows, has_more = changes_after(clerk_id=clerk_id, after=after, limit=min(limit, SYNC_MAX_LIMIT))
    message_ids = [r.payload["messageId"] for r in rows if r.kind == events.RECEIVE_MESSAGE]
    messages = Message.objects.in_bulk(message_ids)
    changes = []
    for row in rows:
        data = row.payload
        if row.kind == events.RECEIVE_MESSAGE:
            message = messages.get(data["messageId"])
            if message is None:
                continue  # deleted with its conversation or user: nothing left to show
            data = events.receive_message_payload(message)
            if message.removed_at is not None:
                data.update(text="", content="")
        changes.append({"cursor": row.seq, "type": row.kind, "data": data, "at": iso_z(row.created_at)})
    return SyncPage(changes=changes, cursor=rows[-1].seq if rows else after, has_more=has_more)


def messages_received_since(*, clerk_ids, since) -> list[Message]:
    """Messages to these users stored since `since`, not taken away, oldest first (the catch-ups
    after a pub/sub outage or a dead server process)."""
    return list(
        Message.objects.filter(
            recipient_id__in=list(clerk_ids), created_at__gte=since, deleted_at__isnull=True, removed_at__isnull=True
        ).order_by("pk")
    )
