import logging

from django.apps import AppConfig

logger = logging.getLogger("users.identity")


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Chat users"

    def ready(self):
        from users import checks

        # Daphne runs no system checks: say it in the server's log too.
        if checks.dev_mode_unsafe():
            logger.warning(checks.DEV_MODE_WARNING)
