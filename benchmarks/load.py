"""Load test: gunicorn with production settings and PostgreSQL at 100,000 keys, driven by locust (headless).

    DATABASE_URL=postgres://.../THROWAWAY [REDIS_URL=redis://...] .venv/bin/python benchmarks/load.py
        [--keys 100000] [--workers 4] [--threads 4] [--clients 16] [--seconds 60] [--rate 30]

Seeds the demo into the database (``seed_demo --keys N``, demo accounts with published passwords: a THROWAWAY
database only) unless that many generated keys are there, logs the GRC demo user and a key owner in once each
through the login form (logins are throttled: one session per user, shared by all of locust's users of that
role), starts gunicorn on 127.0.0.1 with ``CEK_DEBUG=0`` (a random secret key, ``CEK_ALLOWED_HOSTS=127.0.0.1`` and
``CEK_SSL_REDIRECT=0``: plain HTTP, no TLS proxy; the Secure session cookie is sent as a header) and runs two
phases of the mix in ``benchmarks/locustfile.py`` (dashboard, key list filtered and at any page, key pages, API key
list; half GRC, half the key owner):

a. closed loop: ``--clients`` users, each sending its next request when the last one answered, for ``--seconds``:
   the most requests a second the machine serves (target: at least 60);
b. open load: ``--rate`` users pacing themselves to one request a second each (30 requests a second) for
   ``--seconds``: target p95 under 300 ms and no error.

Prints requests a second, p50/p95/p99 and errors of each phase with the load average; exit status 1 when a target
is missed. The figures include locust itself, on the same machine.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
DEMO_PASSWORDS = {"grc": ("grace", "demo-grace-2026"), "owner": ("olivia", "demo-olivia-2026")}
TARGET_RPS = 60.0
TARGET_P95_MS = 300.0
SAMPLED_KEYS = 500


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def loadavg() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def log_in(port: int, username: str, password: str, cookie_name: str) -> str:
    """The session id of ``username``, logged in through the login form (GET for the CSRF token, then POST)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/accounts/login/")
    response = connection.getresponse()
    html = response.read().decode()
    csrf_cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "").group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username, "password": password})
    connection.request(
        "POST",
        "/accounts/login/",
        body=body,
        headers={"Cookie": f"csrftoken={csrf_cookie}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    response = connection.getresponse()
    response.read()
    cookies = " ".join(response.headers.get_all("Set-Cookie") or [])
    match = re.search(rf"{cookie_name}=([^;]+)", cookies)
    if response.status != 302 or not match:
        raise RuntimeError(f"logging {username} in answered HTTP {response.status}")
    return match.group(1)


def wait_until_up(port: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/accounts/login/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer")


def run_locust(*, port: int, config: Path, mode: str, users: int, seconds: int, out: Path, rate: float = 1) -> dict:
    """One headless locust run; its aggregated figures from the CSV it writes."""
    prefix = out / mode
    env = {**os.environ, "CEK_LOAD_CONFIG": str(config), "CEK_LOAD_MODE": mode, "CEK_LOAD_USER_RATE": str(rate)}
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        f"http://127.0.0.1:{port}",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{seconds}s",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--stop-timeout",
        "30",  # requests in flight when the phase ends finish (they are counted, not cut off)
    ]
    log = out / f"{mode}.log"
    subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    rows = list(csv.DictReader(open(f"{prefix}_stats.csv", encoding="utf-8")))
    if not any(int(row["Request Count"] or 0) for row in rows):
        raise RuntimeError(f"locust sent no request; its log ends:\n{log.read_text()[-3000:]}")
    failures_csv = Path(f"{prefix}_failures.csv")
    if failures_csv.exists():
        for row in csv.DictReader(failures_csv.open(encoding="utf-8")):
            print(f"  failure x{row['Occurrences']}: {row['Method']} {row['Name']}: {row['Error'][:200]}")
    figures = {}
    for row in rows:
        figures[row["Name"]] = {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "rps": float(row["Requests/s"]),
            "p50": float(row["50%"] or 0),
            "p95": float(row["95%"] or 0),
            "p99": float(row["99%"] or 0),
        }
    return figures


def print_phase(title: str, figures: dict) -> None:
    print(f"\n{title}")
    print(f"  {'request':40} {'count':>7} {'errors':>6} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6}")
    for name, f in sorted(figures.items(), key=lambda item: (item[0] == "Aggregated", item[0])):
        print(
            f"  {name:40} {f['requests']:>7} {f['failures']:>6} {f['rps']:>7.1f}"
            f" {f['p50']:>6.0f} {f['p95']:>6.0f} {f['p99']:>6.0f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    parser.add_argument("--clients", type=int, default=16, help="closed-loop users of phase a (default 16)")
    parser.add_argument("--seconds", type=int, default=60, help="length of each phase (default 60)")
    parser.add_argument("--rate", type=int, default=30, help="requests a second of phase b (default 30)")
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("Set DATABASE_URL to a THROWAWAY PostgreSQL database (demo data and accounts go into it).")
        return 2

    data_dir = Path(tempfile.mkdtemp(prefix="cek-load-"))
    env = {
        **os.environ,
        "CEK_DEBUG": "0",
        "CEK_SECRET_KEY": secrets.token_urlsafe(50),
        "CEK_ALLOWED_HOSTS": "127.0.0.1",
        "CEK_SSL_REDIRECT": "0",  # plain HTTP on 127.0.0.1: no TLS proxy in front
        "CEK_DATA_DIR": str(data_dir),
        "CEK_HEALTHZ_WORKER_SECONDS": "0",
        "CEK_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "cek.settings",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from inventory.demo import bulk_keys
    from inventory.models import Key

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("migrate", verbosity=0)
    if bulk_keys().count() < args.keys:
        started = time.monotonic()
        call_command("seed_demo", keys=args.keys, force=True, stdout=open(os.devnull, "w"))
        print(f"seed_demo --keys {args.keys}: {time.monotonic() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    apps_axes = django.apps.apps.get_model("axes", "AccessAttempt")
    apps_axes.objects.all().delete()  # earlier runs' failures must not throttle this run's two logins
    users = {role: get_user_model().objects.get(username=name) for role, (name, _) in DEMO_PASSWORDS.items()}
    visible = {"grc": Key.objects.all(), "owner": Key.objects.filter(owner=users["owner"])}
    rng = random.Random(2026)
    config: dict = {"cookie": settings.SESSION_COOKIE_NAME}
    for role, keys in visible.items():
        ids = list(keys.order_by().values_list("pk", flat=True))
        config[role] = {
            "keys": rng.sample(ids, min(SAMPLED_KEYS, len(ids))),
            "pages": max(1, -(-len(ids) // settings.CEK_PAGE_SIZE)),
        }
    connection.close()
    print(f"keys: {Key.objects.count():,}; the key owner sees {len(visible['owner']):,}")

    port = free_port()
    server_log = open(data_dir / "gunicorn.log", "w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "cek.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
        stdout=server_log,
        stderr=server_log,
    )
    misses: list[str] = []
    try:
        wait_until_up(port)
        for role, (name, password) in DEMO_PASSWORDS.items():
            config[role]["session"] = log_in(port, name, password, settings.SESSION_COOKIE_NAME)
        config_path = data_dir / "load.json"
        config_path.write_text(json.dumps(config))
        print(f"gunicorn: {args.workers} workers x {args.threads} threads on port {port}; CEK_DEBUG=0")
        run_locust(port=port, config=config_path, mode="closed", users=4, seconds=10, out=data_dir)  # warm-up

        before = loadavg()
        closed = run_locust(
            port=port, config=config_path, mode="closed", users=args.clients, seconds=args.seconds, out=data_dir
        )
        print_phase(
            f"a. closed loop, {args.clients} users, {args.seconds} s (load average {before} -> {loadavg()})", closed
        )
        total = closed["Aggregated"]
        if total["rps"] < TARGET_RPS:
            misses.append(f"closed loop: {total['rps']:.1f} requests/s < {TARGET_RPS:.0f}")
        if total["failures"]:
            misses.append(f"closed loop: {total['failures']} errors")

        before = loadavg()
        opened = run_locust(
            port=port, config=config_path, mode="open", users=args.rate, seconds=args.seconds, out=data_dir, rate=1
        )
        print_phase(
            f"b. open load, {args.rate} requests/s, {args.seconds} s (load average {before} -> {loadavg()})", opened
        )
        total = opened["Aggregated"]
        if total["p95"] > TARGET_P95_MS:
            misses.append(f"open load: p95 {total['p95']:.0f} ms > {TARGET_P95_MS:.0f} ms")
        if total["failures"]:
            misses.append(f"open load: {total['failures']} errors")
        if total["rps"] < 0.9 * args.rate:
            misses.append(f"open load: only {total['rps']:.1f} requests/s of {args.rate} sent and answered")
    finally:
        server.terminate()
        server.wait(timeout=30)
        server_log.close()
        errors = [
            line
            for line in (data_dir / "gunicorn.log").read_text().splitlines()
            if any(word in line for word in ("Error", "ERROR", "CRITICAL", "Traceback"))
        ]
        if errors:
            print(f"gunicorn logged {len(errors)} error lines, e.g. {errors[0][:200]}")
        shutil.rmtree(data_dir, ignore_errors=True)
    for miss in misses:
        print(f"MISSED: {miss}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
