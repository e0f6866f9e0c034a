#!/usr/bin/env python3
"""The CEK-11 IaC gate for a CI job or a pre-commit hook: one file, standard library only (Python 3.9+).

Copy it into the infrastructure repository (or fetch it from this project) and run one of:

    python3 cek_iac_gate.py --terraform infra/          # runs terraform plan + show -json, then the gate
    python3 cek_iac_gate.py --plan plan.json            # a plan written by `terraform show -json PLANFILE`
    python3 cek_iac_gate.py --directory infra/          # the .tf files themselves (no plan, no credentials)

It sends the plan (or the .tf files, packed as a .tar.gz) to ``$CEK_URL/api/v1/iac-scans/`` with the token in
``$CEK_TOKEN`` (create one with the scope "Record IaC scans only" on the API tokens page, or
``manage.py create_api_token USER --name CI --scope iac-scans``), prints the verdict and exits with the status
the app answers: 0 clean, 1 violations, 2 the input or the request failed. ``--no-record`` runs the gate without
keeping the scan as evidence (what a pre-commit hook wants); ``--report sarif --output results.sarif`` also
writes the report (text, json, sarif or junit) for code scanning or test reports.

The repository and commit default to what GitHub Actions and GitLab CI set (``GITHUB_REPOSITORY``/``GITHUB_SHA``,
``CI_PROJECT_PATH``/``CI_COMMIT_SHA``), else to git's remote and HEAD.
"""

# ruff: noqa: S603, S607 - it runs the user's own terraform (or tofu) and git, as a CI step would
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import uuid
from pathlib import Path

SKIP_FOLDERS = {".terraform", ".git", "node_modules"}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    url, token = os.environ.get("CEK_URL", "").rstrip("/"), os.environ.get("CEK_TOKEN", "")
    if not url or not token:
        return _fail("Set CEK_URL (the app's address) and CEK_TOKEN (an API token that records IaC scans).")
    if not url.startswith(("https://", "http://")):
        return _fail(f"CEK_URL must start with https:// (or http:// on a private network), not {url.split(':')[0]}:")
    try:
        name, field, data = _input(args)
    except (OSError, subprocess.CalledProcessError, ValueError) as exc:
        return _fail(f"Cannot prepare the input: {exc}")
    fields = {
        "repository": args.repository or _repository(),
        "commit": args.commit or _commit(),
        "record": "false" if args.no_record else "true",
    }
    if args.report:
        fields["report_format"] = args.report
    if args.path:
        fields["path"] = args.path
    if not fields["repository"] and args.no_record:
        fields["repository"] = Path.cwd().name or "local"  # only named in the answer: nothing is recorded
    if not fields["repository"]:
        return _fail("Name the repository with --repository (no CI variable or git remote says it).")
    body, content_type = _multipart(fields, field, name, data)
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
        f"{url}/api/v1/iac-scans/",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type, "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:  # noqa: S310 - http(s) only
            answer = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        return _fail(f"The app refused the scan ({exc.code}): {_detail(exc)}")
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        return _fail(f"Cannot reach {url}: {exc}")
    _print(answer)
    if args.report and args.output:
        Path(args.output).write_text(answer.get("report", ""), encoding="utf-8")
    return int(answer.get("exit_status", 2))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Run the CEK-11 key purpose gate on Terraform/OpenTofu.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--plan", help="A plan as `terraform show -json PLANFILE` writes it.")
    source.add_argument("--terraform", metavar="DIR", help="Run `terraform plan` and `show -json` in DIR first.")
    source.add_argument("--directory", metavar="DIR", help="Send DIR's .tf files (with local modules), no plan.")
    parser.add_argument("--path", help="With --directory: the root module's folder inside DIR, when not DIR itself.")
    parser.add_argument("--repository", help="Default: GITHUB_REPOSITORY, CI_PROJECT_PATH or git's origin.")
    parser.add_argument("--commit", help="Default: GITHUB_SHA, CI_COMMIT_SHA or git's HEAD.")
    parser.add_argument("--no-record", action="store_true", help="Run the gate only; keep no evidence.")
    parser.add_argument("--report", choices=("text", "json", "sarif", "junit"), help="Also fetch the report.")
    parser.add_argument("--output", help="With --report: write it to this file.")
    parser.add_argument("--timeout", type=float, default=300.0, help="Seconds to wait for the app (default 300).")
    parser.add_argument("--binary", default=os.environ.get("TF_BINARY", "terraform"), help="terraform or tofu.")
    return parser


def _input(args) -> tuple[str, str, bytes]:
    if args.plan:
        return Path(args.plan).name, "plan", Path(args.plan).read_bytes()
    if args.terraform:
        folder = Path(args.terraform)
        with tempfile.TemporaryDirectory() as scratch:
            plan_file = str(Path(scratch) / "cek.tfplan")
            subprocess.run(
                [args.binary, "plan", "-input=false", "-lock=false", f"-out={plan_file}"],
                cwd=folder,
                check=True,
                stdout=sys.stderr,
            )
            shown = subprocess.run(
                [args.binary, "show", "-json", plan_file], cwd=folder, check=True, capture_output=True
            ).stdout
        return "plan.json", "plan", shown
    return "terraform.tar.gz", "archive", _pack(Path(args.directory))


def _pack(folder: Path) -> bytes:
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for current, folders, files in os.walk(folder):
            folders[:] = sorted(name for name in folders if name not in SKIP_FOLDERS)
            for name in sorted(files):
                if name.endswith(".tf"):
                    path = Path(current) / name
                    archive.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return buffer.getvalue()


def _multipart(fields: dict[str, str], file_field: str, file_name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{file_name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
    )
    parts.append(data)
    parts.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def _repository() -> str:
    for variable in ("GITHUB_REPOSITORY", "CI_PROJECT_PATH", "BUILD_REPOSITORY_NAME"):
        if os.environ.get(variable):
            return os.environ[variable]
    origin = _git("remote", "get-url", "origin").rstrip("/").removesuffix(".git")
    if "://" in origin:  # https://[user@]host/owner/name: the path (credentials in the host part are dropped)
        return origin.split("://", 1)[1].split("/", 1)[-1] if "/" in origin.split("://", 1)[1] else ""
    return origin.split(":", 1)[-1] if ":" in origin else ""  # git@host:owner/name


def _commit() -> str:
    for variable in ("GITHUB_SHA", "CI_COMMIT_SHA", "BUILD_SOURCEVERSION"):
        if os.environ.get(variable):
            return os.environ[variable]
    return _git("rev-parse", "HEAD")


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read().decode("utf-8"))
    except ValueError:
        return exc.reason
    errors = body.get("errors") or {}
    extra = "; ".join(f"{field}: {' '.join(map(str, messages))}" for field, messages in errors.items())
    return body.get("detail", "") + (f" ({extra})" if extra else "")


def _print(answer: dict) -> None:
    print(answer.get("summary", ""))
    for violation in answer.get("violations", []):
        print(f"\n[{violation['rule']}] {violation['key_address']}\n  {violation['message']}")
        for use in violation.get("consumers", []):
            print(f"  - {use['address']} {use['attribute']} -> {use['purpose_class']}")
        print(f"  Fix: {violation['fix']}")
    scan = answer.get("scan")
    if scan:
        print(f"\nRecorded as evidence: {scan['url']}")


def _fail(message: str) -> int:
    print(f"cek-iac-gate: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
