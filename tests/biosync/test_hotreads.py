"""The hot-read lane (biosync/hotreads.py) answers exactly what Django answers, or lets Django answer.

Two real server processes on the same database, one with the lane and one without
(HTTP_HOT_READS=false), get the same requests over real sockets; status, headers (but the date)
and body bytes must be equal. /metrics shows which path answered.
"""

import re
import uuid

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from django.db import connection
from django.http import QueryDict

from biosync.asgi_handler import SingleHopASGIHandler
from biosync.hotreads import HotReads
from chat.api.views import aconversation_messages_body, conversation_messages_body
from chat.services import message_send
from contacts.api.views import acontacts_list_body, contacts_list_body
from contacts.services import contact_add
from kernel import asyncdb
from kernel.api import list_json_bytes
from tests.biosync.rawhttp import get, metric_samples
from tests.users.clerk_tokens import ISSUER, PARTY, SigningKey
from tests.users.conftest import bad_tokens
from users.blocks import user_block

FRONTEND = "http://localhost:3001"  # CORS_ORIGIN's default
HOSTS = "127.0.0.1,localhost"
CLERK_KEY, FORGER_KEY = SigningKey.generate("ins_lane"), SigningKey.generate("ins_lane")  # same kid


@pytest.fixture(scope="module")
def servers(asgi_server_factory):
    """(with the lane, without it), both allowing only HOSTS."""
    return (
        asgi_server_factory(ALLOWED_HOSTS=HOSTS, LOG_LEVEL="INFO"),
        asgi_server_factory(ALLOWED_HOSTS=HOSTS, HTTP_HOT_READS="false"),
    )


def _hot_reads(server, view: str) -> float:
    return metric_samples(server).get(("biosync_http_hot_reads_total", (("view", view),)), 0.0)


@pytest.fixture
def chat(make_user):
    """Me, with two contacts (one I block); a conversation with Ann holding awkward texts; and a
    conversation between two others."""
    me, ann, bob, eve, zed = (make_user(name) for name in ("me", "ann", "bob", "eve", "zed"))
    contact_add(owner_id=me.clerk_id, contact_clerk_id=bob.clerk_id, nickname="Bobby \u00e9\u2028")
    user_block(blocker_id=me.clerk_id, blocked_id=bob.clerk_id)
    texts = ['hi "you"', "line\u2028sep\u2029para", "\U0001f440 \u00fcml\u00e4ut \\ </script>", "x" * 300]
    sent = [message_send(sender_id=who, recipient_id=other, text=text).message
            for who, other, text in zip([ann.clerk_id, me.clerk_id] * 2, [me.clerk_id, ann.clerk_id] * 2, texts)]  # fmt: skip
    others = message_send(sender_id=eve.clerk_id, recipient_id=zed.clerk_id, text="not yours").message
    return {"me": me, "ann": ann, "conversation": sent[0].conversation_id, "first": sent[0].id,
            "others": others.conversation_id}  # fmt: skip


def _comparable(answer):
    """A fresh CSRF cookie is random, and its expiry moves with the clock."""
    status, headers, body = answer
    masked = [(name, re.sub(r"(csrftoken=|expires=)[^;]*", r"\1…", value)) for name, value in headers]
    return status, masked, body


def _requests(chat) -> list[tuple[str, list[tuple[str, str]]]]:
    me = ("x-clerk-id", chat["me"].clerk_id)
    page = f"/conversations/{chat['conversation']}/messages"
    return [
        ("/contacts", [me]),
        ("/contacts", [me, ("Origin", FRONTEND)]),
        ("/contacts", [me, ("Origin", "http://evil.example")]),
        ("/contacts", [me, ("Origin", "http://[")]),
        ("/contacts", [me, ("X-Forwarded-Proto", "https"), ("Origin", FRONTEND)]),
        ("/contacts", [me, ("Accept", "application/json")]),
        ("/contacts", [me, ("Accept", "*/*;q=0.8, application/json")]),
        ("/contacts", [me, ("Accept", "application/json, text/plain, */*")]),
        ("/contacts", [me, ("Accept", "application/json; indent=2")]),
        ("/contacts", [me, ("Accept", "application/xml")]),
        ("/contacts?format=json", [me]),
        ("/contacts?unused=1", [me]),
        ("/contacts", []),
        ("/contacts", [("x-clerk-id", "not a valid id!")]),
        ("/contacts", [("x-clerk-id", f"user_nobody_{uuid.uuid4().hex[:8]}")]),
        ("/contacts", [me, ("Host", "evil.example")]),
        ("/contacts", [me, ("x-clerk-id", "user_someone_else")]),
        (page, [me]),
        (page + "?limit=2", [me, ("Origin", FRONTEND)]),
        (page + "?limit=1&offset=1", [me]),
        (page + f"?before={chat['first'] + 2}", [me]),
        (page + f"?after={chat['first']}", [me]),
        (page + "?limit=abc", [me]),
        (page + "?limit=100000", [me]),
        (page + "?after=1&before=2", [me]),
        (f"/conversations/{chat['others']}/messages", [me]),
        ("/conversations/abc/messages", [me]),
        ("/conversations/0/messages", [me]),
        ("/conversations/99999999999999999999/messages", [me]),
        (page, []),
        ("/contacts?x=%FF&format", [me]),  # not valid UTF-8 once decoded; a bare `format` key
        ("/conversations/%C3%A9/messages", [me]),
        ("/contacts", [me, ("Cookie", "sessionid=abc; csrftoken=def"), ("X-Requested-With", "XMLHttpRequest")]),
    ]


