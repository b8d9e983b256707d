import pytest

# The realtime tests' fixtures: a Socket.IO client factory, ORM calls from async tests, two users.
from tests.chat.realtime.conftest import alice, bob, clients, db  # noqa: F401


@pytest.fixture
def carol(make_user):
    return make_user("carol")


@pytest.fixture
def learn():
    """Run the learner as each server process's background task does, now (no settling delay)."""
    from assist.learning import assist_learn_pending

    def run() -> int:
        total = 0
        while read := assist_learn_pending(settle_seconds=0):
            total += read
        return total

    return run


@pytest.fixture
def api(client):
    """`api(method, path, clerk_id, body=None)`: a JSON request as that user."""

    def call(method, path, clerk_id=None, body=None, **extra):
        headers = {"HTTP_X_CLERK_ID": clerk_id} if clerk_id else {}
        kwargs = {"content_type": "application/json", "data": body} if body is not None else {}
        return getattr(client, method)(path, **kwargs, **headers, **extra)

    return call


@pytest.fixture
def send():
    """`send(sender, recipient, text)`: a stored message (each its own, never a duplicate retry)."""
    import uuid

    from chat.services import message_send

    def run(sender, recipient, text):
        return message_send(
            sender_id=sender.clerk_id, recipient_id=recipient.clerk_id, text=text, client_message_id=uuid.uuid4().hex
        ).message

    return run
