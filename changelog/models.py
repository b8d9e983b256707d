"""Each user's durable log of what changed for them (GET /sync reads it).

An entry is numbered per user (`seq`, 1, 2, 3…): the numbers are taken from the user's
counter row, which the writing transaction holds until it commits, so a user's entries commit
in number order and a reader that has seen number n will never later find a smaller one
appear. That is what lets a client keep only the cursor of its last page.
"""

import orjson
from django.db import models

from users.models import User


class ChangeCounter(models.Model):
    user = models.OneToOneField(User, primary_key=True, on_delete=models.CASCADE, db_column="clerk_id")
    seq = models.BigIntegerField(default=0)

    class Meta:
        db_table = "change_counters"

    def __str__(self) -> str:
        return f"{self.user_id}: {self.seq}"


class Change(models.Model):
    id = models.BigAutoField(primary_key=True)
    # Unindexed alone: changes_user_seq leads with it.
    user = models.ForeignKey(User, on_delete=models.CASCADE, db_column="clerk_id", related_name="+", db_index=False)
    seq = models.BigIntegerField()
    # A Socket.IO event name (delivery.events) or `contact_changed`; `data` is that event's
    # payload as JSON text, or for a message only its id (the message is read at /sync time).
    # Text, not JSONField: some SQLite builds have no JSON1, and nothing queries inside it.
    kind = models.CharField(max_length=40)
    data = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        db_table = "changes"
        constraints = [models.UniqueConstraint(fields=["user", "seq"], name="changes_user_seq")]

    def __str__(self) -> str:
        return f"{self.user_id} #{self.seq} {self.kind}"

    @property
    def payload(self) -> dict:
        return orjson.loads(self.data)
