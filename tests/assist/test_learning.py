"""Each user's model learns their own messages (sent and received), never anyone else's; erasing,
account deletion and moderator removals take text out again; the rebuild command reproduces it."""

import string
from urllib.parse import quote

import pytest
from django.core.management import call_command

from assist.models import LanguageModel
from chat.services import message_remove, message_restore
from users.services import user_deactivate

pytestmark = pytest.mark.django_db

SECRET = "zebracorn marmalade quixotically"


def suggestions(api, user, text, to=None):
    path = f"/assist/suggestions?text={quote(text, safe='')}" + (f"&to={to.clerk_id}" if to else "")
    response = api("get", path, user.clerk_id)
    assert response.status_code == 200, response.content
    return response.json()


def shows(body, needle):
    return any(needle in s.lower() for s in body["words"] + body["replies"])


def every_prefix(text):
    return [text[:i] for i in range(len(text) + 1)]


def test_a_sent_phrase_is_learned_and_suggested(send, api, alice, bob, learn):
    assert not shows(suggestions(api, alice, "zeb"), "zebracorn")  # the base model does not know it
    for _ in range(3):
        send(alice, bob, SECRET)
    assert learn() == 3
    assert "zebracorn" in suggestions(api, alice, "zeb")["words"]
    assert SECRET in [r.lower() for r in suggestions(api, alice, "zebracorn m")["replies"]]
    assert "marmalade" in suggestions(api, alice, "zebracorn ")["words"]
    # The recipient read it: it is text they received, so their model may know the word.
    assert "zebracorn" in suggestions(api, bob, "zebr")["words"]


def test_a_phrase_only_alice_wrote_never_reaches_carol(send, api, alice, bob, carol, learn):
    for _ in range(5):
        send(alice, bob, SECRET)
    send(carol, alice, "hello there")
    learn()
    assert shows(suggestions(api, alice, "zebracorn"), "zebracorn")  # the probe sees learned text
    prefixes = every_prefix(SECRET) + list(string.ascii_lowercase) + ["zq", "zm", "zmq"]
    for prefix in prefixes:
        for to in (None, alice, bob):
            body = suggestions(api, carol, prefix, to)
            assert not any(w in s.lower() for s in body["words"] + body["replies"] for w in SECRET.split()), (
                prefix,
                body,
            )


def test_erase_forgets_and_account_deletion_erases(send, api, alice, bob, learn):
    send(alice, bob, SECRET)
    learn()
    assert shows(suggestions(api, alice, "zebr"), "zebracorn")
    assert api("delete", "/assist/model", alice.clerk_id).status_code == 204
    assert not shows(suggestions(api, alice, "zebr"), "zebracorn")

    assert shows(suggestions(api, bob, "zebr"), "zebracorn")
    api("post", "/phrases", bob.clerk_id, {"text": "zebracorn board"})
    user_deactivate(clerk_id=bob.clerk_id)
    assert not LanguageModel.objects.filter(user_id=bob.clerk_id).exists()
    assert api("get", "/phrases", bob.clerk_id).json() == {"phrases": []}


def test_learning_turned_off_learns_nothing(send, api, alice, bob, learn):
    api("patch", "/users/me/preferences", alice.clerk_id, {"learningEnabled": False})
    send(alice, bob, SECRET)
    learn()
    assert not shows(suggestions(api, alice, "zebr"), "zebracorn")
    assert shows(suggestions(api, bob, "zebr"), "zebracorn")


def test_a_removed_message_is_unlearned_and_a_restore_relearns(send, api, alice, bob, learn):
    message = send(alice, bob, SECRET)
    learn()
    assert shows(suggestions(api, alice, "zebracorn m"), SECRET)
    message_remove(message_id=message.id)
    for user in (alice, bob):
        for prefix in ("z", "zebr", "zebracorn ", "zebracorn m"):
            assert not shows(suggestions(api, user, prefix), "zebracorn"), (user, prefix)
            assert not shows(suggestions(api, user, prefix), "marmalade"), (user, prefix)
    # Learned, then learning turned off: a removal still takes the text out.
    second = send(alice, bob, "gloaming tarantella")
    learn()
    assert shows(suggestions(api, alice, "gloa"), "gloaming")
    api("patch", "/users/me/preferences", alice.clerk_id, {"learningEnabled": False})
    message_remove(message_id=second.id)
    assert not shows(suggestions(api, alice, "gloa"), "gloaming")
    # Removed before it was learned: never learned at all.
    late = send(alice, bob, "xylophonic reverie")
    message_remove(message_id=late.id)
    learn()
    assert not shows(suggestions(api, bob, "xylo"), "xylophonic")  # bob still learns
    # A restore learns the message back (for users still learning).
    message_restore(message_id=message.id)
    assert shows(suggestions(api, bob, "zebr"), "zebracorn")
    assert not shows(suggestions(api, alice, "zebr"), "zebracorn")


def test_reply_pairs_are_learned_and_suggested_for_a_similar_message(send, api, alice, bob, learn):
    for _ in range(2):
        send(bob, alice, "Shall we watch the cricket tonight?")
        send(alice, bob, "Only if you bring samosas")
    learn()
    send(bob, alice, "watch the cricket tonight?")
    assert suggestions(api, alice, "", to=bob)["replies"][0] == "Only if you bring samosas"


def test_the_rebuild_command_reproduces_the_models(send, api, alice, bob, learn, capsys):
    send(alice, bob, SECRET)
    removed = send(alice, bob, "xylophonic reverie")
    learn()
    before = LanguageModel.objects.get(user_id=alice.clerk_id).language()
    LanguageModel.objects.all().delete()
    message_remove(message_id=removed.id)
    call_command("assist_rebuild")
    assert "rebuilt from 2 messages" in capsys.readouterr().out
    after = LanguageModel.objects.get(user_id=alice.clerk_id).language()
    assert "zebracorn" in after["u"] and "xylophonic" in before["u"] and "xylophonic" not in after["u"]


def test_a_model_stays_bounded(send, alice, bob, learn):
    from assist import language

    for i in range(60):
        words = " ".join(f"w{i}x{j}" for j in range(90))
        send(alice, bob, words)
    learn()
    data = LanguageModel.objects.get(user_id=alice.clerk_id).language()
    assert len(data["u"]) <= language.MAX_WORDS * 1.1
    assert sum(len(v) for v in data["b"].values()) <= language.MAX_PAIRS * 1.1


def test_the_learn_command_learns_what_is_pending(send, api, alice, bob, capsys, settings):
    settings.ASSIST_LEARN_SETTLE_SECONDS = 0
    send(alice, bob, SECRET)
    call_command("assist_learn", "--once")
    assert "learned 1 messages" in capsys.readouterr().out
    assert shows(suggestions(api, alice, "zebr"), "zebracorn")


def test_a_message_younger_than_the_settling_delay_waits_and_is_not_skipped(send, alice, bob):
    from datetime import timedelta

    from assist.learning import assist_learn_pending
    from chat.models import Message

    older, younger = send(alice, bob, "first settled words"), send(alice, bob, "second fresh words")
    Message.objects.filter(pk=older.pk).update(created_at=older.created_at - timedelta(minutes=1))
    # The cut stops at the first message still settling: the one before it is learned, it is not.
    assert assist_learn_pending(settle_seconds=30) == 1
    assert assist_learn_pending(settle_seconds=30) == 0
    assert assist_learn_pending(settle_seconds=0) == 1
    learned = LanguageModel.objects.get(user_id=alice.clerk_id).messages_learned
    assert learned == 2, (younger.pk, learned)
