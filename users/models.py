import re

from django.db import models

# What a Clerk user id may look like: the one rule every transport and service checks ids with.
CLERK_ID_PATTERN = re.compile(r"^[A-Za-z0-9_\-.:|@]{1,255}$")


def valid_clerk_id(value) -> bool:
    return isinstance(value, str) and bool(CLERK_ID_PATTERN.match(value))


class UserStatus(models.TextChoices):
    ONLINE = "online"
    OFFLINE = "offline"


class User(models.Model):
    """A BioSync user, keyed by the Clerk user id (the seed's `users` table).

    Not Django's auth user: staff who sign in to the admin are `auth.User` rows.
    """

    clerk_id = models.CharField(primary_key=True, max_length=255)
    is_paralyzed = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=UserStatus.choices, default=UserStatus.OFFLINE)
    created_at = models.DateTimeField(auto_now_add=True)

    username = models.CharField(max_length=255, blank=True, default="")
    full_name = models.CharField(max_length=255, blank=True, default="")
    email = models.EmailField(max_length=320, blank=True, default="")
    image_url = models.URLField(max_length=2048, blank=True, default="")
    last_seen_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # False once Clerk reports the user deleted: hidden from search, cannot be messaged.
    is_active = models.BooleanField(default=True)
    # Set by a moderator: cannot connect or send, cannot be messaged.
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.CharField(max_length=500, blank=True, default="")
    # Clerk's `updated_at` (ms) of the last webhook applied: an older one arriving late is ignored.
    clerk_updated_at = models.BigIntegerField(null=True, blank=True)
    # True while the user blocks someone (users.blocks keeps it; a blocked user's deletion may
    # leave it set, which costs a query, nothing more): a send reads the blocks of a batch only
    # when one of its recipients has any, so blocks cost everyone else's sends nothing.
    blocks_anyone = models.BooleanField(default=False)

    class Meta:
        db_table = "users"
        ordering = ["clerk_id"]
        # Not "users": the admin's sidebar also lists Django's own (admin accounts).
        verbose_name = "BioSync user"
        verbose_name_plural = "BioSync users"
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=["online", "offline"]), name="users_status_valid"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username or self.clerk_id

    @property
    def display_name(self) -> str | None:
        """The name other people see, as the old server showed it: username, else the name."""
        return self.username or self.full_name or None

    @property
    def can_chat(self) -> bool:
        return self.is_active and self.suspended_at is None


class PendingProfile(models.Model):
    """Clerk's profile of a user who has not created a BioSync profile yet.

    A `user.created` webhook arrives before the user's first `POST /users`. Creating the user
    then would skip the onboarding (`GET /users/me` answers null until the user chooses
    `isParalyzed`), so the profile waits here and `user_create` takes it.
    """

    clerk_id = models.CharField(primary_key=True, max_length=255)
    username = models.CharField(max_length=255, blank=True, default="")
    full_name = models.CharField(max_length=255, blank=True, default="")
    email = models.EmailField(max_length=320, blank=True, default="")
    image_url = models.URLField(max_length=2048, blank=True, default="")
    clerk_updated_at = models.BigIntegerField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "users_pending_profiles"

    def __str__(self):
        return self.clerk_id


class WebhookDelivery(models.Model):
    """A Clerk (Svix) webhook applied, by its `svix-id`: the same delivery twice is a replay."""

    svix_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "users_webhook_deliveries"
        verbose_name_plural = "webhook deliveries"

    def __str__(self):
        return f"{self.event_type} {self.svix_id}"


class Block(models.Model):
    """`blocker` blocks `blocked`: the blocked user's messages and typing never reach the blocker,
    who looks offline to them and is not found by their search. One way: the blocker still
    reaches the blocked user."""

    blocker = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocks_made")
    blocked = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocked_by")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "user_blocks"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="user_blocks_pair_unique"),
            models.CheckConstraint(condition=~models.Q(blocker=models.F("blocked")), name="user_blocks_not_self"),
        ]
        indexes = [
            # "Who blocks this user": presence, search and the send path ask it from the blocked side.
            models.Index(fields=["blocked", "blocker"], name="user_blocks_blocked"),
        ]

    def __str__(self) -> str:
        return f"{self.blocker_id} blocks {self.blocked_id}"
