"""Reads of the assist app: preferences and phrase boards (suggestions: assist.suggestions)."""

from __future__ import annotations

from collections import Counter

from django.conf import settings

from assist.models import Phrase, Preferences
from assist.text import message_key
from chat.models import Message
from users.models import User


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
