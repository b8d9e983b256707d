"""GET /assist/suggestions and its rules: shapes and limits, completion vs prediction, case, replies, bad input."""

import pytest

from chat.services import message_send

pytestmark = pytest.mark.django_db


def suggest(api, user, text, to=None):
    query = {"text": text, **({"to": to.clerk_id} if to else {})}
    return api("get", "/assist/suggestions?" + "&".join(f"{k}={v}" for k, v in _quoted(query).items()), user.clerk_id)


def _quoted(query):
    from urllib.parse import quote

    return {k: quote(v, safe="") for k, v in query.items()}


def test_shape_and_limits_for_a_new_user(api, alice):
    for text in ["", "h", "how are ", "I", "Thank y"]:
        response = suggest(api, alice, text)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"words", "replies"}
        assert 1 <= len(body["words"]) <= 4 and len(body["replies"]) <= 3
        assert all(isinstance(w, str) and " " not in w for w in body["words"])


def test_a_partial_word_is_completed_and_a_space_predicts_the_next(api, alice):
    completing = suggest(api, alice, "hel").json()["words"]
    assert completing and all(w.lower().startswith("hel") for w in completing)
    predicting = suggest(api, alice, "how are ").json()["words"]
    assert "you" in predicting


def test_suggestions_follow_the_case_typed(api, alice):
    assert all(w.startswith("Hel") for w in suggest(api, alice, "Hel").json()["words"])
    assert all(w.isupper() for w in suggest(api, alice, "HEL").json()["words"])
    replies = suggest(api, alice, "THANK Y").json()["replies"]
    assert replies and all(r.startswith("THANK Y") for r in replies)


def test_replies_start_with_the_text_case_insensitively(api, alice):
    replies = suggest(api, alice, "how ARE").json()["replies"]
    assert replies and all(r.lower().startswith("how are") for r in replies)


def test_with_empty_text_replies_answer_the_contacts_last_message(api, alice, bob):
    message_send(sender_id=bob.clerk_id, recipient_id=alice.clerk_id, text="How are you doing?")
    replies = suggest(api, alice, "", to=bob).json()["replies"]
    assert len(replies) == 3
    assert any("well" in r.lower() or "good" in r.lower() for r in replies), replies


def test_bad_input_gets_clear_errors(api, alice):
    huge = suggest(api, alice, "a" * 1001)
    assert huge.status_code == 400 and "text" in huge.json()["error"]
    unknown = api("get", "/assist/suggestions?text=hi&to=user_nobody", alice.clerk_id)
    assert unknown.status_code == 404 and "Unknown contact" in unknown.json()["error"]
    assert api("get", "/assist/suggestions?text=hi").status_code == 401


def test_turned_off_suggestions_are_empty(api, alice):
    assert api("patch", "/users/me/preferences", alice.clerk_id, {"suggestionsEnabled": False}).status_code == 200
    assert suggest(api, alice, "hel").json() == {"words": [], "replies": []}
    api("patch", "/users/me/preferences", alice.clerk_id, {"suggestionsEnabled": True, "suggestionCount": 2})
    body = suggest(api, alice, "h").json()
    assert len(body["words"]) == 2 and len(body["replies"]) <= 2
