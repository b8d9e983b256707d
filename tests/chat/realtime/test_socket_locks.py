"""The namespace's per-socket locks: an event that runs after its socket's disconnect handler
must not leave a lock behind (the dict would grow with every such socket)."""

import pytest
import socketio

from chat.realtime.namespace import ChatNamespace

pytestmark = pytest.mark.django_db(transaction=True)


async def test_events_running_after_their_socket_is_gone_leave_no_lock():
    server = socketio.AsyncServer(async_mode="asgi")
    namespace = ChatNamespace("/")
    server.register_namespace(namespace)

    for cycle in range(200):
        sid = f"gone-{cycle}"
        await namespace.on_disconnect(sid)
        # python-socketio started these before the disconnect; they run after it.
        await namespace.on_mark_as_read(sid, {"messageIds": [1]})
        await namespace.on_typing_stop(sid, {"toClerkId": "user_x"})

    assert namespace._locks == {}
