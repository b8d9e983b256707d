from django.db import models
from django.db.models import F, Q


class Contact(models.Model):
    """One row of a user's contact list (the seed's `contacts` junction table).

    The last-message preview, time and unread count are kept here, denormalised, so the
    contact list is one indexed read; `chat.services.message_send` maintains them.
    """

    # Unindexed alone: the unique constraint and contacts_owner_recent lead with it.
    owner = models.ForeignKey(
        "users.User", on_delete=models.CASCADE, db_column="user_clerk_id", related_name="contacts", db_index=False
    )
    contact = models.ForeignKey("users.User", on_delete=models.CASCADE, db_column="contact_clerk_id", related_name="+")
    nickname = models.CharField(max_length=255, null=True, blank=True)
    last_message_preview = models.CharField(max_length=255, null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    unread_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "contacts"
        constraints = [
            models.UniqueConstraint(fields=["owner", "contact"], name="contacts_owner_contact_unique"),
            models.CheckConstraint(condition=~Q(owner=F("contact")), name="contacts_not_self"),
        ]
        indexes = [
            # A user's contact list, newest conversation first.
            models.Index(fields=["owner", "-last_message_at"], name="contacts_owner_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.owner_id} → {self.contact_id}"
