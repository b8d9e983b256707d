"""Reading a conversation while a message to the reader is being sent: the contact's unread
count stays equal to the unread messages, whichever statement the send lands between.

PostgreSQL only: SQLite takes its write lock at BEGIN (IMMEDIATE), so there a send cannot land
inside another write transaction at all.
"""

import pytest
from django.utils import timezone

from chat.models import Message
from chat.services import conversation_mark_read
from chat.services.messages import SendRequest, messages_send_many
from contacts.models import Contact
from tests.interleave import Elsewhere, run_before

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def _send(sender, recipient, text):
    request = SendRequest(
        sender_id=sender.clerk_id, recipient_id=recipient.clerk_id, text=text, received_at=timezone.now()
    )
    [outcome] = messages_send_many(sends=[request])
    return outcome.message


@pytest.mark.parametrize(
    "landing_before",
    [
        r'"contacts"',  # the first statement after the messages were marked read
        r'UPDATE\s+"contacts"\s+SET',  # the statement that writes the count
    ],
    ids=["after-marking", "before-count"],
)
def test_a_send_landing_inside_conversation_mark_read_keeps_its_unread(make_user, landing_before):
    reader, sender = make_user("reader"), make_user("sender")
    first = _send(sender, reader, "before the read")
    late = []

    def send_meanwhile():
        late.append(Elsewhere(lambda: _send(sender, reader, "during the read")))
        # Either it commits here, or it waits for the read's locks: both must end counted.
        assert late[0].settled() in ("done", "blocked")

    with run_before(landing_before, send_meanwhile):
        read, _ = conversation_mark_read(reader_id=reader.clerk_id, conversation_id=first.conversation_id)
    during = late[0].result()

    assert read == [first.id]
    unread = list(Message.objects.filter(recipient=reader, is_read=False).values_list("id", flat=True))
    assert unread == [during.id]
    assert Contact.objects.get(owner=reader, contact=sender).unread_count == len(unread)
