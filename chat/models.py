from django.db import models
from django.db.models import F, Q


class Conversation(models.Model):
    """One per unordered pair of users.

    The pair is stored ordered (`user1 < user2`), so a unique constraint on (user1, user2)
    makes the database refuse a second conversation for the same two people, whoever wrote
    first and however two first messages race.
    """

    # Unindexed alone: the pair's unique constraint leads with user1, conversations_user2 with user2.
    user1 = models.ForeignKey(
        "users.User", on_delete=models.CASCADE, db_column="user1_clerk_id", related_name="+", db_index=False
    )
    user2 = models.ForeignKey(
        "users.User", on_delete=models.CASCADE, db_column="user2_clerk_id", related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "conversations"
        constraints = [
            models.UniqueConstraint(fields=["user1", "user2"], name="conversations_pair_unique"),
            models.CheckConstraint(condition=Q(user1__lt=F("user2")), name="conversations_pair_ordered"),
        ]
        indexes = [models.Index(fields=["user2", "user1"], name="conversations_user2")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.user1_id} ↔ {self.user2_id}"

    def other_user_id(self, clerk_id: str) -> str:
        return self.user2_id if self.user1_id == clerk_id else self.user1_id

    def has_participant(self, clerk_id: str) -> bool:
        return clerk_id in (self.user1_id, self.user2_id)


class MessageType(models.TextChoices):
    TEXT = "text"


class Message(models.Model):
    # Unindexed alone: messages_conversation_id leads with it.
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False)
    sender = models.ForeignKey("users.User", on_delete=models.CASCADE, db_column="from_clerk_id", related_name="+")
    recipient = models.ForeignKey("users.User", on_delete=models.CASCADE, db_column="to_clerk_id", related_name="+")
    content = models.TextField()
    message_type = models.CharField(max_length=32, choices=MessageType.choices, default=MessageType.TEXT)
    is_read = models.BooleanField(default=False)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # The sender's own id for this message: a retried send with the same id is the same message.
    client_message_id = models.CharField(max_length=100, null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Set by a moderator: the content is hidden from both participants.
    removed_at = models.DateTimeField(null=True, blank=True)
    # Set by the sender's last edit; earlier versions are MessageEdit rows.
    edited_at = models.DateTimeField(null=True, blank=True)
    # Set when the sender deleted it for everyone: hidden like a removal, kept for moderators.
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "messages"
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "client_message_id"],
                condition=Q(client_message_id__isnull=False),
                name="messages_sender_client_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "id"], name="messages_conversation_id"),
            models.Index(fields=["recipient", "conversation"], condition=Q(is_read=False), name="messages_unread"),
            models.Index(fields=["recipient"], condition=Q(delivered_at__isnull=True), name="messages_undelivered"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.sender_id} → {self.recipient_id}"


class MessageEdit(models.Model):
    """An earlier version of an edited message, for moderators only (the admin); users never see it."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="edits")
    content = models.TextField()
    # When this version was written: the message's sending, or the edit before this one.
    written_at = models.DateTimeField()
    # When the sender replaced it.
    replaced_at = models.DateTimeField()

    class Meta:
        db_table = "message_edits"
        ordering = ["message", "id"]

    def __str__(self) -> str:
        return f"message #{self.message_id}, version of {self.written_at:%Y-%m-%d %H:%M:%S}"
