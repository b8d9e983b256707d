"""Unlearning and erasing, wired to what the lower apps announce (chat.signals, users.signals)."""

from django.dispatch import receiver

from assist.learning import assist_message_relearn, assist_message_unlearn
from assist.services import assist_user_erase
from chat.signals import message_hidden, message_shown
from users.signals import user_deactivated


@receiver(message_hidden, dispatch_uid="assist.unlearn")
def _unlearn(sender, message, **kwargs):
    assist_message_unlearn(message=message)


@receiver(message_shown, dispatch_uid="assist.relearn")
def _relearn(sender, message, **kwargs):
    assist_message_relearn(message=message)


@receiver(user_deactivated, dispatch_uid="assist.erase")
def _erase(sender, clerk_id, **kwargs):
    assist_user_erase(clerk_id=clerk_id)
