from django.db import models


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

    class Meta:
        db_table = "users"
        ordering = ["clerk_id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["online", "offline"]), name="users_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username or self.clerk_id

    @property
    def can_chat(self) -> bool:
        return self.is_active and self.suspended_at is None