@pytest.mark.django_db(transaction=True)
def test_the_lane_answers_what_django_answers(servers, chat):
    with_lane, without = servers
    answered = []
    for number, (path, headers) in enumerate(_requests(chat)):
        before = _hot_reads(with_lane, "contacts") + _hot_reads(with_lane, "conversation-messages")
        assert _comparable(get(with_lane, path, headers)) == _comparable(get(without, path, headers)), (path, headers)
        if _hot_reads(with_lane, "contacts") + _hot_reads(with_lane, "conversation-messages") > before:
            answered.append(number)
    # The plain reads: /contacts with and without CORS (and a broken Origin), over https, JSON accepted, an unused
    # parameter, a valid but unknown user; six message pages (a limit past the maximum is cut
    # to it). Everything else was Django's.
    assert answered == [0, 1, 2, 3, 4, 5, 6, 11, 14, 17, 18, 19, 20, 21, 23]
    assert _hot_reads(without, "contacts") == 0
    # On PostgreSQL the lists and pages were read on the event loop but for the first read of
    # each query, which compiles it on a worker thread (one contact list, at most four kinds of
    # page); SQLite reads on worker threads only.
    samples = metric_samples(with_lane)
    for view, compiled_on_a_thread in (("contacts", 1), ("conversation-messages", 4)):
        on_loop = samples.get(("biosync_http_hot_reads_on_loop_total", (("view", view),)), 0)
        if connection.vendor == "postgresql":
            assert _hot_reads(with_lane, view) - compiled_on_a_thread <= on_loop <= _hot_reads(with_lane, view), view
        else:
            assert on_loop == 0


@pytest.mark.django_db(transaction=True)
def test_an_answer_of_the_lane_is_counted_and_logged_like_djangos(servers, chat):
    with_lane, _ = servers
    me = ("x-clerk-id", chat["me"].clerk_id)
    labels = (("method", "GET"), ("status", "200"), ("view", "contacts"))
    view = ("django_http_responses_total_by_status_view_method_total", labels)
    lane = ("biosync_http_hot_reads_total", (("view", "contacts"),))
    before = metric_samples(with_lane)
    status, _, body = get(with_lane, "/contacts?secret=term", [me])
    assert status == 200 and b"Bobby" in body
    after = metric_samples(with_lane)
    assert after[lane] == before.get(lane, 0) + 1
    assert after[view] == before.get(view, 0) + 1
    # Django's answer (the browsable API) is counted by Django's middleware, not by the lane.
    status, _, _ = get(with_lane, "/contacts", [me, ("Accept", "text/html")])
    assert status == 200
    again = metric_samples(with_lane)
    assert (again[view], again[lane]) == (after[view] + 1, after[lane])
    lines = [line for line in with_lane.log().splitlines() if '"path": "/contacts"' in line]
    assert lines and '"status": 200' in lines[-1] and '"method": "GET"' in lines[-1]
    assert "secret" not in with_lane.log()  # the query string is never logged


@pytest.mark.django_db
def test_the_hot_bodies_hold_only_what_orjson_writes_as_drf_does(chat, mark_online, make_user):
    """Online contacts included (their status was an enum member, which sent every body to DRF's
    slower encoder): the lane answers only bodies `list_json_bytes` can write."""
    me = chat["me"]
    friend = make_user("friend")
    contact_add(owner_id=me.clerk_id, contact_clerk_id=friend.clerk_id)
    mark_online(friend)
    body = contacts_list_body(owner_id=me.clerk_id)
    assert {row["status"] for row in body["contacts"]} == {"online", "offline"}
    assert list_json_bytes(body) is not None
    page = conversation_messages_body(
        clerk_id=me.clerk_id, conversation_id=str(chat["conversation"]), query=QueryDict()
    )
    assert len(page["messages"]) == 4
    assert list_json_bytes(page) is not None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
