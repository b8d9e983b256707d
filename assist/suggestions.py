"""Suggestions for what a user is typing: read in one query (preferences, model version, the
contact's last message, whether the phrase board changed), ranked in memory from the user's
model (parsed once per version per process) and the base model."""

from __future__ import annotations

import threading
from collections import OrderedDict

from django.conf import settings

from assist.base import base_model
from assist.language import model_empty, replies_rank, words_rank
from assist.models import LanguageModel, Phrase
from assist.text import caret_of
from kernel.errors import NotFoundError, ServiceError
from kernel.queries import fetch_prepared
from users.models import User

MAX_WORDS = 4
MAX_REPLIES = 3
OPTIONS = 4  # POST /chat/options, as the frontend reads it
CACHE_SIZE = 2000  # users whose phrases and last suggestions each process keeps

_lock = threading.Lock()
_models: OrderedDict[str, tuple[int, dict]] = OrderedDict()  # parsed models, most recently used last
_model_bytes: dict[str, int] = {}  # their JSON sizes: the cache holds ASSIST_MODEL_CACHE_MB of JSON
_phrases: OrderedDict[str, tuple[tuple, list[str]]] = OrderedDict()
# Per (user, contact): the last text and the words shown for it, and the words passed over since.
_shown: OrderedDict[tuple[str, str | None], tuple[str, frozenset]] = OrderedDict()


def _remember(cache: OrderedDict, key, value) -> None:
    with _lock:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)


def _cached(cache: OrderedDict, key, stamp):
    with _lock:
        entry = cache.get(key)
        return entry[1] if entry is not None and entry[0] == stamp else None


# Everything one suggestion reads, in one statement (built once: the ORM's query building
# cost more than the query). %(to)s may be NULL: then no contact and no incoming message.
STATE_SQL = """
SELECT
  (SELECT version FROM assist_language_models WHERE user_clerk_id = u.clerk_id),
  (SELECT suggestions_enabled FROM assist_preferences WHERE user_clerk_id = u.clerk_id),
  (SELECT suggestion_count FROM assist_preferences WHERE user_clerk_id = u.clerk_id),
  (SELECT COUNT(*) FROM assist_phrases WHERE user_clerk_id = u.clerk_id),
  (SELECT MAX(updated_at) FROM assist_phrases WHERE user_clerk_id = u.clerk_id),
  (SELECT COUNT(*) FROM users WHERE clerk_id = %(to)s),
  (SELECT m.content FROM messages m JOIN conversations c ON c.id = m.conversation_id
     WHERE c.user1_clerk_id = %(first)s AND c.user2_clerk_id = %(second)s
       AND m.from_clerk_id = %(to)s AND m.removed_at IS NULL
     ORDER BY m.id DESC LIMIT 1)
FROM users u WHERE u.clerk_id = %(me)s
"""
STATE_FIELDS = ("version", "enabled", "count", "phrase_count", "phrase_changed", "contact_exists", "incoming")


def _state(clerk_id: str, to_clerk_id: str | None) -> dict | None:
    """What one suggestion reads; None when the caller has no profile."""
    first, second = sorted([clerk_id, to_clerk_id or ""])
    params = {"me": clerk_id, "to": to_clerk_id, "first": first, "second": second}
    rows = fetch_prepared(STATE_SQL, params)
    if not rows:
        return None
    row = rows[0]
    state = dict(zip(STATE_FIELDS, row, strict=True))
    state["enabled"] = None if state["enabled"] is None else bool(state["enabled"])
    state["contact_exists"] = bool(state["contact_exists"])
    return state


def _language(clerk_id: str, version: int | None) -> dict:
    if version is None:
        return model_empty()
    language = _cached(_models, clerk_id, version)
    if language is None:
        row = LanguageModel.objects.filter(user_id=clerk_id).first()
        language = (row.language() if row else None) or model_empty()
        budget = settings.ASSIST_MODEL_CACHE_MB * 1_000_000
        with _lock:
            _models[clerk_id] = (row.version if row else version, language)
            _models.move_to_end(clerk_id)
            _model_bytes[clerk_id] = len(row.data) if row else 0
            total = sum(_model_bytes.values())  # a few hundred entries: cheaper than keeping a tally right
            while len(_models) > 1 and total > budget:
                oldest, _ = _models.popitem(last=False)
                total -= _model_bytes.pop(oldest, 0)
    return language


def _phrase_texts(clerk_id: str, state: dict) -> list[str]:
    stamp = (state["phrase_count"], state["phrase_changed"])
    texts = _cached(_phrases, clerk_id, stamp)
    if texts is None:
        texts = list(Phrase.objects.filter(user_id=clerk_id).values_list("text", flat=True)[:500])
        _remember(_phrases, clerk_id, (stamp, texts))
    return texts


def _passed_over(key: tuple[str, str | None], text: str) -> frozenset:
    """Words shown a selection ago for the same word that the user typed past (one more letter)."""
    with _lock:
        previous = _shown.get(key)
    if previous is None or len(text) != len(previous[0]) + 1 or not text.startswith(previous[0]):
        return frozenset()
    return previous[1] if caret_of(text).prefix else frozenset()


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
    state = _state(clerk_id, to_clerk_id)
    if state is None:  # no profile yet: nothing learned, default preferences
        state = {"version": None, "enabled": None, "count": None, "phrase_count": 0, "phrase_changed": None}
        if to_clerk_id is not None:
            state["contact_exists"] = User.objects.filter(clerk_id=to_clerk_id).exists()
            state["incoming"] = None
    if to_clerk_id is not None and not state["contact_exists"]:
        raise NotFoundError("Unknown contact: no user with that toClerkId", code="unknown_contact")
    if state["enabled"] is False:
        return {"words": [], "replies": []}
    limit = min(state["count"] or MAX_WORDS, MAX_WORDS)
    model, base = _language(clerk_id, state["version"]), base_model()
    incoming = state.get("incoming")
    key = (clerk_id, to_clerk_id)
    passed_over = _passed_over(key, text)
    words = words_rank(model, base, caret_of(text[-200:]), limit, passed_over, incoming)
    _remember(_shown, key, (text, passed_over | {w.lower() for w in words}))
    typing = bool(text.strip())
    replies = replies_rank(
        model, base, text=text, contact=to_clerk_id, incoming=None if typing else incoming,
        phrases=_phrase_texts(clerk_id, state) if typing else [], limit=min(limit, MAX_REPLIES),
    )  # fmt: skip
    return {"words": words, "replies": replies}


def reply_options(*, clerk_id: str | None, message: str) -> list[str]:
    """Four replies to `message`: the base model's for an anonymous caller, else personal."""
    model = model_empty()
    if clerk_id:
        version = LanguageModel.objects.filter(user_id=clerk_id).values_list("version", flat=True).first()
        model = _language(clerk_id, version)
    return replies_rank(model, base_model(), text="", contact=None, incoming=message, phrases=[], limit=OPTIONS)
