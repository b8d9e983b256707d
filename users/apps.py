from django.apps import AppConfig

from users import checks  # noqa: F401  registers the identity system checks (users.W001 …)


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Chat users"
