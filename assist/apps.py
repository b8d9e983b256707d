from django.apps import AppConfig


class AssistConfig(AppConfig):
    name = "assist"

    def ready(self):
        # Unlearning follows the chat and user services' signals (a lower app cannot call us).
        from assist import receivers  # noqa: F401
