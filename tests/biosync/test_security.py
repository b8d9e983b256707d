"""Django's deployment checks see what a production setup must change."""

import os
import subprocess
import sys

from tests.conftest import ROOT


def _check_deploy(**env) -> str:
    base = {key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "DEBUG"}}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return result.stdout + result.stderr


def test_check_deploy_flags_the_built_in_secret_key():
    # Django's W009 fires only for keys starting "django-insecure-" (or short / low-variety ones).
    assert "security.W009" in _check_deploy()


def test_check_deploy_accepts_a_real_secret_key():
    assert "security.W009" not in _check_deploy(SECRET_KEY="k3Q-" + os.urandom(40).hex())
