"""Indexes no query needs, dropped: each send writes fewer index entries.

A ForeignKey's own index is redundant where a composite index leads with the same column, and
PostgreSQL's varchar_pattern_ops twins serve only LIKE 'prefix%', which nothing asks of these
columns. The foreign keys' state changes without Django rebuilding the table (kernel.indexes).
"""

import django.db.models.deletion
from django.db import migrations, models

from kernel.indexes import ColumnIndex, foreign_key_unindexed, indexes_dropped

CASCADE = django.db.models.deletion.CASCADE


class Migration(migrations.Migration):
    dependencies = [("chat", "0003_message_search"), ("users", "0004_blocks")]

    operations = [
        foreign_key_unindexed(
            "conversation", "user1",
            models.ForeignKey(db_column="user1_clerk_id", db_index=False, on_delete=CASCADE, related_name="+", to="users.user"),
            ColumnIndex("conversations_user1_clerk_id_1aef5a4a", "conversations", "user1_clerk_id"),
            ColumnIndex("conversations_user1_clerk_id_1aef5a4a_like", "conversations", "user1_clerk_id", True),
        ),
        foreign_key_unindexed(
            "conversation", "user2",
            models.ForeignKey(db_column="user2_clerk_id", db_index=False, on_delete=CASCADE, related_name="+", to="users.user"),
            ColumnIndex("conversations_user2_clerk_id_4130fc6a", "conversations", "user2_clerk_id"),
            ColumnIndex("conversations_user2_clerk_id_4130fc6a_like", "conversations", "user2_clerk_id", True),
        ),
        foreign_key_unindexed(
            "message", "conversation",
            models.ForeignKey(db_index=False, on_delete=CASCADE, related_name="messages", to="chat.conversation"),
            ColumnIndex("messages_conversation_id_5ef638db", "messages", "conversation_id"),
        ),
        # The senders' and recipients' own indexes stay (user deletion, the foreign keys' checks).
        indexes_dropped(
            ColumnIndex("messages_from_clerk_id_1a6a5784_like", "messages", "from_clerk_id", True),
            ColumnIndex("messages_to_clerk_id_26ed7805_like", "messages", "to_clerk_id", True),
        ),
    ]  # fmt: skip
