"""Hostile uploads (issue 11, "Abuse, load and faults"): the time and memory a worker spends refusing them.

    .venv/bin/python benchmarks/hostile_uploads.py

Each case runs in its own child process, as a gunicorn worker would handle one request, and calls what the
page calls on the uploaded bytes:

- ``zip-bomb``: the verify page (``evidence.packs.verify.verify_pack_file``) on a ~23 MB "evidence pack" whose
  12 data files, listed in its manifest, inflate to ~2 GB of zeros each (the upload that held a worker until it
  was killed at 30 s);
- ``workbook-cells``: "fill my template" (``evidence.answers.template.fill_template``) on a ~100 KB workbook
  whose AI-CAIQ sheet inflates to 100 MB of empty cells over a whole-grid dimension (drove a worker past 1 GB);
- ``workbook-strings``: the same with 8 million shared strings; ``workbook-styles``: with 2 million styles.

For each: wall-clock seconds of the call, the child's peak RSS (``ru_maxrss``) and how much the call raised it
above the peak before the call (the hostile file is built in memory first), and the start of the refusal. The
targets are 2 s and 200 MB; the script exits 1 when a case misses one, or when a case is not refused.
No database or broker is needed (neither function touches them).

    .venv/bin/python benchmarks/hostile_uploads.py --http

measures the zip bomb the way it was found: a throwaway embedded installation (SQLite, file broker) served by
gunicorn with two sync workers (30 s timeout), an auditor logged in, two uploads of the bomb to the verify page
at once while ``/healthz`` is polled. It prints each upload's time, the slowest ``/healthz`` answer during them
and each worker's peak RSS (``VmHWM``) and how much the uploads added to it; exits 1 past 2 s or 200 MB.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 2.0
TARGET_MB = 200.0
CASES = ("zip-bomb", "workbook-cells", "workbook-strings", "workbook-styles")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def child(case: str) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cek.settings")
    os.environ.setdefault("CEK_DEBUG", "1")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import io

    from evidence.answers.template import TemplateError, fill_template
    from evidence.packs.verify import verify_pack_file
    from tests.hostile_files import hostile_workbook, zip_bomb_pack

    if case == "zip-bomb":
        data = zip_bomb_pack()
    elif case == "workbook-cells":
        data = hostile_workbook(cells=25_000_000)
    elif case == "workbook-strings":
        data = hostile_workbook(cells=10, shared_strings=8_000_000)
    else:
        data = hostile_workbook(cells=10, styles=2_000_000)
    before = _rss_mb()
    started = time.monotonic()
    if case == "zip-bomb":
        report = verify_pack_file(io.BytesIO(data))
        refused, message = not report.ok and not report.files, " ".join(report.problems)
    else:
        try:
            fill_template(data, question_id="CEK-11.1", values={"C": "YES", "D": "", "E": "", "F": ""})
            refused, message = False, "filled"
        except TemplateError as exc:
            refused, message = True, str(exc)
    seconds = time.monotonic() - started
    peak = _rss_mb()
    return {
        "case": case,
        "upload_bytes": len(data),
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(peak, 1),
        "call_added_mb": round(peak - before, 1),
        "refused": refused,
        "message": message[:150],
    }


def _proc_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def http() -> int:
    import socket
    import tempfile
    import threading

    import requests

    sys.path.insert(0, str(ROOT))
    from tests.hostile_files import zip_bomb_pack

    data_dir = tempfile.mkdtemp(prefix="cek-hostile-")
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        CEK_DEBUG="1", CEK_DATA_DIR=data_dir, DJANGO_SETTINGS_MODULE="cek.settings", CEK_HEALTHZ_WORKER_SECONDS="0"
    )
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    create = (
        "from django.contrib.auth.models import Group, User; "
        "u = User.objects.create_user('auditor', password='hostile-uploads-pass-1'); "
        "u.groups.add(Group.objects.get(name='auditors'))"
    )
    subprocess.run([*manage, "shell", "-c", create], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "cek.wsgi", "-w", "2", "--timeout", "30", "-b", f"127.0.0.1:{port}"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/healthz", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.2)
        workers = [int(pid) for pid in Path(f"/proc/{gunicorn.pid}/task/{gunicorn.pid}/children").read_text().split()]
        before = {pid: _proc_kb(pid, "VmHWM") for pid in workers}
        session = requests.Session()
        session.get(f"{base}/accounts/login/")
        session.post(
            f"{base}/accounts/login/",
            data={"username": "auditor", "password": "hostile-uploads-pass-1", "csrfmiddlewaretoken": session.cookies["csrftoken"]},
            headers={"Referer": f"{base}/accounts/login/"},
        )  # fmt: skip
        session.get(f"{base}/evidence/packs/verify/")
        bomb = zip_bomb_pack()
        results: list[tuple[float, int, bool]] = []

        def upload() -> None:
            started = time.monotonic()
            response = session.post(
                f"{base}/evidence/packs/verify/",
                data={"csrfmiddlewaretoken": session.cookies["csrftoken"]},
                files={"file": ("pack.zip", bomb, "application/zip")},
                headers={"Referer": f"{base}/evidence/packs/verify/"},
                timeout=60,
            )
            results.append((time.monotonic() - started, response.status_code, "a zip bomb" in response.text))

        threads = [threading.Thread(target=upload) for _ in range(2)]
        for thread in threads:
            thread.start()
        slowest = 0.0
        while any(thread.is_alive() for thread in threads):
            started = time.monotonic()
            try:
                requests.get(f"{base}/healthz", timeout=30)
            except requests.RequestException:
                pass
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.05)
        for thread in threads:
            thread.join()
        after = {pid: _proc_kb(pid, "VmHWM") for pid in workers}
    finally:
        gunicorn.terminate()
        gunicorn.wait(10)
    missed = False
    for seconds, status, refused in results:
        miss = seconds > TARGET_SECONDS or status != 200 or not refused
        missed |= miss
        print(f"upload of {len(bomb) / 2**20:.1f} MB: {seconds:.2f} s, HTTP {status}, refused as a zip bomb: {refused}")
    print(f"slowest /healthz during the uploads: {slowest:.2f} s")
    for pid in workers:
        added = (after[pid] - before[pid]) / 1024
        missed |= added > TARGET_MB
        print(f"worker {pid}: peak RSS {after[pid] / 1024:.0f} MB, {added:.0f} MB added by the uploads")
    return 1 if missed else 0


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2])))
        return 0
    if len(sys.argv) == 2 and sys.argv[1] == "--http":
        return http()
    missed = False
    print(f"{'case':<18} {'upload':>10} {'seconds':>8} {'peak RSS':>9} {'added':>7}  refusal")
    for case in CASES:
        out = subprocess.run(
            [sys.executable, __file__, "--child", case], capture_output=True, text=True, check=False, cwd=ROOT
        )
        if out.returncode != 0:
            print(f"{case:<18} child failed:\n{out.stderr[-2000:]}")
            missed = True
            continue
        row = json.loads(out.stdout.strip().splitlines()[-1])
        miss = not row["refused"] or row["seconds"] > TARGET_SECONDS or row["call_added_mb"] > TARGET_MB
        missed |= miss
        print(
            f"{case:<18} {row['upload_bytes'] / 1024:>8.0f}KB {row['seconds']:>8.3f} {row['peak_rss_mb']:>7.0f}MB "
            f"{row['call_added_mb']:>5.0f}MB  {'MISS ' if miss else ''}{row['message'][:90]}"
        )
    print(f"targets: refused, under {TARGET_SECONDS} s and {TARGET_MB:.0f} MB added per call")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
