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
    assert all(services[name]["restart"] == "unless-stopped" for name in ("db", "redis", "server", "learner"))


def test_compose_learns_in_a_process_of_its_own_and_not_in_the_servers():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    server, learner = services["server"], services["learner"]
    assert learner["command"] == ["python", "manage.py", "assist_learn"]
    assert learner["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert learner["environment"]["DATABASE_URL"] == server["environment"]["DATABASE_URL"]
    assert server["environment"]["ASSIST_LEARN_IN_SERVER"] == "false"
    assert "ASSIST_LEARN_IN_SERVER" not in learner["environment"]  # the command learns whatever it says


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


def test_compose_runs_two_server_replicas_behind_nginx_with_sticky_sessions():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    server, nginx = services["server"], services["nginx"]
    assert server["deploy"]["replicas"] >= 2
    assert "ports" not in server  # reached only through nginx
    assert server["environment"]["REDIS_URL"].startswith("redis://")  # shared presence and pub/sub
    assert server["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")  # the anchor merged in
    assert server["environment"]["FORWARDED_ALLOW_IPS"] == "*"
    assert nginx["depends_on"]["server"] == {"condition": "service_healthy"}
    assert nginx["restart"] == "unless-stopped"
    assert {"3000:80", "3002:80"} <= set(nginx["ports"])
    (mount,) = nginx["volumes"]
    source, target, _ = mount.split(":")
    assert target == "/etc/nginx/nginx.conf" and (ROOT / source).is_file()


def test_the_nginx_config_upgrades_websockets_and_keeps_polling_sticky():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    upstream = re.search(r"upstream biosync \{(.*?)\n    \}", conf, re.S).group(1)
    assert re.search(r"^\s*(hash \$remote_addr consistent|ip_hash);", upstream, re.M)
    assert re.search(r"^\s*server server:3000\b", upstream, re.M)
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    assert "proxy_http_version 1.1;" in conf
    # Longer than Engine.IO's ping interval + timeout (45 s): the proxy never cuts an idle socket.
    assert int(re.search(r"proxy_read_timeout (\d+)s;", conf).group(1)) > 45
