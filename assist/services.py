"""Writes of the assist app: phrase boards, preferences and erasing; each change reaches the
user's other devices as an event after commit. Learning itself is in assist.learning."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Max

from assist.learning import assist_model_erase
from assist.models import Phrase, Preferences
from assist.selectors import typing_timeout_default
from assist.shapes import phrase_data, preferences_data
from delivery import emitter, events
from kernel.errors import NotFoundError, ServiceError
from kernel.logging import log_event
from users.models import User

logger = logging.getLogger(__name__)

MAX_PHRASES = 500
MAX_PHRASE_LENGTH = 500  # Phrase.text
PREFERENCE_FIELDS = {
    "suggestions_enabled",
    "suggestion_count",
    "learning_enabled",
    "typing_timeout_seconds",
    "dwell_time_ms",
}


def _user(clerk_id: str) -> User:
    user = User.objects.filter(clerk_id=clerk_id).first()
    if user is None:
        raise ServiceError("Create your profile first (POST /users)", code="no_profile")
    return user


def _phrase_event(clerk_id: str, action: str, body: dict, skip_sid: str | None) -> None:
    payload = events.phrases_changed_payload(action, body)
    emitter.send_event_on_commit([(events.PHRASES_CHANGED, payload, events.user_room(clerk_id), skip_sid)])


def phrase_create(*, clerk_id: str, text: str, category: str = "", position: int | None = None, skip_sid=None):
    _user(clerk_id)
    with transaction.atomic():
        phrases = Phrase.objects.select_for_update().filter(user_id=clerk_id)
        if phrases.count() >= MAX_PHRASES:
            raise ServiceError(f"A phrase board holds at most {MAX_PHRASES} phrases", code="too_many")
        if position is None:
            position = (phrases.filter(category=category).aggregate(last=Max("position"))["last"] or 0) + 1
        phrase = Phrase.objects.create(user_id=clerk_id, text=text, category=category, position=position)
        _phrase_event(clerk_id, "created", phrase_data(phrase), skip_sid)
    return phrase


def _own_phrase(clerk_id: str, phrase_id: int) -> Phrase:
    phrase = Phrase.objects.select_for_update().filter(pk=phrase_id, user_id=clerk_id).first()
    if phrase is None:
        raise NotFoundError("Phrase not found")
    return phrase


def phrase_update(*, clerk_id: str, phrase_id: int, skip_sid=None, **changes) -> Phrase:
    with transaction.atomic():
        phrase = _own_phrase(clerk_id, phrase_id)
        for name in ("text", "category", "position"):
            if name in changes:
                setattr(phrase, name, changes[name])
        phrase.save()
        _phrase_event(clerk_id, "updated", phrase_data(phrase), skip_sid)
    return phrase


def phrase_delete(*, clerk_id: str, phrase_id: int, skip_sid=None) -> None:
    with transaction.atomic():
        phrase = _own_phrase(clerk_id, phrase_id)
        body = phrase_data(phrase)
        phrase.delete()
        _phrase_event(clerk_id, "deleted", body, skip_sid)


def preferences_update(*, clerk_id: str, **changes) -> Preferences:
    user = _user(clerk_id)
    unknown = set(changes) - PREFERENCE_FIELDS
    if unknown:
        raise ServiceError(f"Unknown preferences: {', '.join(sorted(unknown))}", code="invalid")
    with transaction.atomic():
        preferences, _ = Preferences.objects.select_for_update().get_or_create(user_id=clerk_id)
        for name, value in changes.items():
            setattr(preferences, name, value)
        preferences.save()
        body = preferences_data(
            preferences, typing_timeout_default=typing_timeout_default(is_paralyzed=user.is_paralyzed)
        )
        payload = events.preferences_updated_payload(body)
        emitter.send_event_on_commit([(events.PREFERENCES_UPDATED, payload, events.user_room(clerk_id), None)])
    return preferences


def assist_user_erase(*, clerk_id: str) -> None:
    """Account deleted: the learned model, the phrase board and the preferences go."""
    with transaction.atomic():
        assist_model_erase(clerk_id=clerk_id)
        Phrase.objects.filter(user_id=clerk_id).delete()
        Preferences.objects.filter(user_id=clerk_id).delete()
    log_event(logger, "assist.user_erased", user=clerk_id)
