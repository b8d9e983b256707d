"""Reads of the assist app: preferences, phrase boards, and the suggestions themselves."""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict

from django.conf import settings

from assist.base import base_model
from assist.language import model_empty, replies_rank, words_rank
from assist.models import LanguageModel, Phrase, Preferences
from assist.text import caret_of, message_key
from chat.models import Message
from kernel.errors import NotFoundError, ServiceError
from users.models import User

MAX_WORDS = 4
MAX_REPLIES = 3
OPTIONS = 4  # POST /chat/options, as the frontend reads it
MODEL_CACHE_SIZE = 2000  # users whose parsed model each process keeps

_cache: OrderedDict[str, tuple[int, dict]] = OrderedDict()
_cache_lock = threading.Lock()
# Per (user, contact): the last text and the words shown for it, and the words passed over since.
_shown: OrderedDict[tuple[str, str | None], tuple[str, frozenset]] = OrderedDict()


def _passed_over(key: tuple[str, str | None], text: str) -> frozenset:
    """Words shown a selection ago for the same word that the user typed past (one more letter)."""
    with _cache_lock:
        previous = _shown.get(key)
    if previous is None or len(text) != len(previous[0]) + 1 or not text.startswith(previous[0]):
        return frozenset()
    return previous[1] if caret_of(text).prefix else frozenset()


def _remember_shown(key: tuple[str, str | None], text: str, words: list[str], passed_over: frozenset) -> None:
    with _cache_lock:
        _shown[key] = (text, passed_over | {w.lower() for w in words})
        _shown.move_to_end(key)
        while len(_shown) > MODEL_CACHE_SIZE:
            _shown.popitem(last=False)


def preferences_get(*, clerk_id: str) -> Preferences:
    """The user's preferences; the defaults (unsaved) when they never changed any."""
    return Preferences.objects.filter(user_id=clerk_id).first() or Preferences(user_id=clerk_id)


def typing_timeout_default(*, is_paralyzed: bool) -> float:
    return settings.SLOW_TYPIST_TYPING_TIMEOUT_SECONDS if is_paralyzed else settings.TYPING_TIMEOUT_SECONDS


def typing_timeout_for(*, clerk_id: str) -> float:
    """How long the user's typing indicator lasts without a new start."""
    own = Preferences.objects.filter(user_id=clerk_id).values_list("typing_timeout_seconds", flat=True).first()
    if own is not None:
        return own
    paralyzed = User.objects.filter(clerk_id=clerk_id).values_list("is_paralyzed", flat=True).first()
    return typing_timeout_default(is_paralyzed=bool(paralyzed))


def phrases_list(*, clerk_id: str, category: str | None = None) -> list[Phrase]:
    phrases = Phrase.objects.filter(user_id=clerk_id)
    if category is not None:
        phrases = phrases.filter(category=category)
    return list(phrases)


def phrases_frequent(*, clerk_id: str, limit: int = 20) -> list[dict]:
    """The messages the user sent most (not removed), most frequent first."""
    texts = Message.objects.filter(sender_id=clerk_id, removed_at__isnull=True).order_by("-id")
    counts, shown = Counter(), {}
    for text in texts.values_list("content", flat=True)[:5000]:
        key = message_key(text)
        if key:
            counts[key] += 1
            shown.setdefault(key, text.strip())
    return [{"text": shown[key], "count": count} for key, count in counts.most_common(limit)]


def _language_of(clerk_id: str) -> dict:
    """The user's model, parsed once per version per process."""
    version = LanguageModel.objects.filter(user_id=clerk_id).values_list("version", flat=True).first()
    if version is None:
        return model_empty()
    with _cache_lock:
        cached = _cache.get(clerk_id)
        if cached is not None and cached[0] == version:
            _cache.move_to_end(clerk_id)
            return cached[1]
    row = LanguageModel.objects.filter(user_id=clerk_id).first()
    if row is None or not row.data:
        return model_empty()
    language = row.language()
    with _cache_lock:
        _cache[clerk_id] = (row.version, language)
        _cache.move_to_end(clerk_id)
        while len(_cache) > MODEL_CACHE_SIZE:
            _cache.popitem(last=False)
    return language


def _last_from(*, clerk_id: str, contact_id: str) -> str | None:
    return (
        Message.objects.filter(sender_id=contact_id, recipient_id=clerk_id, removed_at__isnull=True)
        .order_by("-id")
        .values_list("content", flat=True)
        .first()
    )


def suggestions_validate(text, to_clerk_id) -> tuple[str, str | None]:
    if not isinstance(text, str):
        raise ServiceError("text must be a string", code="invalid_payload", details={"field": "text"})
    if len(text) > settings.ASSIST_TEXT_MAX_LENGTH:
        raise ServiceError(
            f"text must be at most {settings.ASSIST_TEXT_MAX_LENGTH} characters",
            code="too_long",
            details={"field": "text", "maxLength": settings.ASSIST_TEXT_MAX_LENGTH},
        )
    if to_clerk_id is not None and not isinstance(to_clerk_id, str):
        raise ServiceError("toClerkId must be a user id", code="invalid_payload", details={"field": "toClerkId"})
    return text, to_clerk_id or None


def suggestions_get(*, clerk_id: str, text, to_clerk_id=None) -> dict:
    """`{words, replies}` for what the user has typed so far to `to_clerk_id`."""
    text, to_clerk_id = suggestions_validate(text, to_clerk_id)
    if to_clerk_id is not None and not User.objects.filter(clerk_id=to_clerk_id).exists():
        raise NotFoundError("Unknown contact: no user with that toClerkId", code="unknown_contact")
    preferences = preferences_get(clerk_id=clerk_id)
    if not preferences.suggestions_enabled:
        return {"words": [], "replies": []}
    limit = min(preferences.suggestion_count, MAX_WORDS)
    model, base = _language_of(clerk_id), base_model()
    incoming = _last_from(clerk_id=clerk_id, contact_id=to_clerk_id) if to_clerk_id else None
    key = (clerk_id, to_clerk_id)
    passed_over = _passed_over(key, text)
    words = words_rank(model, base, caret_of(text[-200:]), limit, passed_over, incoming)
    _remember_shown(key, text, words, passed_over)
    phrases = list(Phrase.objects.filter(user_id=clerk_id).values_list("text", flat=True)[:500]) if text.strip() else []
    replies = replies_rank(
        model, base, text=text, contact=to_clerk_id, incoming=None if text.strip() else incoming, phrases=phrases,
        limit=min(limit, MAX_REPLIES),
    )  # fmt: skip
    return {"words": words, "replies": replies}


def reply_options(*, clerk_id: str | None, message: str) -> list[str]:
    """Four replies to `message`: the base model's for an anonymous caller, else personal."""
    model = _language_of(clerk_id) if clerk_id else model_empty()
    return replies_rank(model, base_model(), text="", contact=None, incoming=message, phrases=[], limit=OPTIONS)
