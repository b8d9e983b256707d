"""Settings from the environment: django-environ, made strict.

django-environ reads `.env` and casts values. This subclass adds what the README promises and the
library leaves out: an empty value means unset (`.env.example` leaves many blank), surrounding
spaces are dropped, a bool must be a word we know (django-environ reads `DEBUG=maybe` as false),
and a value that does not parse is a `ConfigError` whose one-line message names the variable,
which `manage.py` and `biosync.serve` print instead of a traceback.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

import environ
from django.core.exceptions import ImproperlyConfigured
from socketio.redis_manager import parse_redis_sentinel_url

TRUE_WORDS = frozenset(environ.Env.BOOLEAN_TRUE_STRINGS)
FALSE_WORDS = frozenset({"false", "off", "no", "n", "0"})
EXPECTED = {bool: "true or false", int: "a whole number", float: "a number"}


def _either(words) -> str:
    return f"{', '.join(words[:-1])} or {words[-1]}"


class ConfigError(ImproperlyConfigured):
    """A variable whose value cannot be used; the message names it."""


class StrictEnv(environ.Env):
    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        value = self.ENVIRON.get(var, "").strip()
        if not value:
            if default is self.NOTSET:
                raise ConfigError(f"{var} must be set")
            return default
        if cast is None and default is not self.NOTSET and default is not None:
            cast = type(default)
        try:
            return self.parse_value(value, cast)
        except ValueError as exc:
            raise ConfigError(f"{var} must be {EXPECTED.get(cast, 'valid')}, not {value!r}") from exc

    @classmethod
    def parse_value(cls, value, cast):
        if cast is bool:
            word = value.lower()
            if word not in TRUE_WORDS | FALSE_WORDS:
                raise ValueError(value)
            return word in TRUE_WORDS
        if cast is float:
            return float(value)  # django-environ drops letters first: "1e3" would read as 13
        if cast is list:
            return [item.strip() for item in value.split(",") if item.strip()]
        return super().parse_value(value, cast)

    def int(self, var, default=environ.Env.NOTSET, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = super().int(var, default=default)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
            raise ConfigError(f"{var} must be {bounds}, not {value}")
        return value

    def service_url(self, var, schemes: tuple[str, ...], default: str = "") -> str:
        """A URL with one of `schemes`; the error leaves the value out, as it may hold a password."""
        value = self.str(var, default=default)
        if value and value.split("://", 1)[0] not in schemes:
            raise ConfigError(f"{var} must be a URL starting with {_either([scheme + '://' for scheme in schemes])}")
        return value

    def sentinel_url_parts(self, var, url: str):
        """(sentinels, service, options) of a `redis+sentinel://` URL, None for another URL."""
        if not url.startswith("redis+sentinel://"):
            return None
        try:
            sentinels, service, options = parse_redis_sentinel_url(url)
        except ValueError as exc:
            raise ConfigError(f"{var}: a Sentinel URL lists host:port pairs ({exc})") from exc
        if not service:
            raise ConfigError(f"{var}: a Sentinel URL ends with /<db>/<service>, the name the sentinels monitor")
        return sentinels, service, options

    def choice(self, var, choices: tuple[str, ...], default: str) -> str:
        value = self.str(var, default=default).lower()
        if value not in choices:
            raise ConfigError(f"{var} must be {_either(choices)}, not {value!r}")
        return value


@contextmanager
def exit_on_config_error():
    """Reading settings inside this ends the process with the bad variable's line, not a traceback."""
    try:
        yield
    except ConfigError as exc:
        sys.exit(f"configuration error: {exc}")
