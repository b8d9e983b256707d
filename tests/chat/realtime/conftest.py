"""Fixtures of the realtime tests: users in the test database and connected clients."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from tests.chat.realtime.client import Client
from tests.chat.realtime.jsclient import JsClient, install_socketio_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["websocket", "polling"])
def transport(request) -> str:
    return request.param


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
async def clients():
    """`await connect(server, clerk_id=None, transport=...)`: a connected (and registered) Client."""
    opened: list[Client] = []

    async def connect(server, clerk_id: str | None = None, transport: str = "websocket") -> Client:
        client = Client(server.url, transport)
        opened.append(client)
        await client.connect()
        if clerk_id is not None:
            await client.register(clerk_id)
        return client

    yield connect
    for client in opened:
        await client.close()


@pytest.fixture
def own_servers(asgi_server_factory):
    """`own_servers(**env)`: a server process for this test alone, stopped when it ends (each
    one holds database connections, which a shared PostgreSQL has few of)."""
    started = []

    def start(**extra_env):
        started.append(asgi_server_factory(**extra_env))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def socketio_client_js():
    install_socketio_client()


@pytest.fixture
async def js(socketio_client_js):
    """`await js(server, clerk_id, **io_options)`: the real socket.io-client, registering as clerk_id."""
    started: list[JsClient] = []

    async def start(server, clerk_id: str, **options) -> JsClient:
        client = await JsClient.start(server.url, clerk_id, **options)
        started.append(client)
        return client

    yield start
    for client in started:
        await client.close()


def db(function):
    """Run an ORM call from an async test."""
    return database_sync_to_async(function)
