"""Indexes no query needs, dropped (as chat 0004): every send updates two contact rows, and an
update that moves `last_message_at` writes an entry in every index of the table."""

import django.db.models.deletion
from django.db import migrations, models

from kernel.indexes import ColumnIndex, foreign_key_unindexed, indexes_dropped


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial"), ("users", "0004_blocks")]

    operations = [
        foreign_key_unindexed(
            "contact", "owner",
            models.ForeignKey(db_column="user_clerk_id", db_index=False, on_delete=django.db.models.deletion.CASCADE,
                              related_name="contacts", to="users.user"),
            ColumnIndex("contacts_user_clerk_id_ae04649a", "contacts", "user_clerk_id"),
            ColumnIndex("contacts_user_clerk_id_ae04649a_like", "contacts", "user_clerk_id", True),
        ),
        indexes_dropped(ColumnIndex("contacts_contact_clerk_id_7cf8207e_like", "contacts", "contact_clerk_id", True)),
    ]  # fmt: skip
