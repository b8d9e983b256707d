"""Writes of users' language models: learning new messages (off the send path: a background
task in each server process calls `assist_learn_pending`), unlearning hidden ones, erasing and
rebuilding. A user's model only ever takes in messages that user sent or received.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from itertools import takewhile

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from assist.language import model_apply, model_empty, model_prune
from assist.models import LanguageModel, LearnCursor, Preferences
from chat.models import Message
from kernel.logging import log_event
from users.models import User

logger = logging.getLogger(__name__)

FIELDS = ("id", "sender_id", "recipient_id", "content", "conversation_id", "removed_at")
UPDATE_SQL = (
    "UPDATE assist_language_models SET data = %s, version = version + 1, messages_learned = %s, updated_at = %s"
    " WHERE user_clerk_id = %s"
)


def _learners(clerk_ids: set[str]) -> set[str]:
    """Of these users, those whose model may learn: active, and learning not turned off."""
    active = set(User.objects.filter(clerk_id__in=clerk_ids, is_active=True).values_list("clerk_id", flat=True))
    off = set(Preferences.objects.filter(user_id__in=active, learning_enabled=False).values_list("user_id", flat=True))
    return active - off


def _models_locked(clerk_ids: set[str]) -> dict[str, tuple[LanguageModel, dict]]:
    """The users' model rows, locked, with their parsed language (created empty when missing)."""
    existing = {m.user_id: m for m in LanguageModel.objects.select_for_update().filter(user_id__in=clerk_ids)}
    missing = clerk_ids - existing.keys()
    if missing:
        LanguageModel.objects.bulk_create([LanguageModel(user_id=c) for c in missing], ignore_conflicts=True)
        existing = {m.user_id: m for m in LanguageModel.objects.select_for_update().filter(user_id__in=clerk_ids)}
    return {clerk_id: (row, row.language() or model_empty()) for clerk_id, row in existing.items()}


def _answered(message: dict, previous: dict | None):
    """(id, text) of the contact's message this sent message answers, if it answers one."""
    if previous and previous["sender_id"] == message["recipient_id"] and previous["removed_at"] is None:
        return previous["id"], previous["content"]
    return None


