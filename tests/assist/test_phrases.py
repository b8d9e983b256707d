"""The phrase board over REST: ordering, categories, the frequent board, and bad input."""

import pytest

pytestmark = pytest.mark.django_db


def test_phrases_are_listed_by_category_and_position(api, alice):
    for text, category in [("Yes please", "answers"), ("Good morning", "greetings"), ("No thanks", "answers")]:
        assert api("post", "/phrases", alice.clerk_id, {"text": text, "category": category}).status_code == 201
    answers = api("get", "/phrases?category=answers", alice.clerk_id).json()["phrases"]
    assert [(p["text"], p["position"]) for p in answers] == [("Yes please", 1), ("No thanks", 2)]
    moved = api("patch", f"/phrases/{answers[1]['id']}", alice.clerk_id, {"position": 0}).json()
    assert moved["position"] == 0
    board = api("get", "/phrases", alice.clerk_id).json()["phrases"]
    assert [p["text"] for p in board] == ["No thanks", "Yes please", "Good morning"]


def test_the_frequent_board_lists_what_the_user_sends_most(api, alice, bob, send):
    for text in ["I am tired", "i am tired ", "Water please", "I am tired"]:
        send(alice, bob, text)
    send(bob, alice, "Someone else's words")
    frequent = api("get", "/phrases?source=frequent", alice.clerk_id).json()["phrases"]
    assert frequent == [{"text": "I am tired", "count": 3}, {"text": "Water please", "count": 1}]


def test_a_phrase_is_recalled_by_prefix_and_initials_in_replies(api, alice):
    api("post", "/phrases", alice.clerk_id, {"text": "Please call my daughter"})
    for typed in ["please call m", "PCMD", "pcmd"]:
        replies = api("get", f"/assist/suggestions?text={typed.replace(' ', '%20')}", alice.clerk_id).json()["replies"]
        assert replies[0].lower() == "please call my daughter", (typed, replies)


@pytest.mark.parametrize(
    "body",
    [{}, {"text": ""}, {"text": "   "}, {"text": 5}, {"text": "x" * 501}, {"text": "ok", "position": "1"},
     {"text": "ok", "category": "c" * 61}, {"text": "ok", "position": True}],
)  # fmt: skip
def test_bad_phrases_are_400(api, alice, body):
    response = api("post", "/phrases", alice.clerk_id, body)
    assert response.status_code == 400 and response.json()["error"]


def test_another_users_phrase_cannot_be_changed(api, alice, bob):
    phrase = api("post", "/phrases", alice.clerk_id, {"text": "Mine"}).json()
    assert api("patch", f"/phrases/{phrase['id']}", bob.clerk_id, {"text": "Yours"}).status_code == 404
    assert api("patch", "/phrases/abc", alice.clerk_id, {"text": "x"}).status_code == 400
    assert api("get", "/phrases", alice.clerk_id).json()["phrases"][0]["text"] == "Mine"
