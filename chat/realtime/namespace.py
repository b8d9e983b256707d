"""Socket.IO event handlers. PLACEHOLDER (foundation): the realtime issue implements the protocol."""

import socketio


class ChatNamespace(socketio.AsyncNamespace):
    async def on_connect(self, sid, environ, auth=None):
        return True
