"""Browsers on the frontend's origin may call the API; other origins get no CORS grant."""

import pytest

FRONTEND = "http://localhost:3001"


@pytest.fixture(autouse=True)
def frontend_origin(settings):
    settings.CORS_ALLOWED_ORIGINS = [FRONTEND]


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "DELETE"])
def test_preflight_from_the_frontend_allows_the_identity_headers(client, method):
    response = client.options(
        "/contacts",
        HTTP_ORIGIN=FRONTEND,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-clerk-id, authorization, content-type",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == FRONTEND
    allowed_headers = {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"x-clerk-id", "authorization", "content-type"} <= allowed_headers
    assert method in response["Access-Control-Allow-Methods"]


@pytest.mark.django_db
def test_actual_request_from_the_frontend_gets_the_origin_back(client, make_user):
    me = make_user("cors")
    response = client.get("/users/me", HTTP_ORIGIN=FRONTEND, HTTP_X_CLERK_ID=me.clerk_id)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == FRONTEND
    # Errors reach the browser's JavaScript too.
    unauthenticated = client.get("/contacts", HTTP_ORIGIN=FRONTEND)
    assert unauthenticated.status_code == 401
    assert unauthenticated["Access-Control-Allow-Origin"] == FRONTEND


@pytest.mark.parametrize("origin", ["http://evil.example", "http://localhost:3000", "https://localhost:3001", "null"])
def test_other_origins_get_no_allow_origin(client, origin):
    preflight = client.options(
        "/contacts",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-clerk-id",
    )
    assert "Access-Control-Allow-Origin" not in preflight
    response = client.get("/", HTTP_ORIGIN=origin)
    assert "Access-Control-Allow-Origin" not in response
