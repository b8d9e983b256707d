"""What the chat services announce to the apps above them, which chat itself cannot import.

`message_hidden`: a message's content is no longer shown (moderator removal, or a deletion);
`message_shown`: it is shown again (a restore). Sent inside the service's transaction, with
`message=` the Message row.
"""

from django.dispatch import Signal

message_hidden = Signal()
message_shown = Signal()
