from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Chat users"

    def ready(self):
        # Registers the identity system checks (users.W001 …). Here, not at the top: the checks
        # read users.identity, which needs the models, and apps.py loads before them.
        from users import checks  # noqa: F401
