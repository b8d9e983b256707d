"""Shared pieces of the REST layer: strict input fields, the JSON parser, id parsing, timestamps,
and the error schema the OpenAPI document refers to.

Strict fields: DRF's defaults coerce (`"yes"` → True, `5` → "5"); the API refuses wrong JSON
types with a 400 instead, so a client bug shows up at once.
"""

from __future__ import annotations

import re

import orjson
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema_field
from rest_framework import exceptions, parsers, renderers, serializers

from kernel.errors import ServiceError
from kernel.timestamps import iso_z

MAX_BIGINT = 2**63 - 1
_DIGITS = re.compile(r"^[0-9]{1,19}$")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class SafeJSONParser(parsers.JSONParser):
    """JSON bodies only; absurdly nested JSON is a 400 like any other malformed body."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - nested too deeply") from exc


def _not_native(value):
    raise TypeError  # leave every other type to DRF's own encoder


_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS


def list_json_bytes(data) -> bytes | None:
    """The compact JSON bytes DRF's JSONRenderer writes for `data`, written by orjson; None when
    `data` holds anything but strings, integers, booleans, nulls, lists and dicts (a subclass of
    one included), which DRF's encoder must write.

    orjson writes those types byte for byte as DRF does (tests compare the bytes), except U+2028
    and U+2029, which DRF escapes and so does this. A floating-point value may be written in
    another form (1e-05 as 0.00001), so bodies with floats keep DRF's renderer."""
    try:
        body = orjson.dumps(data, default=_not_native, option=_ORJSON_OPTIONS)
    except TypeError:
        return None
    return body.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")


class ListJSONRenderer(renderers.JSONRenderer):
    """DRF's JSON bytes written by orjson (`list_json_bytes`), for the hot list reads (GET
    /contacts, message pages). Any other type, and indented output (the browsable API), falls
    back to DRF's encoder for the whole body."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is not None and self.get_indent(accepted_media_type, renderer_context or {}) is None:
            body = list_json_bytes(data)
            if body is not None:
                return body
        return super().render(data, accepted_media_type, renderer_context)


LIST_RENDERERS = [ListJSONRenderer, renderers.BrowsableAPIRenderer]


@extend_schema_field(OpenApiTypes.DATETIME)
class IsoDateTimeField(serializers.Field):
    """Read-only timestamp as the frontend parses it: 2025-11-06T12:30:00.000Z."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return iso_z(value)


def _no_surrogates(value: str) -> None:
    # Lone surrogates (legal as JSON escapes) cannot be encoded for the database.
    if _SURROGATE.search(value):
        raise serializers.ValidationError("Invalid characters in text.")


class StrictCharField(serializers.CharField):
    """A JSON string, not a number or a boolean turned into one."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(_no_surrogates)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictEmailField(serializers.EmailField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        _no_surrogates(data)
        return super().to_internal_value(data)


class StrictURLField(serializers.URLField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        _no_surrogates(data)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """Only JSON `true` / `false`."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIdField(serializers.IntegerField):
    """A row id in a JSON body: a JSON integer (not a string or a boolean) within bigint."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_BIGINT)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if type(data) is not int:
            self.fail("invalid")
        return super().to_internal_value(data)


class QueryIntegerField(serializers.IntegerField):
    """A query-string integer: decimal digits only, within PostgreSQL's bigint."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_value", MAX_BIGINT)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not _DIGITS.match(data):
            self.fail("invalid")
        value = int(data)
        if value > MAX_BIGINT:
            self.fail("max_value", max_value=MAX_BIGINT)
        return super().to_internal_value(value)


ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_BIGINT}


def parse_id(raw: str, *, name: str = "id") -> int:
    """A row id from the URL: a positive integer that fits a bigint, else a 400."""
    if not isinstance(raw, str) or not _DIGITS.match(raw) or not 0 < int(raw) <= MAX_BIGINT:
        raise ServiceError(f"{name} must be a positive integer", code="invalid_id")
    return int(raw)


def validated(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="One readable sentence.")
    details = serializers.JSONField(required=False, help_text="Per-field errors, when there are several.")


def error_response(description: str, message: str) -> OpenApiResponse:
    return OpenApiResponse(
        ErrorSerializer, description=description, examples=[OpenApiExample(description, value={"error": message})]
    )


BAD_REQUEST = error_response("Bad request", "isParalyzed: Must be a valid boolean.")
UNAUTHORIZED = error_response("No identity", "Authentication credentials were not provided.")
NOT_FOUND = error_response("Not found", "Not found")
