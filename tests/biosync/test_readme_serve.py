"""The README's first command (`scripts/serve`) serves the existing frontend's whole flow.

REST on PORT and Socket.IO on SOCKET_PORT, as the frontend's defaults expect, driven the way the
frontend drives them: profile, contact, connect + register_user, typing, send, receive, read,
a reconnect with a delivery notice, and the REST catch-up.
"""

import asyncio
import os
import signal
import subprocess
import uuid

import aiohttp
import pytest
from django.conf import settings

from tests.chat.realtime.client import Client
from tests.conftest import ROOT, AsgiServer, free_port, shared_database_url, wait_until_up


@pytest.fixture
def served(django_db_setup, django_db_blocker, tmp_path):
    with django_db_blocker.unblock():
        database_url = shared_database_url()
    api_port, socket_port = free_port(), free_port()
    log_path = tmp_path / "serve.log"
    env = {
        **os.environ,
        "PORT": str(api_port),
        "SOCKET_PORT": str(socket_port),
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_KEY_PREFIX": settings.REDIS_KEY_PREFIX,
    }
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            ["bash", str(ROOT / "scripts" / "serve")], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    api = AsgiServer(url=f"http://127.0.0.1:{api_port}", port=api_port, process=process, log_path=log_path)
    socket = AsgiServer(url=f"http://127.0.0.1:{socket_port}", port=socket_port, process=process, log_path=log_path)
    try:
        wait_until_up(api, timeout=120)
        wait_until_up(socket, timeout=30)
        yield api.url, socket.url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


async def rest(session, method, url, clerk_id, **kwargs):
    async with session.request(method, url, headers={"x-clerk-id": clerk_id}, **kwargs) as response:
        return response.status, await response.json()


@pytest.mark.django_db(transaction=True)
async def test_frontend_flow_against_scripts_serve(served):
    api_url, socket_url = served
    ana, ben = f"user_ana_{uuid.uuid4().hex[:6]}", f"user_ben_{uuid.uuid4().hex[:6]}"
    async with aiohttp.ClientSession() as http:
        assert (await rest(http, "GET", f"{api_url}/users/me", ana)) == (200, None)
        for clerk_id, paralyzed in ((ana, True), (ben, False)):
            status, profile = await rest(http, "POST", f"{api_url}/users", clerk_id, json={"isParalyzed": paralyzed})
            assert status == 200 and profile["clerkId"] == clerk_id
        status, added = await rest(http, "POST", f"{api_url}/contacts", ana, json={"contactClerkId": ben})
        assert status == 200 and added["success"] is True

        a, b = Client(socket_url), Client(socket_url)
        await (await a.connect()).register(ana)
        await (await b.connect()).register(ben)

        await a.emit("typing_start", {"fromClerkId": ana, "toClerkId": ben})
        typing = await b.next("user_typing")
        assert typing == {"userId": ana, "fromClerkId": ana, "isTyping": True}

        await a.emit("send_message", {"fromClerkId": ana, "toClerkId": ben, "text": "yes"})
        sent = await a.next("message_sent")
        assert (await a.next("message_delivered"))["status"] == "delivered"
        received = await b.next("receive_message")
        assert received["messageId"] == sent["messageId"]
        assert (received["fromClerkId"], received["toClerkId"], received["content"]) == (ana, ben, "yes")

        await b.emit("mark_as_read", {"messageIds": [received["messageId"]]})
        read = await a.next_matching("message_delivered", lambda p: p["status"] == "read")
        assert read["messageId"] == sent["messageId"]

        await a.close()
        # The server has let ana go once her contact hears it (the first message made ben one).
        gone = await b.next_matching("user_status", lambda p: p["clerkId"] == ana and p["status"] == "offline")
        assert gone["lastSeen"]
        await b.emit("send_message", {"fromClerkId": ben, "toClerkId": ana, "text": "are you there?"})
        waiting = await b.next("message_sent")
        assert (await b.next("message_delivered"))["status"] == "saved"

        a = Client(socket_url)
        await (await a.connect()).register(ana)
        notice = await b.next_matching("message_delivered", lambda p: p["messageId"] == waiting["messageId"])
        assert notice["status"] == "delivered"

        status, page = await rest(
            http, "GET", f"{api_url}/conversations/with/{ben}/messages?after={sent['messageId']}", ana
        )
        assert status == 200
        assert [(m["id"], m["isMine"], m["content"]) for m in page["messages"]] == [
            (waiting["messageId"], False, "are you there?")
        ]
        status, contacts = await rest(http, "GET", f"{api_url}/contacts", ana)
        assert contacts["contacts"][0]["contactClerkId"] == ben and contacts["contacts"][0]["status"] == "online"
        await asyncio.gather(a.close(), b.close())
