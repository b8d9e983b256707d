"""The OpenAPI document at /doc, the documentation pages, and the whole document run against the live app."""

import json
import re
import urllib.request

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

ROUTES = {
    "/": {"get"},
    "/users": {"post"},
    "/users/me": {"get", "patch"},
    "/users/search": {"get"},
    "/blocks": {"get", "post"},
    "/blocks/{clerkId}": {"delete"},
    "/contacts": {"get", "post"},
    "/contacts/{id}": {"patch", "delete"},
    "/conversations": {"get"},
    "/conversations/{id}/messages": {"get"},
    "/conversations/with/{contactClerkId}/messages": {"get"},
    "/conversations/{id}/read": {"post"},
    "/reports": {"post"},
    "/messages/{id}": {"patch", "delete"},
    "/messages/search": {"get"},
    "/sync": {"get"},
    "/assist/suggestions": {"get"},
    "/assist/model": {"delete"},
    "/chat/options": {"post"},
    "/phrases": {"get", "post"},
    "/phrases/{id}": {"patch", "delete"},
    "/users/me/preferences": {"get", "patch"},
}


@pytest.fixture
def document(client):
    response = client.get("/doc")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/") and "json" in response["Content-Type"]
    return response.json()


def test_document_is_valid_openapi_without_generator_warnings(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "openapi.json"
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(out))
    assert json.loads(out.read_text())["paths"]


def test_document_lists_every_route_and_nothing_else(document):
    assert document["openapi"].startswith("3.")
    assert {path: set(ops) for path, ops in document["paths"].items()} == ROUTES


