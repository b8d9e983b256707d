"""Django's ASGI handler, serving each HTTP request in one call to a worker thread.

Every view here is sync (DRF), and so are most middlewares. Django's stock ASGIHandler builds
an async middleware chain, so a request crossed between the event loop and a thread about
fifteen times (request_started's receivers, each MiddlewareMixin's process_request and
process_response, the view, response.close), and each request got a thread of its own
(asgiref's ThreadSensitiveContext). Measured here, that was about a third of a /contacts
request's CPU time.

This handler runs the request the way Django's WSGI handler does — request_started, the sync
middleware chain, the view, and request_finished for a non-streaming response — in one call
to a small pool of reused threads, and only reads the body and sends the response on the event
loop. A thread runs one request from start to finish, so the request's database connection is
taken from the psycopg pool and given back (request_finished → close_old_connections) on
the same thread, as under WSGI.

Streaming responses (WhiteNoise's static files, FileResponse) are sent and closed the stock
way. A client that disconnects mid-request no longer cancels it: a sync view cannot be
interrupted anyway.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse
from django.urls import set_script_prefix


class SingleHopASGIHandler(ASGIHandler):
    def __init__(self):
        base.BaseHandler.__init__(self)
        # The sync chain, as under WSGI: no middleware switches between the loop and a thread.
        self.load_middleware(is_async=False)
        # HTTP_THREADS: enough to overlap database waits, few enough not to fight over the GIL.
        self.executor = ThreadPoolExecutor(max_workers=settings.HTTP_THREADS, thread_name_prefix="http")

    async def handle(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            # sync_to_async (not run_in_executor) so that async_to_sync in a view — an emit to
            # sockets — runs on this event loop.
            response = await sync_to_async(self.respond, thread_sensitive=False, executor=self.executor)(
                scope, body_file
            )
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:
                pass  # the client went away while we sent
            if response.streaming:
                await sync_to_async(response.close, thread_sensitive=False, executor=self.executor)()
        finally:
            body_file.close()

    def respond(self, scope, body_file):
        """The whole request in this thread: the response, closed unless it streams."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        response._handler_class = self.__class__
        if not response.streaming:
            # Its content is in memory: request_finished runs now, in the thread that served it.
            response.close()
        return response
