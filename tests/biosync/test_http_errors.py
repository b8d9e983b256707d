"""Wrong methods and unknown paths answer JSON errors, with or without DEBUG and CSRF checks."""

import pytest
from django.test import Client


@pytest.fixture
def browser_like():
    """A client that gets Django's CSRF check, as a real caller does (the test client skips it)."""
    return Client(enforce_csrf_checks=True)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
@pytest.mark.parametrize("method", ["post", "delete", "put", "patch"])
def test_probes_refuse_other_methods_with_a_json_405(browser_like, path, method):
    response = getattr(browser_like, method)(path)
    assert response.status_code == 405, response.content
    assert response["Content-Type"] == "application/json"
    assert "not allowed" in response.json()["error"]
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_still_answer_get_and_head(browser_like, path):
    assert browser_like.get(path).status_code == 200
    assert browser_like.head(path).status_code == 200


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_routes_are_a_json_404_even_under_debug(browser_like, settings, debug, method):
    settings.DEBUG = debug  # scripts/serve runs with DEBUG=true
    for path in ("/no/such/route", "/users/me/extra", "/admin", "/static/missing.js"):
        response = getattr(browser_like, method)(path)
        assert response.status_code == 404, (path, response.content[:200])
        assert response.json() == {"error": "Not found"}, path


@pytest.mark.django_db
def test_admin_pages_keep_the_debug_404_page_under_debug(admin_client, settings):
    settings.DEBUG = True
    response = admin_client.get("/admin/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
