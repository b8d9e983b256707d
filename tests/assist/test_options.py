"""POST /chat/options: the frontend's AI-responses call, answered offline in its shape."""

import pytest

pytestmark = pytest.mark.django_db


def test_anonymous_callers_get_four_base_replies_in_the_frontends_shape(api):
    response = api("post", "/chat/options", None, {"message": "How are you doing?"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"options", "recent_history"}
    assert len(body["options"]) == 4 and all(isinstance(o, str) and o for o in body["options"])
    assert body["recent_history"] == [["How are you doing?", *body["options"]]]


def test_with_identity_the_users_own_replies_come_first(api, alice, bob, send, learn):
    for _ in range(2):
        send(bob, alice, "Fancy a game of chess?")
        send(alice, bob, "Only if I play white")
    learn()
    mine = api("post", "/chat/options", alice.clerk_id, {"message": "fancy a game of chess"}).json()["options"]
    assert mine[0] == "Only if I play white"
    anonymous = api("post", "/chat/options", None, {"message": "fancy a game of chess"}).json()["options"]
    assert "Only if I play white" not in anonymous


@pytest.mark.parametrize("body", [{}, {"message": 5}, {"message": None}, {"message": "x" * 4001}])
def test_bad_bodies_are_400(api, body):
    response = api("post", "/chat/options", None, body)
    assert response.status_code == 400 and response.json()["error"]


def test_the_frontend_origin_may_call_it(api):
    preflight = api(
        "options", "/chat/options", None,
        HTTP_ORIGIN="http://localhost:3001", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )  # fmt: skip
    assert preflight["Access-Control-Allow-Origin"] == "http://localhost:3001"
    answer = api("post", "/chat/options", None, {"message": "hi"}, HTTP_ORIGIN="http://localhost:3001")
    assert answer["Access-Control-Allow-Origin"] == "http://localhost:3001"
    other = api("post", "/chat/options", None, {"message": "hi"}, HTTP_ORIGIN="http://evil.example")
    assert "Access-Control-Allow-Origin" not in other
