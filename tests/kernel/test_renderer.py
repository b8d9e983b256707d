"""ListJSONRenderer writes what DRF's JSONRenderer writes, for the bodies it serves."""

from datetime import UTC, datetime

import pytest
from rest_framework.renderers import JSONRenderer

from kernel.api import ListJSONRenderer

BODIES = [
    {"contacts": [{"id": 1, "nickname": None, "isBlocked": False, "unreadCount": 2**40}]},
    {"text": '\x00\x1f\x7f"\\/\n\r\t\b\f é 😀 \u2028 \u2029 <script>', "empty": "", "list": [[], {}, [None, True]]},
    {"when": datetime(2025, 11, 6, 12, 30, tzinfo=UTC)},  # not orjson's to write: DRF's encoder writes it
    {"huge": 2**70},
    [],
]


@pytest.mark.parametrize("body", BODIES)
def test_the_same_bytes_as_drf(body):
    assert ListJSONRenderer().render(body) == JSONRenderer().render(body)


def test_indented_output_is_drfs():
    body = {"a": [1, {"b": "\u2028"}]}
    indented = "application/json; indent=4"
    assert ListJSONRenderer().render(body, indented) == JSONRenderer().render(body, indented)
    assert b"\n    " in ListJSONRenderer().render(body, indented)
