"""Identity configuration problems are reported by Django's system checks; PEM keys survive env files."""

import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.conftest import ROOT, environ_without_config
from users.checks import identity_check, identity_deploy_check
from users.identity import IdentityError, verify_session_token


def ids(problems):
    return {problem.id for problem in problems}


def test_dev_mode_without_debug_is_a_warning(settings):
    settings.AUTH_MODE, settings.DEBUG = "dev", False
    assert ids(identity_check()) == {"users.W001"}
    settings.DEBUG = True
    assert ids(identity_check()) == set()


def test_clerk_mode_without_a_key_is_an_error(settings):
    settings.AUTH_MODE, settings.CLERK_JWT_KEY, settings.CLERK_JWKS_URL = "clerk", "", ""
    assert ids(identity_check()) == {"users.E001"}


def test_clerk_mode_with_a_broken_key_is_an_error(settings):
    settings.AUTH_MODE, settings.CLERK_JWT_KEY = (
        "clerk",
        "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----",
    )
    assert ids(identity_check()) == {"users.E002"}


def test_clerk_mode_without_authorized_parties_is_a_deploy_warning(clerk_mode):
    assert ids(identity_check()) == set()
    assert ids(identity_deploy_check()) == set()
    clerk_mode.CLERK_AUTHORIZED_PARTIES = []
    assert ids(identity_deploy_check()) == {"users.W002"}


@pytest.mark.parametrize(
    "mangle",
    [
        lambda pem: pem.replace("\n", "\\n"),  # one line with literal \n, as in many .env files
        lambda pem: pem.replace("\n", " "),  # newlines turned into spaces
        lambda pem: "".join(pem.splitlines()[1:-1]),  # the base64 body alone
    ],
)
def test_a_mangled_pem_still_verifies(clerk_mode, clerk_key, mangle):
    clerk_mode.CLERK_JWT_KEY = mangle(clerk_key.public_pem)
    assert verify_session_token(clerk_key.mint("user_alice")).clerk_id == "user_alice"
    assert ids(identity_check()) == set()


def test_a_broken_or_non_rsa_key_refuses_every_token(clerk_mode, clerk_key):
    clerk_mode.CLERK_JWT_KEY = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
    with pytest.raises(IdentityError, match="not a PEM public key"):
        verify_session_token(clerk_key.mint("user_alice"))
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    clerk_mode.CLERK_JWT_KEY = ec_pem.decode()
    with pytest.raises(IdentityError, match="not an RSA public key"):
        verify_session_token(clerk_key.mint("user_alice"))
    assert ids(identity_check()) == {"users.E002"}


@pytest.mark.parametrize("command, times", [(["check"], 1), (["chat_stats", "--help"], 0)])
def test_a_command_reports_dev_mode_once_and_help_not_at_all(command, times):
    out = subprocess.run(
        [sys.executable, "manage.py", *command],
        env=environ_without_config(AUTH_MODE="dev", DEBUG="false"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    printed = out.stdout + out.stderr
    assert printed.count("identity is NOT verified") == times and printed.count("users.W001") == times
