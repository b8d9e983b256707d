"""What the user services announce to the apps above them.

`user_deactivated`: the account was deleted (Clerk); sent inside the service's transaction
with `clerk_id=`, so data kept about the user elsewhere is erased with it.
"""

from django.dispatch import Signal

user_deactivated = Signal()
