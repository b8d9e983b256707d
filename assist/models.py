import orjson
from django.db import models


class LanguageModel(models.Model):
    """One user's learned words, next-word pairs, messages and replies (assist.language),
    bounded in size; `version` grows with every change so each process can cache it."""

    user = models.OneToOneField(
        "users.User", primary_key=True, on_delete=models.CASCADE, db_column="user_clerk_id", related_name="+"
    )
    # JSON text (assist.language's shape), parsed with orjson: no JSON support needed in the database.
    data = models.TextField(default="")
    version = models.PositiveBigIntegerField(default=0)
    messages_learned = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "assist_language_models"

    def __str__(self) -> str:
        return f"{self.user_id} v{self.version}"

    def language(self) -> dict:
        return orjson.loads(self.data) if self.data else {}

    def set_language(self, language: dict) -> None:
        self.data = orjson.dumps(language).decode()


class LearnCursor(models.Model):
    """The last message id every user model has learned (one row): learners in every process
    take it with a row lock, so each message is learned once."""

    last_message_id = models.BigIntegerField(default=0)

    class Meta:
        db_table = "assist_learn_cursor"

    def __str__(self) -> str:
        return f"through #{self.last_message_id}"


class Preferences(models.Model):
    user = models.OneToOneField(
        "users.User", primary_key=True, on_delete=models.CASCADE, db_column="user_clerk_id", related_name="+"
    )
    suggestions_enabled = models.BooleanField(default=True)
    suggestion_count = models.PositiveSmallIntegerField(default=4)
    learning_enabled = models.BooleanField(default=True)
    # Null: the server default (longer for users flagged isParalyzed).
    typing_timeout_seconds = models.FloatField(null=True, blank=True)
    dwell_time_ms = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "assist_preferences"
        verbose_name_plural = "preferences"

    def __str__(self) -> str:
        return str(self.user_id)


class Phrase(models.Model):
    """A favourite phrase on the user's phrase board."""

    user = models.ForeignKey("users.User", on_delete=models.CASCADE, db_column="user_clerk_id", related_name="+")
    text = models.CharField(max_length=500)
    category = models.CharField(max_length=60, blank=True, default="")
    position = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "assist_phrases"
        ordering = ["category", "position", "id"]
        indexes = [models.Index(fields=["user", "category", "position"], name="assist_phrases_board")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.user_id}"
