"""scripts/serve and scripts/manage as the README prints them: .env under the real environment,
development defaults, and every manage.py command in the README.

Each case runs the real script in bash, from a clean environment, against a real .env file.
"""

import re
import shutil
import socket
import subprocess

import pytest

from tests.conftest import ROOT, environ_without_config, free_port, shared_database_url

SETTINGS = "from django.conf import settings as s; print(s.DEBUG, s.LOG_FORMAT, s.PORT, s.SOCKET_PORT, s.SECRET_KEY)"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "manage"), *args],
        env=environ_without_config(**env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def settings_seen(**env: str) -> list[str]:
    out = manage("shell", "-v", "0", "-c", SETTINGS, **env)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_dotenv_is_read_under_the_environment_and_over_the_development_default(dotenv_file):
    dotenv_file.write_text("PORT=4100\nSOCKET_PORT=4102\n")
    debug, log_format, port, socket_port, _ = settings_seen(SOCKET_PORT="4200")
    assert (port, socket_port) == ("4100", "4200")
    assert (debug, log_format) == ("True", "plain")  # scripts/manage's development default

    dotenv_file.write_text("DEBUG=false\n")
    assert settings_seen()[:2] == ["False", "json"]
    assert settings_seen(DEBUG="true")[:2] == ["True", "plain"]


def test_copying_env_example_changes_no_default(dotenv_file):
    shutil.copy(ROOT / ".env.example", dotenv_file)
    debug, log_format, port, socket_port, secret = settings_seen()
    assert (debug, log_format, port, socket_port) == ("True", "plain", "3000", "3002")
    assert secret.startswith("django-insecure-dev-secret-key")
    assert "daphne listens" not in (ROOT / ".env.example").read_text()


@pytest.mark.django_db  # scripts/serve migrates the test database (already migrated: nothing to do)
def test_scripts_serve_prefers_the_environment_to_dotenv_and_names_a_taken_port(
    dotenv_file, django_db_setup, django_db_blocker
):
    with django_db_blocker.unblock():
        database_url = shared_database_url()
    free = free_port()
    dotenv_file.write_text(f"PORT={free}\nSOCKET_PORT={free}\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run(
            # Were .env to win, the server would start on the free port and never exit.
            ["bash", str(ROOT / "scripts" / "serve")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env=environ_without_config(PORT=str(port), DATABASE_URL=database_url),
        )
    assert out.returncode == 1
    assert out.stderr.splitlines()[-1] == (
        f"PORT: port {port} on 127.0.0.1 is already in use; stop what listens there or set PORT to a free port"
    )
    assert "Traceback" not in out.stderr and "REST on" not in out.stdout


def test_every_manage_command_in_the_readme_is_run_through_scripts_manage():
    readme = (ROOT / "README.md").read_text()
    blocks = "\n".join(re.findall(r"```bash\n(.*?)```", readme, re.S))
    assert "python manage.py" not in blocks and ".venv/bin/python" not in readme
    printed = set(re.findall(r"scripts/manage (\w+)", readme))
    assert {"seed_demo", "chat_stats", "createsuperuser"} <= printed
    out = manage("help", "--commands")
    assert out.returncode == 0, out.stderr
    assert printed <= set(out.stdout.split())
