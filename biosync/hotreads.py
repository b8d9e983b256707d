"""The hot-read lane: `GET /contacts` and `GET /conversations/{id}/messages` answered in front of
Django's request machinery, with the same bytes and headers.

These two reads are most of a client's REST traffic. Through Django they cost about three times
the old server's CPU per request, spent mostly in the middleware chain (sessions, CSRF, auth and
messages run for the admin's sake), DRF's dispatch and building the request (README,
Performance). Here a request that plainly wants their JSON runs in one worker-thread call:
identity (`users.authentication.rest_identity`, the DRF class's own), the viewset's body
function, orjson. The answer carries the headers Django's middleware and DRF would have added
(security, CORS, Vary, Allow), written here from the same settings (running those middlewares
on each answer cost a tenth of the lane's throughput; README, Performance), is counted in the
same metrics and logged in the same line.

On PostgreSQL both are read on the event loop instead (`acontacts_list_body` and
`aconversation_messages_body`, over kernel.asyncdb and the asyncio Redis client): on a worker
thread, the GIL handovers around its blocking calls are a large share of such a request (README,
Performance). Identity is then decided on the loop in dev mode and on a worker thread in clerk
mode (a token's keys and claims). The first read of each query in a process runs on a thread,
which compiles it; so does the block check of a message page's other user when they are online.

Anything else goes to Django unchanged, and so does a request this lane cannot answer exactly
as Django would: no or bad credentials, a 400 or 404, the browsable API, an unusual Accept,
cookies (the admin's sessions and CSRF), a host not allowed, a redirect to HTTPS. A database
outage is answered here with Django's own 503 (`biosync.middleware.database_unavailable_response`),
not after a second wait for the pool. The viewsets stay the public face: OpenAPI, the browsable
API and every error come from them. Tests compare
both paths' answers. HTTP_HOT_READS=false turns the lane off.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from corsheaders.conf import conf as cors
from corsheaders.middleware import CorsMiddleware
from corsheaders.signals import check_request_enabled
from django.conf import settings
from django.core import signals
from django.http import QueryDict
from django.http.request import split_domain_port, validate_host

from biosync.middleware import database_unavailable_response, request_logged
from chat.api.views import aconversation_messages_body, conversation_messages_body
from contacts.api.views import acontacts_list_body, contacts_list_body
from kernel import asyncdb
from kernel.api import list_json_bytes
from kernel.metrics import hot_read_counted
from kernel.queries import NotCompiled
from users.authentication import rest_identity, rest_identity_needs_io

# The request headers this lane reads, under their request.META names.
_META_NAMES = {b"x-clerk-id": "HTTP_X_CLERK_ID", b"authorization": "HTTP_AUTHORIZATION"}
# Media ranges that make DRF choose its JSON renderer for these views (and nothing else).
_JSON_RANGES = frozenset({"*/*", "application/*", "application/json"})
_cors_lists = CorsMiddleware(lambda request: None)  # corsheaders' own allow-list checks


@dataclass(frozen=True)
class HotRoute:
    pattern: re.Pattern
    view: str  # the URL name: the `view` label of the HTTP metrics
    allow: str  # DRF's Allow header for the route
    body: Callable[[str, re.Match, str], dict]
    # The same body read on the event loop (PostgreSQL).
    abody: Callable[[str, re.Match, str], Awaitable[dict]] | None = None


ROUTES = (
    HotRoute(re.compile(r"/contacts"), "contacts", "GET, POST, HEAD, OPTIONS",
             lambda me, match, query: contacts_list_body(owner_id=me),
             lambda me, match, query: acontacts_list_body(owner_id=me)),
    HotRoute(re.compile(r"/conversations/([^/]+)/messages"), "conversation-messages", "GET, HEAD, OPTIONS",
             lambda me, match, query: conversation_messages_body(clerk_id=me, conversation_id=match[1],
                                                                 query=QueryDict(query)),
             lambda me, match, query: aconversation_messages_body(clerk_id=me, conversation_id=match[1],
                                                                  query=QueryDict(query))),
)  # fmt: skip
# An answer the event loop could not give, for a worker thread to give.
_ON_A_THREAD = object()


def _wants_json(accept: str | None) -> bool:
    if accept is None:
        return True
    for media_range in accept.split(","):
        media_type, _, params = media_range.partition(";")
        if media_type.strip().lower() not in _JSON_RANGES:
            return False
        if params and not all(p.strip().lower().startswith("q=") for p in params.split(";")):
            return False  # `indent=4` and other parameters: DRF's to handle
    return True


def _is_secure(scope, headers: dict) -> bool:
    # As django.http.HttpRequest.scheme decides it.
    if settings.SECURE_PROXY_SSL_HEADER:
        name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = headers.get(name.removeprefix("HTTP_").lower().replace("_", "-").encode())
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") == "https"


def _host_allowed(headers: dict) -> bool:
    host = headers.get(b"host")
    if host is None or settings.USE_X_FORWARDED_HOST or (settings.DEBUG and not settings.ALLOWED_HOSTS):
        return False
    domain, _ = split_domain_port(host)
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)


def _origin_listed(origin: str) -> bool:
    try:
        url = urlsplit(origin)
    except ValueError:  # an origin that is no URL gets no grant, as from CorsMiddleware
        return False
    return _cors_lists.origin_found_in_white_lists(origin, url)


def _middleware_headers(headers: dict, secure: bool, *, vary: str) -> list[tuple[bytes, bytes]]:
    """What SecurityMiddleware, XFrameOptionsMiddleware and CorsMiddleware add to an answer."""
    out = [("vary", vary), ("x-frame-options", settings.X_FRAME_OPTIONS.upper())]
    if secure and settings.SECURE_HSTS_SECONDS:
        hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        hsts += "; includeSubDomains" if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS else ""
        out.append(("strict-transport-security", hsts + ("; preload" if settings.SECURE_HSTS_PRELOAD else "")))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        out.append(("x-content-type-options", "nosniff"))
    if policy := settings.SECURE_REFERRER_POLICY:
        out.append(("referrer-policy", policy if isinstance(policy, str) else ",".join(policy)))
    if policy := settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        out.append(("cross-origin-opener-policy", policy))
    origin = headers.get(b"origin")
    if origin and (cors.CORS_ALLOW_ALL_ORIGINS or _origin_listed(origin)):
        anyone = cors.CORS_ALLOW_ALL_ORIGINS and not cors.CORS_ALLOW_CREDENTIALS
        out.append(("access-control-allow-origin", "*" if anyone else origin))
        if cors.CORS_ALLOW_CREDENTIALS:
            out.append(("access-control-allow-credentials", "true"))
        if cors.CORS_EXPOSE_HEADERS:
            out.append(("access-control-expose-headers", ", ".join(cors.CORS_EXPOSE_HEADERS)))
    if cors.CORS_ALLOW_PRIVATE_NETWORK and headers.get(b"access-control-request-private-network") == "true":
        out.append(("access-control-allow-private-network", "true"))
    return [(name.encode(), value.encode("latin-1")) for name, value in out]  # fmt: skip


def _served_here(scope, headers: dict) -> bool:
    """Whether Django would answer this request with nothing this lane does not do too."""
    return (
        not scope.get("root_path")
        and b"content-length" not in headers
        and b"transfer-encoding" not in headers
        # Cookies are the admin's and the browsable API's (sessions, CSRF), whose middleware may
        # answer them (a malformed CSRF cookie is replaced): Django's.
        and b"cookie" not in headers
        and _wants_json(headers.get(b"accept"))
        and _host_allowed(headers)
        and not settings.PREPEND_WWW
        and not settings.DISALLOWED_USER_AGENTS
        and (not settings.SECURE_SSL_REDIRECT or _is_secure(scope, headers))
        and bool(re.match(cors.CORS_URLS_REGEX, scope["path"]))
        and not check_request_enabled.has_listeners()
    )


class HotReads:
    """ASGI: the hot reads here, every other HTTP request to `django_app` (whose worker threads
    this lane shares: one request, one call to a thread, as there). On PostgreSQL a route with
    an `abody` is read on the event loop instead (kernel.asyncdb), with no worker thread at all
    in dev mode and only for the token in clerk mode."""

    def __init__(self, django_app):
        self.django_app = django_app
        self._answer_async = sync_to_async(self._answer, thread_sensitive=False, executor=django_app.executor)
        self._identify_async = sync_to_async(self._identify, thread_sensitive=False, executor=django_app.executor)

    def __call__(self, scope, receive, send):
        if scope["method"] == "GET" and settings.HTTP_HOT_READS:
            for route in ROUTES:
                match = route.pattern.fullmatch(scope["path"])
                if match is not None:
                    return self._serve(route, match, scope, receive, send)
        return self.django_app(scope, receive, send)

    async def _serve(self, route: HotRoute, match: re.Match, scope, receive, send) -> None:
        started = time.perf_counter()
        headers = {}
        for name, value in scope["headers"]:
            if name in headers:  # Django would join repeated headers: its answer, not ours
                return await self.django_app(scope, receive, send)
            headers[name] = value.decode("latin-1")
        try:
            query = scope.get("query_string", b"").decode()
        except UnicodeDecodeError:  # Django answers it 400 (uvicorn refuses such bytes itself; daphne does not)
            return await self.django_app(scope, receive, send)
        answer, on_loop = None, False
        if _served_here(scope, headers) and "format" not in QueryDict(query):
            meta = {key: headers[name] for name, key in _META_NAMES.items() if name in headers}
            answer = _ON_A_THREAD
            if route.abody is not None and asyncdb.available():
                answer = await self._answer_on_loop(route, match, scope["path"], meta, query)
                on_loop = answer is not _ON_A_THREAD
            if answer is _ON_A_THREAD:
                answer = await self._answer_async(route, match, scope["path"], meta, query)
        if answer is None:
            return await self.django_app(scope, receive, send)
        status, body, answer_headers = answer
        secure = _is_secure(scope, headers)
        vary = "Accept, origin" if status == 200 else "origin"  # DRF adds Accept to the answers it renders
        response_headers = [*answer_headers, *_middleware_headers(headers, secure, vary=vary)]
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": body})
        request_logged(method="GET", path=scope["path"], status=status, started=started)
        hot_read_counted(view=route.view, method="GET", transport="https" if secure else "http", status=status,
                         body_bytes=len(body), seconds=time.perf_counter() - started, on_loop=on_loop)  # fmt: skip

    async def _answer_on_loop(self, route: HotRoute, match: re.Match, path: str, meta: dict, query: str):
        """`_answer` on the event loop; _ON_A_THREAD when only a worker thread can read it."""
        try:
            identity = await self._identify_async(meta) if rest_identity_needs_io() else rest_identity(meta)
            if identity is None:
                return None
            async with asyncdb.request_connection():
                data = await route.abody(identity.clerk_id, match, query)
            return _json_answer(route, data)
        except NotCompiled:  # the first read of a process compiles its query, on a thread
            return _ON_A_THREAD
        except Exception as exc:  # noqa: BLE001 - as in _answer
            return _outage_answer(path, exc)

    def _identify(self, meta: dict):
        with _as_a_request():  # a token's claims may be saved
            return rest_identity(meta)

    def _answer(self, route: HotRoute, match: re.Match, path: str, meta: dict, query: str) -> tuple | None:
        """(status, body, headers), in a worker thread; None for anything Django must answer (its
        errors included: a read has no effect to undo, so Django simply runs it again). The one
        error answered here is the database's outage, with Django's own 503: Django would wait for
        the pool as long again before giving it."""
        with _as_a_request():
            try:
                identity = rest_identity(meta)
                if identity is None:
                    return None
                return _json_answer(route, route.body(identity.clerk_id, match, query))
            except Exception as exc:  # noqa: BLE001 - every other failure is Django's to answer, and it will
                return _outage_answer(path, exc)


@contextmanager
def _as_a_request():
    """Worker-thread work framed as Django's handlers frame a request: the thread's database
    connection is taken from the pool on first use and given back at request_finished."""
    signals.request_started.send(sender=HotReads)
    try:
        yield
    finally:
        signals.request_finished.send(sender=HotReads)


def _json_answer(route: HotRoute, data: dict) -> tuple | None:
    body = list_json_bytes(data)
    if body is None:
        return None
    json_headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    return 200, body, [*json_headers, (b"allow", route.allow.encode())]  # Allow: DRF's


def _outage_answer(path: str, exc: Exception) -> tuple | None:
    """Django's own 503 when `exc` is the database's outage; None (Django's to answer) otherwise."""
    response = database_unavailable_response(method="GET", path=path, exception=exc)
    if response is None:
        return None
    content = response.content
    headers = [(name.lower().encode(), value.encode("latin-1")) for name, value in response.items()]
    return response.status_code, content, [*headers, (b"content-length", b"%d" % len(content))]
