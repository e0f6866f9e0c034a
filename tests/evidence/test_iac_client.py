"""``scripts/cek_iac_gate.py``, the CI client the README's jobs run, against the real app (pytest-django's live
server): its exit status is the app's verdict, it records the scan with the repository and commit CI sets, writes
the report asked for, packs a folder's .tf files, runs terraform when asked (a stand-in ``terraform`` on PATH: the
binary is not installed here), and exits 2 with one clear line when the input or the token is wrong."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cek.apitokens import api_token_issue
from cek.models import TokenScope
from evidence.iac.models import IacScan
from tests.evidence.iac_support import FIXTURES

pytestmark = pytest.mark.usefixtures("transactional_catalog")

CLIENT = Path(__file__).resolve().parents[2] / "scripts" / "cek_iac_gate.py"


@pytest.fixture
def gate(transactional_catalog, live_server, grc_user, tmp_path):
    _, raw = api_token_issue(user=grc_user, name="CI", scope=TokenScope.IAC_SCANS)
    env = {
        "PATH": os.environ["PATH"],
        "CEK_URL": live_server.url,
        "CEK_TOKEN": raw,
        "GITHUB_REPOSITORY": "acme/payments-infra",
        "GITHUB_SHA": "4f2a9c0e1b7d3a5f6e8c9d0b1a2f3e4d5c6b7a89",
    }

    def run(*args: str, **extra_env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(CLIENT), *args],
            env={**env, **extra_env},
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )

    return run


def test_a_violating_plan_fails_the_job_and_is_recorded_with_the_ci_commit(gate, tmp_path):
    result = gate("--plan", str(FIXTURES / "aws_violating.json"), "--report", "sarif", "--output", "gate.sarif")

    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("FAIL: acme/payments-infra at 4f2a9c0e1b7d: 4 violation(s).")
    assert "[iac-multi-purpose] module.kms.aws_kms_key.this" in result.stdout and "Fix: " in result.stdout
    scan = IacScan.objects.get()
    assert (scan.repository, scan.commit, scan.passed) == (
        "acme/payments-infra",
        "4f2a9c0e1b7d3a5f6e8c9d0b1a2f3e4d5c6b7a89",
        False,
    )
    assert "Recorded as evidence: http" in result.stdout and f"/evidence/iac/scans/{scan.pk}/" in result.stdout
    sarif = json.loads((tmp_path / "gate.sarif").read_text())
    assert len(sarif["runs"][0]["results"]) == 4


def test_a_clean_folder_passes_without_recording_for_a_pre_commit_hook(gate, tmp_path):
    folder = tmp_path / "infra"
    (folder / ".terraform" / "modules").mkdir(parents=True)
    (folder / ".terraform" / "modules" / "cached.tf").write_text('resource "aws_kms_key" "x" {}')  # skipped
    (folder / "main.tf").write_text(
        'resource "aws_kms_key" "logs" {\n  tags = { purpose = "data-encryption" }\n}\n'
        'resource "aws_cloudwatch_log_group" "app" {\n  name = "app"\n  kms_key_id = aws_kms_key.logs.arn\n}\n'
    )

    result = gate("--directory", str(folder), "--no-record")

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("PASS: acme/payments-infra")
    assert "Recorded as evidence" not in result.stdout and not IacScan.objects.exists()


def test_terraform_is_run_when_asked(gate, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "terraform"
    fake.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        '  plan) for arg in "$@"; do case "$arg" in -out=*) : > "${arg#-out=}";; esac; done;;\n'
        f'  show) cat "{FIXTURES / "gcp_clean.json"}";;\n'
        "esac\n"
    )
    fake.chmod(0o755)

    result = gate("--terraform", str(tmp_path), PATH=f"{bin_dir}:{os.environ['PATH']}")

    assert result.returncode == 0, result.stdout + result.stderr
    assert IacScan.objects.get().passed


def test_unreadable_input_and_a_bad_token_exit_2_with_one_line(gate, tmp_path):
    junk = tmp_path / "plan.json"
    junk.write_text("{not json")

    unreadable = gate("--plan", str(junk))
    wrong_token = gate("--plan", str(FIXTURES / "aws_clean.json"), CEK_TOKEN="cek_not-a-real-token-0123456789abc")
    no_url = gate("--plan", str(junk), CEK_URL="")

    assert unreadable.returncode == 2 and "is not JSON" in unreadable.stderr
    assert wrong_token.returncode == 2 and "(401)" in wrong_token.stderr
    assert no_url.returncode == 2 and "Set CEK_URL" in no_url.stderr
    for result in (unreadable, wrong_token, no_url):
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not IacScan.objects.exists()