def test_document_has_both_identity_schemes_on_every_route_but_root(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["clerkIdHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-clerk-id",
        "description": schemes["clerkIdHeader"]["description"],
    }
    assert schemes["clerkSessionToken"]["type"] == "http" and schemes["clerkSessionToken"]["scheme"] == "bearer"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path == "/":
                assert not operation.get("security")
                continue
            # /chat/options answers callers without identity too (the frontend sends none).
            optional = [{}] if path == "/chat/options" else []
            assert operation["security"] == [{"clerkIdHeader": []}, {"clerkSessionToken": []}, *optional], (
                method,
                path,
            )
            assert "401" in operation["responses"]


def test_document_describes_the_frontend_fields(document):
    schemas = document["components"]["schemas"]

    def props(name):
        return set(schemas[name]["properties"])

    assert {"clerkId", "isParalyzed", "status", "createdAt"} <= props("Profile")
    assert {
        "id",
        "contactClerkId",
        "contactName",
        "nickname",
        "profileImage",
        "lastMessagePreview",
        "lastMessageAt",
        "unreadCount",
        "status",
        "isParalyzed",
    } <= props("Contact")
    assert {
        "id",
        "fromClerkId",
        "toClerkId",
        "content",
        "messageType",
        "isRead",
        "readAt",
        "createdAt",
        "isMine",
        "removed",
    } <= props("Message")
    assert {"conversationId", "otherUser", "messages"} <= props("MessagesResponse")
    assert {"id", "otherUserClerkId", "createdAt", "lastMessageAt"} <= props("Conversation")
    assert props("Error") == {"error", "details"}
    me = document["paths"]["/users/me"]["get"]["responses"]["200"]["content"]["application/json"]
    assert me["schema"] == {"allOf": [{"$ref": "#/components/schemas/Profile"}], "nullable": True}
    assert me["examples"]
    paging = {p["name"]: p for p in document["paths"]["/conversations/{id}/messages"]["get"]["parameters"]}
    assert set(paging) == {"id", "limit", "offset", "after", "before"}
    assert paging["limit"]["schema"]["minimum"] == 1 and paging["offset"]["schema"]["minimum"] == 0


def test_scalar_page_points_at_the_document(client):
    response = client.get("/scalar")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-url="/doc"' in html and "@scalar/api-reference" in html


EXTERNAL_URL = re.compile(r"""(?:src|href)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""", re.IGNORECASE)


def test_scalar_loads_only_a_pinned_script_checked_by_its_hash(client):
    html = client.get("/scalar").content.decode()
    tags = re.findall(r"<(?:script|link)\b[^>]*>", html)
    external = [tag for tag in tags if EXTERNAL_URL.search(tag)]
    assert external, html  # the check sees the CDN script
    assert EXTERNAL_URL.findall(html) == [EXTERNAL_URL.search(t).group(1) for t in external]
    for tag in external:
        url = EXTERNAL_URL.search(tag).group(1)
        assert re.search(r"@\d+\.\d+\.\d+/", url), url  # an exact version, not "latest"
        assert re.search(r'integrity="sha(384|512)-[A-Za-z0-9+/=]{40,}"', tag), tag
        assert 'crossorigin="anonymous"' in tag, tag
    # Scalar's default fonts would be a request with no hash.
    assert '"withDefaultFonts": false' in html


@pytest.mark.parametrize("path", ["/docs/swagger", "/docs/redoc"])
def test_swagger_and_redoc_reference_no_other_host(client, path):
    html = client.get(path).content.decode()
    assert "<script" in html and EXTERNAL_URL.search('<script src="https://cdn.example/x.js">')  # the check works
    assert EXTERNAL_URL.findall(html) == [], html
    assert "fonts.googleapis" not in html and "fonts.gstatic" not in html


@pytest.mark.parametrize("path", ["/docs/swagger", "/docs/redoc"])
def test_swagger_and_redoc_are_served_offline(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/doc" in html
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert assets, html
    for asset in assets:
        assert asset.startswith("/static/drf_spectacular_sidecar/"), asset  # no CDN
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert b"".join(served.streaming_content if served.streaming else [served.content])


@pytest.mark.django_db
def test_browsable_api_renders_html_for_a_browser_with_the_header(client, make_user):
    me = make_user("browser", full_name="Brow Ser")
    response = client.get("/users/me", HTTP_ACCEPT="text/html", HTTP_X_CLERK_ID=me.clerk_id)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert f"signed in as {me.clerk_id}" in html
    assert "Brow Ser" in html
    anonymous = client.get("/contacts", HTTP_ACCEPT="text/html")
    assert anonymous.status_code == 401
    assert "no identity: send an <code>x-clerk-id</code> header" in anonymous.content.decode()


# --- The whole document against the live server -------------------------------------------------


@pytest.fixture
def live_identity(make_user):
    """A caller with a profile, a contact and a conversation, so bodies are not all empty."""
    from chat.services import message_send
    from contacts.services import contact_add

    me, friend = make_user("fuzz"), make_user("friend")
    contact_add(owner_id=me.clerk_id, contact_clerk_id=friend.clerk_id, nickname="Pal")
    for text in ("hello", "hi back"):
        message_send(sender_id=friend.clerk_id, recipient_id=me.clerk_id, text=text)
    return {"x-clerk-id": me.clerk_id}


OPERATIONS = sorted((method.upper(), path) for path, methods in ROUTES.items() for method in methods)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


# Schemathesis' own pytest loader (`from_fixture`) does not run under pytest 9, so each operation
# of the live document gets a plain Hypothesis test here; the route list test above guarantees
# the parametrization covers the whole document.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("method, path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
# CPython 3.11.7 can raise a spurious "AST constructor recursion depth mismatch" SystemError in
# the test process while Hypothesis generates deep data (python/cpython#106905, fixed in 3.11.8):
# rerun on that error only; any server-side failure still fails at once.
@pytest.mark.flaky(reruns=2, only_rerun=["AST constructor recursion depth mismatch"])
def test_live_app_conforms_to_its_document(asgi_server, live_identity, method, path):
    schema = schemathesis.openapi.from_url(asgi_server.url + "/doc", timeout=10)
    schema.config.generation.update(modes=["positive", "negative"], database="none")
    operation = schema[path][method]

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    @given(
        case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
        | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
    )
    def run(case):
        case.call_and_validate(base_url=asgi_server.url, headers=live_identity, timeout=10, checks=CHECKS)

    run()


@pytest.mark.django_db(transaction=True)
def test_live_document_is_the_same_document(asgi_server, client):
    with urllib.request.urlopen(asgi_server.url + "/doc", timeout=10) as response:
        live_document = json.loads(response.read())
    assert live_document["paths"].keys() == client.get("/doc").json()["paths"].keys()


def test_patch_bodies_document_what_the_routes_require(document, api_as, make_user):
    schemas = document["components"]["schemas"]

    def body_schema(path):
        ref = document["paths"][path]["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return schemas[ref.rsplit("/", 1)[1]]

    # PATCH /contacts/{id} refuses a body without nickname; the document says it is required.
    assert body_schema("/contacts/{id}").get("required") == ["nickname"]
    me, ann = make_user("me"), make_user("ann")
    row = api_as(me).post("/contacts", {"contactClerkId": ann.clerk_id}, format="json").json()["contact"]
    assert api_as(me).patch(f"/contacts/{row['id']}", {}, format="json").status_code == 400
    # PATCH /users/me takes any subset of its fields.
    assert not body_schema("/users/me").get("required")
    assert api_as(me).patch("/users/me", {}, format="json").status_code == 200
