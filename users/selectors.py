"""Reads of the users app."""

from django.db.models import Exists, OuterRef, Q

from users.models import Block, User

SEARCH_LIMIT = 10
# The shortest query that also matches the start of a Clerk id (shorter ones match ids exactly).
CLERK_ID_PREFIX_MIN = 5


def user_get(*, clerk_id: str) -> User | None:
    return User.objects.filter(clerk_id=clerk_id).first()


def users_search(*, query: str, exclude_clerk_id: str, limit: int = SEARCH_LIMIT) -> list[User]:
    query = query.strip()
    if not query:
        return []
    matches = (
        Q(username__icontains=query) | Q(full_name__icontains=query) | Q(email__icontains=query) | Q(clerk_id=query)
    )
    if len(query) >= CLERK_ID_PREFIX_MIN:
        # The unchanged onboarding sends no name, and dev mode has no webhook or token claims to
        # fill one: without this, such users could never find each other.
        matches |= Q(clerk_id__startswith=query)
    # A user who blocks the searcher is not found by them.
    blocks_searcher = Exists(Block.objects.filter(blocker_id=OuterRef("pk"), blocked_id=exclude_clerk_id))
    return list(
        User.objects.filter(matches, is_active=True)
        .exclude(clerk_id=exclude_clerk_id)
        .exclude(blocks_searcher)
        .order_by("username", "clerk_id")[:limit]
    )


def user_connect_refusal(*, clerk_id: str) -> str | None:
    """Why this user may not open a socket, or None when they may.

    The Socket.IO namespace asks this on connect and on register_user. A user without a
    profile yet may connect (the app connects before onboarding); a suspended or deleted
    one may not.
    """
    return user_connect_refusals(clerk_ids=[clerk_id]).get(clerk_id)


def user_connect_refusals(*, clerk_ids) -> dict[str, str]:
    """`user_connect_refusal` for several users in one query: only those refused, with why."""
    rows = User.objects.filter(clerk_id__in=list(clerk_ids)).filter(Q(suspended_at__isnull=False) | Q(is_active=False))
    return {
        clerk_id: "This account is suspended and cannot connect"
        if suspended_at is not None
        else "This account was deleted and cannot connect"
        for clerk_id, suspended_at in rows.values_list("clerk_id", "suspended_at")
    }


# --- blocks ---------------------------------------------------------------------------------------
def blockers_among(*, blocked_id: str, clerk_ids) -> set[str]:
    """Which of these users block `blocked_id` (one indexed query; none for no ids)."""
    clerk_ids = list(clerk_ids)
    if not clerk_ids:
        return set()
    rows = Block.objects.filter(blocked_id=blocked_id, blocker_id__in=clerk_ids)
    return set(rows.values_list("blocker_id", flat=True))


def block_exists(*, blocker_id: str, blocked_id: str) -> bool:
    return Block.objects.filter(blocker_id=blocker_id, blocked_id=blocked_id).exists()


def blocks_list(*, blocker_id: str) -> list[Block]:
    """The users the caller blocks, most recent first, with their profiles."""
    return list(Block.objects.filter(blocker_id=blocker_id).select_related("blocked"))
