"""Moderation seen by live sockets and REST: a staff member acts in the admin of the running
server (over HTTP, with a real login), and the participants' connected clients hear of it.

Acting through the live server works on both backends: the server process emits to its own
sockets, without needing Redis between the test process and the server.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import uuid

import aiohttp
import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from chat.models import Message
from chat.services import message_remove
from tests.chat.realtime.client import Client
from users.models import User
from users.services import user_suspend

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "moderator-password-for-tests"


class StaffSession:
    """A browser-like admin session against the live server: login form, CSRF, cookies.

    Cookies are kept by hand: the server marks them Secure (DEBUG off) and this is plain HTTP.
    """

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies: dict[str, str] = {}
        self.http = aiohttp.ClientSession()

    def _headers(self) -> dict:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    async def request(self, method: str, path: str, data=None) -> tuple[int, str]:
        async with self.http.request(
            method, self.base_url + path, data=data, headers=self._headers(), allow_redirects=False
        ) as response:
            self.cookies.update({name: morsel.value for name, morsel in response.cookies.items()})
            return response.status, await response.text()

    async def _csrf(self, path: str) -> str:
        status, page = await self.request("GET", path)
        assert status == 200, (path, status)
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    async def login(self, username: str, password: str) -> None:
        token = await self._csrf("/admin/login/")
        status, _ = await self.request(
            "POST",
            "/admin/login/?next=/admin/",
            {"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/admin/"},
        )
        assert status == 302 and "sessionid" in self.cookies, "admin login failed"

    async def action(self, changelist: str, action: str, ids: list, **extra) -> str:
        token = await self._csrf(changelist)
        data = [("csrfmiddlewaretoken", token), ("action", action), ("index", "0")]
        data += [("_selected_action", str(i)) for i in ids] + list(extra.items())
        status, _ = await self.request("POST", changelist, data)
        assert status == 302, status
        return (await self.request("GET", changelist))[1]

    async def close(self) -> None:
        await self.http.close()


async def _staff_session(server) -> StaffSession:
    username = f"mod_{uuid.uuid4().hex[:8]}"
    await database_sync_to_async(get_user_model().objects.create_superuser)(
        username, f"{username}@example.com", PASSWORD
    )
    session = StaffSession(server.url)
    await session.login(username, PASSWORD)
    return session


@pytest.fixture
async def staff(asgi_server):
    session = await _staff_session(asgi_server)
    yield session
    await session.close()


@pytest.fixture
async def connect(asgi_server):
    opened: list[Client] = []

    async def open_client(clerk_id: str | None = None) -> Client:
        client = Client(asgi_server.url)
        opened.append(client)
        await client.connect()
        if clerk_id:
            await client.register(clerk_id)
        return client

    yield open_client
    for client in opened:
        await client.close()
    await _disconnects_settled([c.clerk_id for c in opened if c.clerk_id])


async def _disconnects_settled(clerk_ids: list[str], timeout: float = 10.0) -> None:
    """Wait until the server has recorded these users offline.

    Its disconnect handlers write to the database after the client sees the disconnect; the
    test database's flush must not run into them (PostgreSQL reports a deadlock).
    """
    still_online = database_sync_to_async(lambda: User.objects.filter(clerk_id__in=clerk_ids, status="online").exists())
    deadline = asyncio.get_running_loop().time() + timeout
    while await still_online():
        assert asyncio.get_running_loop().time() < deadline, "server did not record the disconnects"
        await asyncio.sleep(0.05)


@pytest.fixture
def pair(make_user):
    return make_user("ann"), make_user("bob")


async def _rest(asgi_server, clerk_id: str, path: str) -> dict:
    async with aiohttp.ClientSession() as http:
        async with http.get(asgi_server.url + path, headers={"x-clerk-id": clerk_id}) as response:
            assert response.status == 200, await response.text()
            return json.loads(await response.text())


async def test_removing_a_message_reaches_both_participants_and_rest(asgi_server, staff, connect, pair):
    ann, bob = pair
    ann_phone, ann_tablet, bob_phone = (
        await connect(ann.clerk_id),
        await connect(ann.clerk_id),
        await connect(bob.clerk_id),
    )
    ack = await bob_phone.send(ann.clerk_id, "a message that breaks the rules")
    assert ack["success"] is True
    message_id, conversation_id = ack["messageId"], ack["conversationId"]

    page = await staff.action("/admin/chat/message/", "remove_messages", [message_id])
    assert "Removed 1 message(s)." in page

    expected = {"messageId": message_id, "conversationId": conversation_id, "deletedBy": "moderator"}
    for client in (ann_phone, ann_tablet, bob_phone):
        assert await client.next("message_deleted") == expected

    for reader in (ann, bob):
        body = await _rest(asgi_server, reader.clerk_id, f"/conversations/{conversation_id}/messages")
        [shown] = [m for m in body["messages"] if m["id"] == message_id]
        assert shown["content"] == "" and shown["removed"] is True
        contacts = await _rest(asgi_server, reader.clerk_id, "/contacts")
        assert all(c["lastMessagePreview"] != "a message that breaks the rules" for c in contacts["contacts"])
    stored = await database_sync_to_async(Message.objects.get)(pk=message_id)
    assert stored.removed_at is not None and stored.content == "a message that breaks the rules"


async def test_suspending_disconnects_refuses_and_lifting_restores(asgi_server, staff, connect, pair):
    ann, bob = pair
    ann_phone, ann_tablet, bob_phone = (
        await connect(ann.clerk_id),
        await connect(ann.clerk_id),
        await connect(bob.clerk_id),
    )

    page = await staff.action("/admin/users/user/", "suspend_users", [ann.clerk_id], reason="Threats")
    assert "Suspended 1 user(s)." in page
    for client in (ann_phone, ann_tablet):
        await asyncio.wait_for(client.disconnected.wait(), 10)
    assert bob_phone.sio.connected

    # A new connection cannot register as the suspended user.
    again = await connect()
    await again.emit("register_user", {"clerkId": ann.clerk_id})
    refused = await again.next("registered")
    assert refused["success"] is False and refused["error"] == "This account is suspended and cannot connect"
    # Messaging the suspended user fails clearly.
    ack = await bob_phone.send(ann.clerk_id, "are you there?")
    assert ack["success"] is False and ack["error"] == "Recipient cannot receive messages"
    assert (await bob_phone.next("message_failed"))["error"] == "Recipient cannot receive messages"

    await staff.action("/admin/users/user/", "unsuspend_users", [ann.clerk_id])
    back = await connect(ann.clerk_id)
    ack = await back.send(bob.clerk_id, "I'm back")
    assert ack["success"] is True
    assert (await bob_phone.next("receive_message"))["messageId"] == ack["messageId"]
    user = await database_sync_to_async(User.objects.get)(pk=ann.clerk_id)
    assert user.suspended_at is None


@pytest.mark.redis
async def test_moderation_from_another_process_reaches_the_sockets_through_redis(asgi_server, connect, pair):
    """A service called outside the server (manage.py shell, a command, this test) publishes
    through the emitter's write-only Redis manager."""
    ann, bob = pair
    ann_phone, bob_phone = await connect(ann.clerk_id), await connect(bob.clerk_id)
    ack = await bob_phone.send(ann.clerk_id, "remove me")
    await database_sync_to_async(message_remove)(message_id=ack["messageId"])
    expected = {"messageId": ack["messageId"], "conversationId": ack["conversationId"], "deletedBy": "moderator"}
    assert await ann_phone.next("message_deleted") == expected
    assert await bob_phone.next("message_deleted") == expected

    await database_sync_to_async(user_suspend)(clerk_id=ann.clerk_id, reason="Spam")
    await asyncio.wait_for(ann_phone.disconnected.wait(), 10)
    assert bob_phone.sio.connected