async def test_the_contact_list_read_on_the_event_loop_is_the_one_read_on_a_thread(chat, mark_online, make_user):
    me = chat["me"]
    friend, blocker = [await database_sync_to_async(make_user)(name) for name in ("friend", "blocker")]
    for contact in (friend, blocker):
        await database_sync_to_async(contact_add)(owner_id=me.clerk_id, contact_clerk_id=contact.clerk_id)
        mark_online(contact)
    await database_sync_to_async(user_block)(blocker_id=blocker.clerk_id, blocked_id=me.clerk_id)
    try:
        on_a_thread = await database_sync_to_async(contacts_list_body)(owner_id=me.clerk_id)  # compiles the query
        on_the_loop = await acontacts_list_body(owner_id=me.clerk_id)
    finally:
        await asyncdb.close()
    assert on_the_loop == on_a_thread
    # Online, offline, and online but hidden from me by someone who blocks me.
    statuses = {row["contactClerkId"]: row["status"] for row in on_the_loop["contacts"]}
    assert (statuses[friend.clerk_id], statuses[blocker.clerk_id]) == ("online", "offline")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
async def test_a_message_page_read_on_the_event_loop_is_the_one_read_on_a_thread(chat, mark_online, make_user):
    me = chat["me"]
    blocker = await database_sync_to_async(make_user)("blocker")
    blocked_chat = await database_sync_to_async(message_send)(
        sender_id=blocker.clerk_id, recipient_id=me.clerk_id, text="hi"
    )
    await database_sync_to_async(user_block)(blocker_id=blocker.clerk_id, blocked_id=me.clerk_id)
    for user in (chat["ann"], blocker):
        mark_online(user)  # the page asks which of its users block me only when they are online
    pages = []
    try:
        for conversation_id, query in ((chat["conversation"], "limit=2"), (blocked_chat.message.conversation_id, "")):
            args = {"clerk_id": me.clerk_id, "conversation_id": str(conversation_id), "query": QueryDict(query)}
            on_a_thread = await database_sync_to_async(conversation_messages_body)(**args)  # compiles the queries
            pages.append((on_a_thread, await aconversation_messages_body(**args)))
    finally:
        await asyncdb.close()
    assert [on_the_loop for _, on_the_loop in pages] == [on_a_thread for on_a_thread, _ in pages]
    assert [page["otherUser"]["status"] for page, _ in pages] == ["online", "offline"]
    assert (len(pages[0][0]["messages"]), pages[0][0]["hasMore"]) == (2, True)


async def test_a_query_string_that_is_no_utf8_is_djangos_400():
    """uvicorn and daphne refuse such a request line themselves; an ASGI server that hands the
    raw bytes on gets Django's 400 from the lane's route, not an error of the lane."""
    lane = HotReads(SingleHopASGIHandler())

    async def app(scope, receive, send):  # a coroutine function: asgiref takes it for ASGI 3
        await lane(scope, receive, send)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/contacts", "raw_path": b"/contacts", "query_string": b"x=\xff", "root_path": "",
             "headers": [(b"host", b"127.0.0.1"), (b"x-clerk-id", b"user_a")], "server": ("127.0.0.1", 80)}  # fmt: skip
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(10)
    assert start["type"] == "http.response.start" and start["status"] == 400


@pytest.fixture(scope="module")
def clerk_servers(asgi_server_factory):
    """(with the lane, without it) in clerk mode, verifying tokens of `CLERK_KEY`."""
    clerk = {
        "AUTH_MODE": "clerk",
        "CLERK_JWT_KEY": CLERK_KEY.public_pem.replace("\n", "\\n"),
        "CLERK_ISSUER": ISSUER,
        "CLERK_AUTHORIZED_PARTIES": PARTY,
    }
    return asgi_server_factory(**clerk), asgi_server_factory(**clerk, HTTP_HOT_READS="false")


@pytest.mark.django_db(transaction=True)
def test_in_clerk_mode_the_lane_accepts_exactly_the_tokens_django_accepts(clerk_servers, make_user):
    with_lane, without = clerk_servers
    me, other = make_user("token"), make_user("other")
    contact_add(owner_id=me.clerk_id, contact_clerk_id=other.clerk_id)
    valid = CLERK_KEY.mint(me.clerk_id)
    cases = [
        [("Authorization", f"Bearer {valid}")],
        [("Authorization", f"Bearer {valid}"), ("x-clerk-id", other.clerk_id)],
    ]
    cases += [
        [("Authorization", f"Bearer {token}")] for token in bad_tokens(CLERK_KEY, FORGER_KEY, me.clerk_id).values()
    ]
    cases += [[("x-clerk-id", me.clerk_id)], [("Authorization", valid)]]
    lane_before = metric_samples(with_lane).get(("biosync_http_hot_reads_total", (("view", "contacts"),)), 0)
    for headers in cases:
        answer = get(with_lane, "/contacts", headers)
        assert answer == get(without, "/contacts", headers), headers
        assert answer[0] == (200 if headers[0][1] == f"Bearer {valid}" else 401), headers
    assert b'"contactClerkId":"' + other.clerk_id.encode() in get(with_lane, "/contacts", cases[0])[2]
    # The two valid ones, and the read just above.
    assert metric_samples(with_lane)[("biosync_http_hot_reads_total", (("view", "contacts"),))] == lane_before + 3
