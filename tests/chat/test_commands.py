"""manage.py commands: output and effect."""

import json
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from chat.models import Conversation, Message
from chat.services import message_delete, message_edit, message_remove, message_send
from contacts.models import Contact
from tests.conftest import ROOT, environ_without_config, shared_database_url
from users.models import User

pytestmark = pytest.mark.django_db


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def _counts():
    return User.objects.count(), Contact.objects.count(), Conversation.objects.count(), Message.objects.count()


def test_seed_demo_creates_demo_data_and_is_safe_to_run_twice():
    first = run("seed_demo")
    assert "user user_demo_ana (isParalyzed): created" in first
    assert "demo data ready: 5 user(s), 8 contact(s), 13 message(s) created" in first
    counts = _counts()
    assert counts == (5, 8, 4, 13)
    assert User.objects.filter(is_paralyzed=True).count() == 2
    # Every demo message but each conversation's last is read, and counts agree with it.
    assert Message.objects.filter(is_read=False).count() == 4
    assert sum(Contact.objects.values_list("unread_count", flat=True)) == 4

    second = run("seed_demo")
    assert "user user_demo_ana (isParalyzed): exists" in second
    assert "demo data ready: 0 user(s), 0 contact(s), 0 message(s) created; 13 message(s) already there" in second
    assert _counts() == counts
    assert sum(Contact.objects.values_list("unread_count", flat=True)) == 4


def test_seed_demo_can_connect_your_own_account():
    out = run("seed_demo", "--user", "user_me_123")
    assert "user user_me_123: created" in out
    me = User.objects.get(clerk_id="user_me_123")
    assert set(Contact.objects.filter(owner=me).values_list("contact_id", flat=True)) == {
        "user_demo_ana",
        "user_demo_ben",
    }
    assert Message.objects.filter(recipient=me).count() == 2
    run("seed_demo", "--user", "user_me_123")
    assert Message.objects.filter(recipient=me).count() == 2


@pytest.fixture
def conversation(make_user):
    ann = make_user("ann", full_name="Ann Able")
    bob = make_user("bob", full_name="Bob Baker")
    message_send(sender_id=ann.clerk_id, recipient_id=bob.clerk_id, text="hello bob")
    reply = message_send(sender_id=bob.clerk_id, recipient_id=ann.clerk_id, text="rude words").message
    message_remove(message_id=reply.id)
    message_send(sender_id=ann.clerk_id, recipient_id=bob.clerk_id, text="see you")
    return reply.conversation, ann, bob


def test_export_shows_edits_and_hides_what_the_sender_deleted(make_user):
    ann, bob = make_user("ann", full_name="Ann Able"), make_user("bob", full_name="Bob Baker")
    edited = message_send(sender_id=ann.clerk_id, recipient_id=bob.clerk_id, text="helo").message
    message_edit(editor_id=ann.clerk_id, message_id=edited.id, text="hello")
    gone = message_send(sender_id=ann.clerk_id, recipient_id=bob.clerk_id, text="regret this").message
    message_delete(deleter_id=ann.clerk_id, message_id=gone.id)
    export = json.loads(run("export_conversation", str(edited.conversation_id)))
    assert [(m["content"], bool(m["editedAt"]), bool(m["deletedAt"])) for m in export["messages"]] == [
        ("hello", True, False),
        (None, False, True),
    ]
    text = run("export_conversation", str(edited.conversation_id), "--format", "text")
    assert "Ann Able: hello  (edited " in text and "[deleted by its sender at" in text
    assert "regret" not in text and "helo " not in text


def test_export_conversation_as_json(conversation):
    conv, ann, bob = conversation
    export = json.loads(run("export_conversation", str(conv.pk)))
    assert export["conversationId"] == conv.pk
    assert [p["clerkId"] for p in export["participants"]] == sorted([ann.clerk_id, bob.clerk_id])
    assert [m["content"] for m in export["messages"]] == ["hello bob", None, "see you"]
    assert export["messages"][1]["removedAt"].endswith("Z")
    assert export["messages"][0]["fromClerkId"] == ann.clerk_id and export["messages"][0]["isRead"] is False


def test_export_conversation_as_text(conversation):
    conv, ann, bob = conversation
    lines = run("export_conversation", str(conv.pk), "--format", "text").splitlines()
    assert lines[0].startswith(f"Conversation {conv.pk} between ")
    assert "Ann Able" in lines[0] and "Bob Baker" in lines[0]
    body = [line for line in lines if line.startswith("[")]
    assert len(body) == 3
    assert "Ann Able: hello bob" in body[0]
    assert "Bob Baker: [removed by a moderator at" in body[1] and "rude words" not in "\n".join(lines)
    assert "Ann Able: see you" in body[2]