async def test_a_live_send_writes_no_message_text_to_the_server_log(asgi_server, connect, pair):
    ann, bob = pair
    sender, receiver = await connect(ann.clerk_id), await connect(bob.clerk_id)
    secret = f"private medical detail {uuid.uuid4().hex}"
    ack = await sender.send(bob.clerk_id, secret)
    assert (await receiver.next("receive_message"))["content"] == secret
    log = asgi_server.log()
    assert secret not in log and uuid_part(secret) not in log
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(
        e.get("event") == "message.stored" and e["message_id"] == ack["messageId"] and e["length"] == len(secret)
        for e in entries
    )
    # The socket event itself is one line too, with its outcome and timing.
    assert any(
        e.get("event") == "socket.event"
        and e["socket_event"] == "send_message"
        and e["sid"] == sender.sid
        and e["outcome"] == "ok"
        and e["duration_ms"] >= 0
        for e in entries
    )


def uuid_part(text: str) -> str:
    return text.rsplit(" ", 1)[1]


class RowLock:
    """A transaction of the test holding one row's lock (SELECT … FOR UPDATE) until released."""

    def __init__(self, model, pk):
        self.locked, self._release = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._hold, args=(model, pk), daemon=True)
        self._thread.start()
        assert self.locked.wait(10)

    def _hold(self, model, pk) -> None:
        try:
            with transaction.atomic():
                model.objects.select_for_update().get(pk=pk)
                self.locked.set()
                self._release.wait(30)
        finally:
            connection.close()

    def release(self) -> None:
        self._release.set()
        self._thread.join(10)


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE cardinality(pg_blocking_pids(pid)) > 0")
        return cursor.fetchone()[0] > 0


