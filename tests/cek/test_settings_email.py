"""Where e-mail goes, from the environment: SMTP with CEK_EMAIL_HOST, files in CEK_EMAIL_FILE_DIR (the demo), else
the console; read in a fresh interpreter, as a process starting with that environment would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READ = "import json, cek.settings as s; print(json.dumps([s.EMAIL_BACKEND, getattr(s, 'EMAIL_FILE_PATH', '')]))"


def backend(**env) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", READ], env={"CEK_DEBUG": "1", **env}, capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "env,expected",
    [
        ({}, ["django.core.mail.backends.console.EmailBackend", ""]),
        ({"CEK_EMAIL_FILE_DIR": "var/mail"}, ["django.core.mail.backends.filebased.EmailBackend", "var/mail"]),
        (
            {"CEK_EMAIL_HOST": "smtp.example.com", "CEK_EMAIL_FILE_DIR": "var/mail"},
            ["django.core.mail.backends.smtp.EmailBackend", ""],
        ),
    ],
)
def test_the_email_backend_follows_the_environment(env, expected):
    assert backend(**env) == expected