def test_export_of_an_unknown_conversation_fails_clearly():
    with pytest.raises(CommandError, match="Conversation 999999 not found"):
        run("export_conversation", "999999")


def test_chat_stats(conversation, make_user):
    conv, ann, bob = conversation
    make_user("eyes", is_paralyzed=True)
    out = run("chat_stats", "--days", "3")
    assert "users: 3 (3 active, 0 suspended, 1 isParalyzed)" in out
    assert "online now: 0" in out
    assert "messages: 3 in total" in out
    assert "unread backlog: 3 message(s) for 2 user(s), 3 never delivered" in out
    stats = json.loads(run("chat_stats", "--json"))
    assert sum(stats["messagesPerDay"].values()) == 3 and len(stats["messagesPerDay"]) == 7
    assert stats["users"]["total"] == 3 and stats["unreadBacklog"]["messages"] == 3


def test_presence_sweep_marks_users_without_presence_offline(make_user):
    ghost = make_user("ghost", status="online")
    idle = make_user("idle")
    out = run("presence_sweep", "--force")
    assert "status set offline: 1" in out and ghost.clerk_id in out
    ghost.refresh_from_db()
    idle.refresh_from_db()
    assert ghost.status == "offline" and ghost.last_seen_at is not None
    assert idle.status == "offline"
    assert "status set offline: 0" in run("presence_sweep", "--force")


def test_presence_sweep_without_redis_refuses_unless_forced(settings, make_user):
    settings.REDIS_URL = ""
    ghost = make_user("ghost", status="online")
    with pytest.raises(CommandError, match="REDIS_URL is not set"):
        run("presence_sweep")
    ghost.refresh_from_db()
    assert ghost.status == "online"


@pytest.mark.redis
def test_presence_sweep_clears_the_leases_of_a_crashed_process(settings, make_user):
    from delivery import leases

    ghost = make_user("ghost", status="online")
    # A lease already past its expiry: what a process killed mid-session leaves in Redis.
    settings.PRESENCE_LEASE_SECONDS = -1
    leases.socket_connected(ghost.clerk_id, "sid-of-a-dead-process")
    out = run("presence_sweep")
    assert f"users left offline: 1 ({ghost.clerk_id})" in out
    assert leases.sids_of(ghost.clerk_id) == []
    ghost.refresh_from_db()
    assert ghost.status == "offline"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_presence_sweep_keeps_users_connected_to_a_live_server(asgi_server, make_user):
    from channels.db import database_sync_to_async

    from tests.chat.realtime.client import Client

    live, ghost = await database_sync_to_async(lambda: (make_user("live"), make_user("ghost", status="online")))()
    client = Client(asgi_server.url)
    await client.connect()
    try:
        await client.register(live.clerk_id)
        # The server's own heartbeat may fix the ghost first; either way the sweep must not
        # take the connected user offline.
        out = await database_sync_to_async(run)("presence_sweep")
        assert "status set offline:" in out and live.clerk_id not in out
        statuses = await database_sync_to_async(
            lambda: dict(User.objects.filter(pk__in=[live.pk, ghost.pk]).values_list("clerk_id", "status"))
        )()
        assert statuses == {live.clerk_id: "online", ghost.clerk_id: "offline"}
    finally:
        await client.close()


@pytest.mark.parametrize("days", ["0", "-1"])
def test_chat_stats_refuses_fewer_than_one_day(days):
    assert "last 1 days" in run("chat_stats", "--days", "1")
    with pytest.raises(CommandError, match=f"--days: must be a whole number of days, at least 1, not '{days}'"):
        run("chat_stats", f"--days={days}")


@pytest.mark.django_db(transaction=True)
def test_seed_demo_output_has_no_log_lines(django_db_blocker):
    with django_db_blocker.unblock():
        database_url = shared_database_url()
    # The same process then logs one event, proving log lines would have reached this output.
    probe = (
        "from django.core.management import call_command; call_command('seed_demo'); import logging; "
        "from kernel.logging import log_event; log_event(logging.getLogger('chat.send'), 'probe.after_seed')"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=environ_without_config(DATABASE_URL=database_url, LOG_FORMAT="json"),
    )
    assert out.returncode == 0, out.stderr
    assert "demo data ready: 5 user(s)" in out.stdout
    assert not [line for line in out.stdout.splitlines() if line.startswith("{")]
    assert [json.loads(line)["event"] for line in out.stderr.splitlines()] == ["probe.after_seed"]
