from django.conf import settings
from rest_framework import serializers

from assist.services import MAX_PHRASE_LENGTH
from kernel.api import IsoDateTimeField, StrictBooleanField, StrictCharField

CATEGORY_MAX = 60


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, not a string or a boolean turned into one."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class SuggestionsQuerySerializer(serializers.Serializer):
    text = StrictCharField(
        required=False, allow_blank=True, trim_whitespace=False, default="",
        max_length=settings.ASSIST_TEXT_MAX_LENGTH, help_text="What is typed so far (a trailing space matters).",
    )  # fmt: skip
    to = StrictCharField(
        required=False, allow_blank=True, max_length=255, help_text="The contact's Clerk id (empty: none)."
    )


class SuggestionsSerializer(serializers.Serializer):
    words = serializers.ListField(child=serializers.CharField(), max_length=4)
    replies = serializers.ListField(child=serializers.CharField(), max_length=3)


class OptionsRequestSerializer(serializers.Serializer):
    message = StrictCharField(max_length=settings.MESSAGE_MAX_LENGTH, help_text="The message to answer.")


class OptionsSerializer(serializers.Serializer):
    options = serializers.ListField(child=serializers.CharField(), min_length=4, max_length=4)
    recent_history = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))


class PhraseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    category = serializers.CharField()
    position = serializers.IntegerField()
    createdAt = IsoDateTimeField()
    updatedAt = IsoDateTimeField()


class FrequentPhraseSerializer(serializers.Serializer):
    text = serializers.CharField()
    count = serializers.IntegerField()


class PhrasesQuerySerializer(serializers.Serializer):
    source = serializers.ChoiceField(
        choices=["board", "frequent"], required=False, default="board",
        help_text="`board`: your phrases; `frequent`: the messages you send most.",
    )  # fmt: skip
    category = StrictCharField(required=False, allow_blank=True, max_length=CATEGORY_MAX)


class PhrasesSerializer(serializers.Serializer):
    phrases = serializers.ListField(child=serializers.DictField(), help_text="Phrase, or {text, count} for frequent.")


class PhraseUpdateSerializer(serializers.Serializer):
    text = StrictCharField(max_length=MAX_PHRASE_LENGTH, required=False)
    category = StrictCharField(allow_blank=True, max_length=CATEGORY_MAX, required=False)
    position = StrictIntegerField(min_value=-1_000_000, max_value=1_000_000, required=False)

    def validate_text(self, value):
        if not value.strip():
            raise serializers.ValidationError("Must not be blank.")
        return value


class PhraseCreateSerializer(PhraseUpdateSerializer):
    text = StrictCharField(max_length=MAX_PHRASE_LENGTH)


class PreferencesSerializer(serializers.Serializer):
    suggestionsEnabled = serializers.BooleanField()
    suggestionCount = serializers.IntegerField()
    learningEnabled = serializers.BooleanField()
    typingTimeoutSeconds = serializers.FloatField(allow_null=True)
    typingTimeoutDefaultSeconds = serializers.FloatField()
    dwellTimeMs = serializers.IntegerField(allow_null=True)


class PreferencesUpdateSerializer(serializers.Serializer):
    suggestionsEnabled = StrictBooleanField(required=False, source="suggestions_enabled")
    suggestionCount = StrictIntegerField(min_value=1, max_value=4, required=False, source="suggestion_count")
    learningEnabled = StrictBooleanField(required=False, source="learning_enabled")
    typingTimeoutSeconds = StrictFloatField(
        min_value=1, max_value=120, allow_null=True, required=False, source="typing_timeout_seconds",
        help_text="How long your typing indicator stays without a keystroke; null: the server default.",
    )  # fmt: skip
    dwellTimeMs = StrictIntegerField(
        min_value=100, max_value=10_000, allow_null=True, required=False, source="dwell_time_ms",
        help_text="For the client: how long a gaze selects.",
    )  # fmt: skip
