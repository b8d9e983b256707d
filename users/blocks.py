"""Blocking, the one service every transport calls: while A blocks B, B's messages and typing
never reach A, A looks offline to B and is missing from B's search, and B cannot add A as a
contact. B is told only what a deactivated account would tell them.

The rules themselves live where each effect is decided: the send and typing checks
(chat.services.storage.chat_states), presence (users.presence.online_ids and the watchers of
`user_status`), search (users.selectors.users_search) and contacts (contacts.services).
"""

from __future__ import annotations

import logging

from django.db import transaction

from delivery import emitter, events
from kernel.errors import ServiceError
from kernel.logging import log_event
from users.models import Block, User, valid_clerk_id
from users.presence import user_status_show_on_commit

logger = logging.getLogger(__name__)


def _lock_user(clerk_id: str) -> bool:
    """Take the user's row lock; False when they have no profile."""
    return bool(list(User.objects.select_for_update().filter(clerk_id=clerk_id).values_list("pk", flat=True)))


def user_block(*, blocker_id: str, blocked_id: str) -> Block:
    """Block a user; blocking again returns the same block (idempotent). 400 for yourself or an
    unknown user. Blocked now: an indicator of theirs showing at the blocker ends, and if they
    watch the blocker, they see the blocker go offline."""
    if blocked_id == blocker_id:
        raise ServiceError("You cannot block yourself", code="self")
    if not valid_clerk_id(blocked_id) or not User.objects.filter(clerk_id=blocked_id).exists():
        raise ServiceError("User not found", code="unknown_user")
    with transaction.atomic():
        # The blocker's row lock orders this against their other blocks and unblocks, which
        # keep `blocks_anyone` in step with their blocks.
        if not _lock_user(blocker_id):
            raise ServiceError("Create your profile first with POST /users", code="unknown_owner")
        block, created = Block.objects.get_or_create(blocker_id=blocker_id, blocked_id=blocked_id)
        if created:
            User.objects.filter(clerk_id=blocker_id, blocks_anyone=False).update(blocks_anyone=True)
            typing_ends = events.user_typing_payload(blocked_id, False)
            emitter.send_event_on_commit([(events.USER_TYPING, typing_ends, events.user_room(blocker_id), None)])
            user_status_show_on_commit(clerk_id=blocker_id, viewer_id=blocked_id)
    if created:
        log_event(logger, "user.blocked", blocker=blocker_id, blocked=blocked_id)
    return block


def user_unblock(*, blocker_id: str, blocked_id: str) -> bool:
    """Lift a block (idempotent); True if there was one. Only what happens from now on reaches
    the blocker: nothing refused while blocked is delivered later."""
    with transaction.atomic():
        _lock_user(blocker_id)
        removed, _ = Block.objects.filter(blocker_id=blocker_id, blocked_id=blocked_id).delete()
        if removed:
            still = Block.objects.filter(blocker_id=blocker_id).exists()
            User.objects.filter(clerk_id=blocker_id).update(blocks_anyone=still)
            user_status_show_on_commit(clerk_id=blocker_id, viewer_id=blocked_id)
    if removed:
        log_event(logger, "user.unblocked", blocker=blocker_id, blocked=blocked_id)
    return bool(removed)
