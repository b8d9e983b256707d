"""Indexes no query needs, dropped (as chat 0004): a send writes two change rows."""

import django.db.models.deletion
from django.db import migrations, models

from kernel.indexes import ColumnIndex, foreign_key_unindexed


class Migration(migrations.Migration):
    dependencies = [("changelog", "0001_initial"), ("users", "0004_blocks")]

    operations = [
        foreign_key_unindexed(
            "change", "user",
            models.ForeignKey(db_column="clerk_id", db_index=False, on_delete=django.db.models.deletion.CASCADE,
                              related_name="+", to="users.user"),
            ColumnIndex("changes_clerk_id_86cbb441", "changes", "clerk_id"),
            ColumnIndex("changes_clerk_id_86cbb441_like", "changes", "clerk_id", True),
        ),
    ]  # fmt: skip
