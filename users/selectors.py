"""Reads of the users app."""

from django.db.models import Q

from users.models import User

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
    return list(
        User.objects.filter(matches, is_active=True)
        .exclude(clerk_id=exclude_clerk_id)
        .order_by("username", "clerk_id")[:limit]
    )


def user_connect_refusal(*, clerk_id: str) -> str | None:
    """Why this user may not open a socket, or None when they may.

    The Socket.IO namespace asks this on connect and on register_user. A user without a
    profile yet may connect (the app connects before onboarding); a suspended or deleted
    one may not.
    """
    user = User.objects.filter(clerk_id=clerk_id).only("is_active", "suspended_at").first()
    if user is None:
        return None
    if user.suspended_at is not None:
        return "This account is suspended and cannot connect"
    if not user.is_active:
        return "This account was deleted and cannot connect"
    return None
