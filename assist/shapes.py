"""The JSON shapes of phrases and preferences: REST bodies and realtime events alike."""

from assist.models import Phrase, Preferences
from kernel.timestamps import iso_z


def phrase_data(phrase: Phrase) -> dict:
    return {
        "id": phrase.pk,
        "text": phrase.text,
        "category": phrase.category,
        "position": phrase.position,
        "createdAt": iso_z(phrase.created_at),
        "updatedAt": iso_z(phrase.updated_at),
    }


def preferences_data(preferences: Preferences, *, typing_timeout_default: float) -> dict:
    return {
        "suggestionsEnabled": preferences.suggestions_enabled,
        "suggestionCount": preferences.suggestion_count,
        "learningEnabled": preferences.learning_enabled,
        "typingTimeoutSeconds": preferences.typing_timeout_seconds,
        "typingTimeoutDefaultSeconds": typing_timeout_default,
        "dwellTimeMs": preferences.dwell_time_ms,
    }
