"""The container files say what the README's Docker section promises (no Docker engine in CI: read them)."""

import re

import yaml

from tests.conftest import ROOT


def test_compose_migrates_once_before_the_server_and_needs_a_secret_key():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    migrate, server = services["migrate"], services["server"]
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"
    assert server["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert "command" not in server  # the image's CMD, which does not migrate
    for service in (migrate, server):
        env = service["environment"]
        assert re.fullmatch(r"\$\{SECRET_KEY:\?.+\}", env["SECRET_KEY"]), env["SECRET_KEY"]
        assert env["DEBUG"] == "${DEBUG:-false}"
    assert all(services[name]["restart"] == "unless-stopped" for name in ("db", "redis", "server"))


def test_the_image_runs_unprivileged_with_a_healthcheck_and_no_migrate():
    dockerfile = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", dockerfile, re.M)
    assert re.search(r'^CMD \["python", "-m", "biosync.serve"\]', dockerfile, re.M)
    assert "migrate" not in "".join(line for line in dockerfile.splitlines() if not line.startswith("#"))


def test_dockerignore_leaves_out_local_state_and_tests():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".venv", "var", "node_modules", ".pytest_cache", "tests", ".env"} <= ignored
