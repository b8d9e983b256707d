"""Fixtures of the report tests: a conversation with messages both ways."""

from __future__ import annotations

import pytest

from chat.services import message_send


@pytest.fixture
def talk(make_user):
    """(ann, bob, messages): ann and bob have a conversation of six messages, alternating, ann first."""
    ann, bob = make_user("ann"), make_user("bob")
    messages = []
    for i in range(6):
        sender, recipient = (ann, bob) if i % 2 == 0 else (bob, ann)
        messages.append(message_send(sender_id=sender.clerk_id, recipient_id=recipient.clerk_id, text=f"m{i}").message)
    return ann, bob, messages
