"""What biosync/asgi_handler.py takes from Django's internals, checked so an upgrade fails here.

SingleHopASGIHandler replaces ASGIHandler.__init__ and .handle and calls internals that Django
does not promise to keep (read_body, create_request, send_response, chunk_size, ...). Django is
pinned exactly in requirements.in; when one of these tests fails after moving the pin, re-read
the Django method named in the failure, carry what changed into biosync/asgi_handler.py, run
tests/biosync/test_asgi_handler.py, and only then update the expectation here.
"""

import hashlib
import inspect
import textwrap

import django
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse

from biosync.asgi_handler import SingleHopASGIHandler

RECHECK = "re-check biosync/asgi_handler.py against it (see this file's docstring)"

# sha256 of the source of the stock methods SingleHopASGIHandler replaces, as of Django 5.2.19.
REPLACED = {
    "__init__": "4d30812e5ed7767d",
    "handle": "ab2236e287c805bf",
}

CALLED = {
    "read_body": "(self, receive)",
    "create_request": "(self, scope, body_file)",
    "send_response": "(self, response, send)",
    "get_response": "(self, request)",
    "load_middleware": "(self, is_async=False)",
}


def _fingerprint(function) -> str:
    return hashlib.sha256(textwrap.dedent(inspect.getsource(function)).encode()).hexdigest()[:16]


def test_django_is_the_minor_version_the_handler_was_written_for():
    assert django.VERSION[:2] == (5, 2), f"Django {django.__version__} is not 5.2: {RECHECK}"


def test_the_stock_methods_the_handler_replaces_are_unchanged():
    for name, expected in REPLACED.items():
        got = _fingerprint(getattr(ASGIHandler, name))
        assert got == expected, (
            f"Django {django.__version__} changed ASGIHandler.{name} (fingerprint {got}, was {expected}): "
            f"SingleHopASGIHandler.{name} replaces it, {RECHECK}"
        )


def test_the_internals_the_handler_calls_keep_their_signatures():
    for name, expected in CALLED.items():
        got = str(inspect.signature(getattr(ASGIHandler, name)))
        assert got == expected, f"Django {django.__version__}: ASGIHandler.{name}{got}, was {expected}: {RECHECK}"
    assert str(inspect.signature(get_script_prefix)) == "(scope)", RECHECK
    assert inspect.iscoroutinefunction(ASGIHandler.read_body), RECHECK
    assert inspect.iscoroutinefunction(ASGIHandler.send_response), RECHECK
    assert isinstance(ASGIHandler.chunk_size, int), RECHECK
    assert "block_size" in vars(FileResponse), RECHECK
    assert issubclass(ASGIHandler, base.BaseHandler), RECHECK


def test_the_handler_overrides_only_what_it_means_to():
    overridden = {
        name for name, value in vars(SingleHopASGIHandler).items() if callable(value) and hasattr(ASGIHandler, name)
    }
    assert overridden == set(REPLACED), f"SingleHopASGIHandler overrides {sorted(overridden)}; update REPLACED"
