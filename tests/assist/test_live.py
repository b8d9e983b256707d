"""The assist features over real sockets: `suggest` with its ack, learning by the server's own
background learner, phrase boards and preferences synced to the user's other devices, and the
typing indicator of a dwell typist that does not flicker off between two selections."""

import asyncio
import time

import pytest

from tests.assist.conftest import db

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def learning_server(asgi_server_factory):
    # A small pool, and stopped with the module: PostgreSQL's connections are shared with the
    # servers the later tests start.
    server = asgi_server_factory(
        ASSIST_LEARN_SECONDS="0.2", ASSIST_LEARN_SETTLE_SECONDS="0", TYPING_TIMEOUT_SECONDS="1",
        DB_POOL_MIN_SIZE="1", DB_POOL_MAX_SIZE="4",
    )  # fmt: skip
    yield server
    server.stop()


def _rest(server, method, path, clerk_id, body=None):
    import json
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.url + path, data=data, method=method.upper())
    request.add_header("x-clerk-id", clerk_id)
    request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


async def test_suggest_answers_with_an_ack_and_learns_from_sends(learning_server, clients, alice, bob):
    me = await clients(learning_server, alice.clerk_id)
    await clients(learning_server, bob.clerk_id)
    answer = await me.call("suggest", {"text": "zeb", "toClerkId": bob.clerk_id})
    assert answer["success"] is True and set(answer) == {"success", "words", "replies"}
    assert "zebracorn" not in answer["words"]

    for i in range(2):
        ack = await me.call(
            "send_message",
            {
                "fromClerkId": alice.clerk_id,
                "toClerkId": bob.clerk_id,
                "text": "zebracorn parade",
                "clientMessageId": f"z{i}",
            },
        )
        assert ack["success"] is True
    deadline = time.monotonic() + 10
    while True:  # the background learner runs every 0.2 s here
        answer = await me.call("suggest", {"text": "zeb", "toClerkId": bob.clerk_id})
        if "zebracorn" in answer["words"] or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert "zebracorn" in answer["words"]
    assert (
        "zebracorn parade" in (await me.call("suggest", {"text": "zebracorn p", "toClerkId": bob.clerk_id}))["replies"]
    )


@pytest.mark.parametrize(
    "payload, field",
    [
        ("hello", None),
        ({"text": 5}, "text"),
        ({"text": "a" * 5000}, "text"),
        ({"text": "hi", "toClerkId": ["x"]}, "toClerkId"),
    ],
)
async def test_suggest_bad_input_gets_an_error_and_the_socket_keeps_working(
    learning_server, clients, alice, payload, field
):
    me = await clients(learning_server, alice.clerk_id)
    answer = await me.call("suggest", payload)
    assert answer["success"] is False and answer["error"]
    error = await me.next("error")
    assert error["event"] == "suggest"
    if field:
        assert error["details"]["field"] == field
    assert (await me.call("suggest", {"text": "he"}))["success"] is True


async def test_suggest_to_an_unknown_contact_is_refused(learning_server, clients, alice):
    me = await clients(learning_server, alice.clerk_id)
    answer = await me.call("suggest", {"text": "", "toClerkId": "user_nobody_here"})
    assert answer == {"success": False, "error": "Unknown contact: no user with that toClerkId"}


async def test_phrase_board_changes_reach_the_users_other_devices(learning_server, clients, alice, bob):
    phone = await clients(learning_server, alice.clerk_id)
    tablet = await clients(learning_server, alice.clerk_id)
    stranger = await clients(learning_server, bob.clerk_id)

    status, phrase = await asyncio.to_thread(_rest, learning_server, "post", "/phrases", alice.clerk_id,
                                             {"text": "How are you", "category": "greetings"})  # fmt: skip
    assert status == 201 and phrase["category"] == "greetings"
    for device in (phone, tablet):
        assert await device.next("phrases_changed") == {"action": "created", "phrase": phrase}
    status, changed = await asyncio.to_thread(
        _rest, learning_server, "patch", f"/phrases/{phrase['id']}", alice.clerk_id, {"position": 7}
    )
    assert status == 200 and changed["position"] == 7
    assert (await phone.next("phrases_changed"))["action"] == "updated"
    # Recalled by its initials inside replies.
    assert (await phone.call("suggest", {"text": "hay"}))["replies"][0] == "How are you"
    assert (await asyncio.to_thread(_rest, learning_server, "delete", f"/phrases/{phrase['id']}", bob.clerk_id))[
        0
    ] == 404
    status, _ = await asyncio.to_thread(_rest, learning_server, "delete", f"/phrases/{phrase['id']}", alice.clerk_id)
    assert status == 204
    assert (await tablet.next_matching("phrases_changed", lambda p: p["action"] == "deleted"))["phrase"][
        "id"
    ] == phrase["id"]
    assert stranger.pending("phrases_changed") == []


async def test_preferences_sync_to_every_socket_of_the_user(learning_server, clients, alice):
    phone = await clients(learning_server, alice.clerk_id)
    status, body = await asyncio.to_thread(
        _rest,
        learning_server,
        "patch",
        "/users/me/preferences",
        alice.clerk_id,
        {"dwellTimeMs": 900, "suggestionCount": 3},
    )
    assert status == 200 and body["dwellTimeMs"] == 900 and body["suggestionCount"] == 3
    assert await phone.next("preferences_updated") == {"preferences": body}
    assert (await asyncio.to_thread(_rest, learning_server, "get", "/users/me/preferences", alice.clerk_id)) == (
        200,
        body,
    )
    status, error = await asyncio.to_thread(
        _rest, learning_server, "patch", "/users/me/preferences", alice.clerk_id, {"suggestionCount": "3"}
    )
    assert status == 400 and "suggestionCount" in error["error"]


async def test_a_dwell_typists_indicator_outlasts_the_default_timeout(learning_server, clients, make_user, bob):
    slow = await db(make_user)("slow", is_paralyzed=True)
    quick = await db(make_user)("quick")
    watcher = await clients(learning_server, bob.clerk_id)
    for typist in (slow, quick):
        socket = await clients(learning_server, typist.clerk_id)
        await socket.call("typing_start", {"fromClerkId": typist.clerk_id, "toClerkId": bob.clerk_id})
    started = time.monotonic()
    ended = await watcher.next_matching("user_typing", lambda p: not p["isTyping"], timeout=5)
    # The default here is 1 s: the quick typist's indicator ends, the dwell typist's (20 s) does not.
    assert ended["userId"] == quick.clerk_id and time.monotonic() - started < 3
    await asyncio.sleep(1.5)  # the never-happens window: past the default timeout
    assert [p for p in watcher.pending("user_typing") if not p["isTyping"]] == []


async def test_a_typing_timeout_preference_keeps_the_indicator(learning_server, clients, alice, bob):
    status, _ = await asyncio.to_thread(
        _rest, learning_server, "patch", "/users/me/preferences", alice.clerk_id, {"typingTimeoutSeconds": 30}
    )
    assert status == 200
    watcher = await clients(learning_server, bob.clerk_id)
    typist = await clients(learning_server, alice.clerk_id)
    pair = {"fromClerkId": alice.clerk_id, "toClerkId": bob.clerk_id}
    await typist.call("typing_start", pair)
    assert (await watcher.next("user_typing"))["isTyping"] is True
    await asyncio.sleep(1.5)  # past the server's 1 s default here
    assert watcher.pending("user_typing") == []
    await typist.call("typing_stop", pair)  # the channel still works: the stop arrives
    assert (await watcher.next("user_typing"))["isTyping"] is False
