"""Configuration variables take effect (each case in a fresh interpreter, as a server would start)."""

import json
import subprocess
import sys

import pytest

from biosync.env import ConfigError, StrictEnv
from tests.conftest import ROOT, environ_without_config

PROBE = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST"), "port": db.get("PORT"),
    "pool": (db.get("OPTIONS") or {}).get("pool"), "conn_max_age": db.get("CONN_MAX_AGE"),
    "port_http": settings.PORT, "socket_port": settings.SOCKET_PORT, "cors": settings.CORS_ALLOWED_ORIGINS,
    "redis": settings.REDIS_URL, "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "auth_mode": settings.AUTH_MODE, "debug": settings.DEBUG, "hosts": settings.ALLOWED_HOSTS,
    "secret": settings.SECRET_KEY, "max_len": settings.MESSAGE_MAX_LENGTH,
}))
"""


def probe(env: dict, cwd=ROOT) -> dict:
    clean = environ_without_config(DJANGO_SETTINGS_MODULE="biosync.settings", PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env={**clean, **env}, cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_defaults_are_the_embedded_setup(tmp_path):
    config = probe({}, cwd=tmp_path)
    assert config["engine"] == "django_prometheus.db.backends.sqlite3"
    assert config["port_http"] == 3000 and config["socket_port"] == 3002
    assert config["cors"] == ["http://localhost:3001"]
    assert config["redis"] == "" and config["layer"] == "channels.layers.InMemoryChannelLayer"
    assert config["auth_mode"] == "dev"
    assert config["debug"] is False
    assert config["max_len"] == 4000


def test_empty_database_url_means_the_embedded_default(tmp_path):
    assert probe({"DATABASE_URL": ""}, cwd=tmp_path)["engine"] == "django_prometheus.db.backends.sqlite3"


def test_postgres_url_uses_psycopg_with_a_pool():
    config = probe({"DATABASE_URL": "postgres://bob:pw@db.example:6543/chat"})
    assert config["engine"] == "django_prometheus.db.backends.postgresql"
    assert (config["name"], config["host"], config["port"]) == ("chat", "db.example", 6543)
    assert config["pool"]["max_size"] >= 4
    assert config["conn_max_age"] == 0


def test_sqlite_url_path(tmp_path):
    path = tmp_path / "other.sqlite3"
    config = probe({"DATABASE_URL": f"sqlite:///{path}"})
    assert config["engine"] == "django_prometheus.db.backends.sqlite3" and config["name"] == str(path)


def test_variables_take_effect():
    config = probe(
        {
            "PORT": "4000",
            "SOCKET_PORT": "4002",
            "CORS_ORIGIN": "https://a.example, https://b.example",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
            "AUTH_MODE": "clerk",
            "DEBUG": "true",
            "SECRET_KEY": "s" * 50,
            "ALLOWED_HOSTS": "api.example,localhost",
            "MESSAGE_MAX_LENGTH": "10",
        }
    )
    assert (config["port_http"], config["socket_port"]) == (4000, 4002)
    assert config["cors"] == ["https://a.example", "https://b.example"]
    assert config["redis"] == "redis://127.0.0.1:6379/3"
    assert config["layer"] == "channels_redis.core.RedisChannelLayer"
    assert config["auth_mode"] == "clerk" and config["debug"] is True
    assert config["secret"] == "s" * 50 and config["hosts"] == ["api.example", "localhost"]
    assert config["max_len"] == 10


def test_auth_mode_defaults_to_clerk_when_a_key_is_configured():
    assert probe({"CLERK_JWKS_URL": "https://clerk.example/.well-known/jwks.json"})["auth_mode"] == "clerk"


def test_dotenv_file_is_read_and_environment_wins(dotenv_file):
    dotenv_file.write_text("PORT=4100\nSOCKET_PORT=4102\n")
    config = probe({"SOCKET_PORT": "4200"})
    assert config["port_http"] == 4100
    assert config["socket_port"] == 4200


def test_bad_auth_mode_refuses_to_start():
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=environ_without_config(AUTH_MODE="open", DJANGO_SETTINGS_MODULE="biosync.settings", PYTHONPATH=str(ROOT)),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0 and "AUTH_MODE" in out.stderr


@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("PORT", "abc", "PORT must be a whole number, not 'abc'"),
        ("DEBUG", "maybe", "DEBUG must be true or false, not 'maybe'"),
        ("SOCKET_PORT", "70000", "SOCKET_PORT must be from 1 to 65535, not 70000"),
        (
            "DATABASE_URL",
            "mysql://u:secret@h/db",
            "DATABASE_URL must be a URL starting with postgres://, postgresql:// or sqlite://",
        ),
        (
            "REDIS_URL",
            "redis+sentinel://:secret@127.0.0.1:26379/0",
            "REDIS_URL: a Sentinel URL ends with /<db>/<service>, the name the sentinels monitor",
        ),
        (
            "REDIS_URL",
            "redis+sentinel://:secret@127.0.0.1/0/biosync",
            "REDIS_URL: a Sentinel URL lists host:port pairs (not enough values to unpack (expected 2, got 1))",
        ),
    ],
)
def test_a_value_that_does_not_parse_is_one_line_naming_it(variable, value, message):
    out = subprocess.run(
        [sys.executable, "manage.py", "check"],
        env=environ_without_config(**{variable: value}),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert out.stderr.splitlines() == [f"configuration error: {message}"]
    assert "secret" not in out.stderr  # a URL's password stays out of the message


@pytest.mark.parametrize("variable, value", [("PORT", "abc"), ("DEBUG", "maybe")])
def test_the_server_refuses_a_bad_value_in_one_line_too(variable, value):
    out = subprocess.run(
        [sys.executable, "-m", "biosync.serve"],
        env=environ_without_config(**{variable: value}),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1 and out.stdout == ""
    assert len(out.stderr.splitlines()) == 1 and out.stderr.startswith(f"configuration error: {variable} must be")


def test_values_are_read_strictly():
    env = StrictEnv()
    env.ENVIRON = {
        "ON": " YES ",
        "OFF": "off",
        "ZERO": "0",
        "EMPTY": "",
        "RATE": "1e3",
        "HOSTS": " a , ,b ",
        "BAD": "maybe",
    }
    assert [env.bool(name, default=None) for name in ("ON", "OFF", "ZERO")] == [True, False, False]
    assert env.bool("EMPTY", default=True) is True and env.bool("MISSING", default=False) is False
    assert env.float("RATE", default=0.0) == 1000.0  # django-environ alone reads 13.0
    assert env.list("HOSTS", default=[]) == ["a", "b"]
    with pytest.raises(ConfigError, match=r"^BAD must be true or false, not 'maybe'$"):
        env.bool("BAD", default=False)
    with pytest.raises(ConfigError, match=r"^OFF must be a number, not 'off'$"):
        env.float("OFF", default=1.0)