@pytest.mark.postgres
async def test_a_suspension_whose_disconnect_handler_is_stuck_delays_no_one_else(asgi_server_factory, pair, make_user):
    # A server of its own: a server caches content type ids, which the flush between tests
    # renews, and the admin's log entry of a second suspension would point at a stale one.
    server = asgi_server_factory()
    staff = await _staff_session(server)
    (ann, bob), cat = pair, await database_sync_to_async(make_user)("cat")
    clients = [Client(server.url) for _ in range(3)]
    ann_phone, bob_phone, cat_phone = clients
    for client, user in zip(clients, (ann, bob, cat)):
        await client.connect()
        await client.register(user.clerk_id)
    waiting = await bob_phone.send(ann.clerk_id, "read me")
    # Ann's read of that message waits for the row's lock: her socket's disconnect handler,
    # queued behind her events, will wait as long.
    lock = await database_sync_to_async(RowLock, thread_sensitive=False)(Message, waiting["messageId"])
    try:
        await ann_phone.emit("mark_as_read", {"messageIds": [waiting["messageId"]]})
        deadline = asyncio.get_running_loop().time() + 10
        while not await database_sync_to_async(_someone_waits_for_a_lock)():
            assert asyncio.get_running_loop().time() < deadline, "ann's read never reached the lock"
            await asyncio.sleep(0.02)

        suspension = asyncio.create_task(
            staff.action("/admin/users/user/", "suspend_users", [ann.clerk_id], reason="Spam")
        )
        await asyncio.wait_for(ann_phone.disconnected.wait(), 1)
        # Meanwhile a message between two other users is delivered at once,
        ack = await bob_phone.send(cat.clerk_id, "still flowing")
        assert (await cat_phone.next("receive_message", timeout=1))["messageId"] == ack["messageId"]
        # and the moderator's request is answered without waiting for the stuck handler.
        assert "Suspended 1 user(s)." in await asyncio.wait_for(suspension, 5)
    finally:
        await database_sync_to_async(lock.release, thread_sensitive=False)()
        await staff.close()
        for client in clients:
            await client.close()
        server.stop()
