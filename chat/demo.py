"""Demo data for trying the frontend at once, written through the same services as the API.

Idempotent: fixed Clerk ids, contacts skipped when present, and each message sent with a
fixed clientMessageId, which message_send treats as a retry the second time.
"""

from __future__ import annotations

from collections.abc import Callable

from chat.services import message_send, messages_mark_read
from contacts.models import Contact
from contacts.services import contact_add
from kernel.errors import ServiceError
from users.models import User
from users.services import user_create

DEMO_USERS = [
    # clerk_id, username, full name, isParalyzed
    ("user_demo_ana", "ana", "Ana Eyetrack", True),
    ("user_demo_ben", "ben", "Ben Carer", False),
    ("user_demo_chloe", "chloe", "Chloe Therapist", False),
    ("user_demo_dev", "dev", "Dev Blink", True),
    ("user_demo_eli", "eli", "Eli Family", False),
]

DEMO_CONVERSATIONS = [
    (
        "user_demo_ana",
        "user_demo_ben",
        ["Good morning!", "Morning Ana, did you sleep well?", "Yes, thank you", "Lunch at one?"],
    ),
    ("user_demo_chloe", "user_demo_ana", ["Ready for today's session?", "Ready", "Great, see you at ten"]),
    ("user_demo_dev", "user_demo_eli", ["Hi", "Hi Dev! How are you?", "Good. Tired.", "Rest well, I'll call later"]),
    ("user_demo_ben", "user_demo_dev", ["Dev, your new tablet arrives tomorrow", "Thanks!"]),
]


def _ensure_user(clerk_id: str, **fields) -> bool:
    if User.objects.filter(clerk_id=clerk_id).exists():
        return False
    user_create(clerk_id=clerk_id, **fields)
    return True


def _ensure_contact(owner_id: str, contact_id: str) -> bool:
    if Contact.objects.filter(owner_id=owner_id, contact_id=contact_id).exists():
        return False
    try:
        contact_add(owner_id=owner_id, contact_clerk_id=contact_id)
    except ServiceError as exc:
        if exc.code != "exists":
            raise
        return False
    return True


def _conversation(first: str, second: str, lines: list[str], key: str) -> tuple[int, int]:
    """Send the lines alternately; all but the last one read. Returns (created, kept)."""
    created = kept = 0
    speakers = [first, second]
    for index, text in enumerate(lines):
        sender, recipient = speakers[index % 2], speakers[(index + 1) % 2]
        result = message_send(
            sender_id=sender, recipient_id=recipient, text=text, client_message_id=f"demo-{key}-{index}"
        )
        created, kept = created + result.created, kept + (not result.created)
        if result.created and index < len(lines) - 1:
            messages_mark_read(reader_id=recipient, message_ids=[result.message.id])
    return created, kept


def demo_seed(*, for_clerk_id: str | None = None, progress: Callable[[str], None] = lambda line: None) -> dict:
    totals = {"users": 0, "contacts": 0, "messages": 0, "messages_existing": 0}
    for clerk_id, username, full_name, paralyzed in DEMO_USERS:
        made = _ensure_user(
            clerk_id,
            username=username,
            full_name=full_name,
            is_paralyzed=paralyzed,
            email=f"{username}@demo.biosync.invalid",
        )
        totals["users"] += made
        progress(f"user {clerk_id} ({'isParalyzed' if paralyzed else 'standard'}): {'created' if made else 'exists'}")

    conversations = list(DEMO_CONVERSATIONS)
    if for_clerk_id:
        made = _ensure_user(for_clerk_id)
        progress(f"user {for_clerk_id}: {'created' if made else 'exists'}")
        totals["users"] += made
        conversations += [
            ("user_demo_ana", for_clerk_id, ["Hello! I type with my eyes, so I am slow", "Welcome to BioSync"]),
            ("user_demo_ben", for_clerk_id, ["Hi, I'm Ben. Say hello any time!"]),
        ]

    for first, second, lines in conversations:
        pair_made = _ensure_contact(first, second) + _ensure_contact(second, first)
        totals["contacts"] += pair_made
        created, kept = _conversation(first, second, lines, key=f"{first}-{second}")
        totals["messages"] += created
        totals["messages_existing"] += kept
        progress(
            f"conversation {first} ↔ {second}: {pair_made} contact(s) added, {created} message(s) sent, {kept} already there"
        )
    return totals