def _previous_in_conversations(messages: list[dict], known: dict) -> None:
    """Fill `known` with, per conversation of `messages` not in it yet, the message before its
    first one here (or None), in two queries. `messages` are every message of their
    conversations from the first one's id on (a batch after the cursor, or one message), so
    that message is the newest below the first id."""
    wanted = {m["conversation_id"] for m in messages} - known.keys()
    if not wanted:
        return
    newest = (
        Message.objects.filter(conversation_id__in=wanted, id__lt=messages[0]["id"])
        .values("conversation_id")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    rows = {r["conversation_id"]: r for r in Message.objects.filter(id__in=list(newest)).values(*FIELDS)}
    for conversation in wanted:
        known[conversation] = rows.get(conversation)


def _apply(messages: list[dict], *, sign: int, learners: set[str] | None = None, previous: dict | None = None):
    """Apply messages (oldest first) to their two users' models; `previous`: per conversation,
    the message before the first one here, filled from the database when missing."""
    if not messages:
        return
    users = {m["sender_id"] for m in messages} | {m["recipient_id"] for m in messages}
    if sign < 0:  # unlearning reaches every model that may hold the text, learning on or off
        learners = set(LanguageModel.objects.filter(user_id__in=users).values_list("user_id", flat=True))
    learners = _learners(users) if learners is None else learners & users
    models = _models_locked(learners)
    previous = {} if previous is None else previous
    _previous_in_conversations(messages, previous)
    for message in messages:
        conversation = message["conversation_id"]
        if message["removed_at"] is None:
            sender, recipient = models.get(message["sender_id"]), models.get(message["recipient_id"])
            common = {"message_id": message["id"], "text": message["content"], "sign": sign}
            if sender is not None:
                reply_to = _answered(message, previous[conversation])
                model_apply(sender[1], sent=True, contact=message["recipient_id"], reply_to=reply_to, **common)
                sender[0].messages_learned = max(0, sender[0].messages_learned + sign)
            if recipient is not None:
                model_apply(recipient[1], sent=False, contact=message["sender_id"], **common)
                recipient[0].messages_learned = max(0, recipient[0].messages_learned + sign)
        previous[conversation] = message
    now, updates = timezone.now(), []
    for row, language in models.values():
        model_prune(language)
        row.set_language(language)
        updates.append((row.data, row.messages_learned, now, row.user_id))
    if updates:  # one statement run for every row (bulk_update's CASE expressions cost more than learning)
        with connection.cursor() as cursor:
            cursor.executemany(UPDATE_SQL, updates)


def _cursor(*, skip_locked: bool = False) -> LearnCursor | None:
    LearnCursor.objects.get_or_create(pk=1)
    return LearnCursor.objects.select_for_update(skip_locked=skip_locked).filter(pk=1).first()


def assist_learn_pending(*, batch: int = 500, settle_seconds: float | None = None) -> int:
    """Learn the next messages after the cursor; returns how many were read (0: nothing to do,
    or another process is learning). Only messages older than `settle_seconds` are read, so a
    send still committing with a lower id is not skipped over."""
    settle = settings.ASSIST_LEARN_SETTLE_SECONDS if settle_seconds is None else settle_seconds
    with transaction.atomic():
        cursor = _cursor(skip_locked=True)
        if cursor is None:
            return 0
        # A range of the primary key and nothing else, so no planner picks a scan of the whole
        # table; the settling cut is applied here, at the first message still too young.
        cutoff = timezone.now() - timedelta(seconds=settle)
        rows = Message.objects.filter(id__gt=cursor.last_message_id).order_by("id").values(*FIELDS, "created_at")
        messages = list(takewhile(lambda row: row["created_at"] <= cutoff, rows[:batch]))
        if not messages:
            return 0
        _apply(messages, sign=1)
        cursor.last_message_id = messages[-1]["id"]
        cursor.save(update_fields=["last_message_id"])
    log_event(logger, "assist.learned", messages=len(messages), through=cursor.last_message_id)
    return len(messages)


def _message_row(message: Message) -> dict:
    return {field: getattr(message, field) for field in FIELDS}


def assist_message_unlearn(*, message: Message) -> None:
    """A message was hidden: take it out of both users' models if it had been learned."""
    with transaction.atomic():
        cursor = _cursor()
        if message.id <= cursor.last_message_id:
            row = {**_message_row(message), "removed_at": None}
            _apply([row], sign=-1)


def assist_message_relearn(*, message: Message) -> None:
    """A hidden message is shown again: learn it back if the cursor had passed it."""
    with transaction.atomic():
        cursor = _cursor()
        if message.id <= cursor.last_message_id and message.removed_at is None:
            _apply([_message_row(message)], sign=1)


def assist_model_erase(*, clerk_id: str) -> None:
    """Forget everything learned about the user's language (messages stay)."""
    with transaction.atomic():
        LanguageModel.objects.filter(user_id=clerk_id).delete()
    log_event(logger, "assist.erased", user=clerk_id)


def assist_models_rebuild(*, clerk_id: str | None = None, batch: int = 2000) -> int:
    """Rebuild models from stored messages (all users, or one): erase, then learn every message
    up to the cursor again, removed ones left out. Returns how many messages were read."""
    read = 0
    with transaction.atomic():
        cursor = _cursor()
        models = LanguageModel.objects.all() if clerk_id is None else LanguageModel.objects.filter(user_id=clerk_id)
        models.delete()
        through = cursor.last_message_id
        query = Message.objects.filter(id__lte=through).order_by("id")
        learners = None
        if clerk_id is not None:
            query = query.filter(Q(sender_id=clerk_id) | Q(recipient_id=clerk_id))
            learners = _learners({clerk_id})
        after, previous = 0, {}
        while True:
            messages = list(query.filter(id__gt=after).values(*FIELDS)[:batch])
            if not messages:
                break
            _apply(messages, sign=1, learners=learners, previous=previous)
            read += len(messages)
            after = messages[-1]["id"]
    return read
