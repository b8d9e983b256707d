"""The admin's message pages: a compact list, read-only pages without Save buttons, actions kept."""

import pytest
from django.contrib.auth import get_user_model

from chat.models import Message
from chat.services import conversation_get_or_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(client):
    client.force_login(get_user_model().objects.create_superuser("moderator", "mod@example.com", "pw-not-used"))


@pytest.fixture
def message(make_user):
    ann, bob = make_user("ann"), make_user("bob")
    conversation = conversation_get_or_create(user_a=ann.clerk_id, user_b=bob.clerk_id)
    return Message.objects.create(
        conversation=conversation, sender=ann, recipient=bob, content="A long message " + "word " * 60 + "TAILMARK"
    )


def test_messages_list_shows_a_short_preview_on_one_line(client, moderator, message):
    html = client.get("/admin/chat/message/").content.decode()
    assert "A long message word" in html and "TAILMARK" not in html  # cut to a preview
    assert f">#{message.conversation_id}<" in html  # the conversation column is just its id
    assert "chat/admin.css" in html  # which keeps the preview and the date on one line
    assert client.get("/static/chat/admin.css").status_code == 200


def test_a_message_page_has_no_save_buttons_but_the_list_keeps_its_actions(client, moderator, message):
    page = client.get(f"/admin/chat/message/{message.pk}/change/").content.decode()
    assert "A long message" in page  # the page shows the message
    assert 'name="_save"' not in page and 'name="_continue"' not in page and 'name="_addanother"' not in page
    listing = client.get("/admin/chat/message/").content.decode()
    assert "remove_messages" in listing and "restore_messages" in listing
    client.post("/admin/chat/message/", {"action": "remove_messages", "_selected_action": [message.pk]})
    message.refresh_from_db()
    assert message.removed_at is not None
