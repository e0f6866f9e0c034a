"""Login abuse measured from outside: gunicorn with production settings, over HTTP.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cek_bench .venv/bin/python benchmarks/login_abuse.py

Use a THROWAWAY database (two users with random passwords are written into it, and the throttle's table is
emptied). The script migrates it, starts gunicorn (``CEK_DEBUG=0``, the production password hasher,
``CEK_TRUSTED_PROXY_COUNT=1`` so each simulated client can come from its own address in X-Forwarded-For),
then:

1. times failed logins of an existing username against unknown usernames (each from its own address, fewer
   than the failure limit, so the password hasher runs every time): medians and their gap;
2. sends 50 wrong passwords for one username, then the right one: the right one must be refused with the
   lockout message (and the attempt from which answers were 429 is printed);
3. sends 50 wrong passwords for different usernames from one address, then another user's right password
   from that address (must be refused) and from a fresh address (must log in).

It exits non-zero when the right password gets in after the failures, when the per-address lockout does not
hold, or when the known/unknown gap is over ``--max-gap-ms`` (default 40 ms) and 15% of the slower median.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKED = "Too many failed log-in attempts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """One client: its own address (X-Forwarded-For), its CSRF cookie, plain HTTP to the server."""

    def __init__(self, port: int, address: str) -> None:
        self.port, self.address = port, address
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/accounts/login/", headers={"X-Forwarded-For": address})
        response = connection.getresponse()
        html = response.read().decode()
        cookie = response.getheader("Set-Cookie") or ""
        self.cookie = re.search(r"csrftoken=([^;]+)", cookie).group(1)
        self.token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        self.connection = connection

    def log_in(self, username: str, password: str) -> tuple[int, float, str]:
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": self.token, "username": username, "password": password, "next": ""}
        )
        headers = {
            "X-Forwarded-For": self.address,
            "Cookie": f"csrftoken={self.cookie}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        started = time.perf_counter()
        self.connection.request("POST", "/accounts/login/", body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode(errors="replace")
        elapsed = (time.perf_counter() - started) * 1000
        return response.status, elapsed, text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=7, help="timed failures per kind (below the failure limit)")
    parser.add_argument("--attempts", type=int, default=50, help="wrong passwords before the right one")
    parser.add_argument("--max-gap-ms", type=float, default=40.0)
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL"):
        print("Set DATABASE_URL to a throwaway PostgreSQL database.", file=sys.stderr)
        return 2

    data_dir = tempfile.mkdtemp(prefix="cek-login-bench-")
    env = {
        **os.environ,
        "CEK_DEBUG": "0",
        "CEK_SECRET_KEY": secrets.token_urlsafe(50),
        "CEK_ALLOWED_HOSTS": "127.0.0.1",
        "CEK_SSL_REDIRECT": "0",
        "CEK_DATA_DIR": data_dir,
        "CEK_TRUSTED_PROXY_COUNT": "1",
        "CEK_LOG_LEVEL": "ERROR",
        "DJANGO_SETTINGS_MODULE": "cek.settings",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.apps import apps
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if apps.is_installed("axes"):  # without it (the code before throttling) there is nothing to empty
        apps.get_model("axes", "AccessAttempt").objects.all().delete()
    passwords = {name: secrets.token_urlsafe(16) for name in ("bench-timing", "bench-locked")}
    for name, password in passwords.items():
        user, _ = User.objects.get_or_create(username=name)
        user.set_password(password)  # the production hasher (settings.PASSWORD_HASHERS[0])
        user.save()
    limit = getattr(settings, "AXES_FAILURE_LIMIT", 10)
    if args.samples >= limit:
        print(f"--samples must stay below the failure limit ({limit}).", file=sys.stderr)
        return 2

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "cek.wsgi", "-b", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    misses: list[str] = []
    try:
        for _ in range(100):
            try:
                Browser(port, "192.0.2.1")
                break
            except (OSError, AttributeError):
                time.sleep(0.2)
        print(f"gunicorn (2 workers) on port {port}, hasher {settings.PASSWORD_HASHERS[0].rsplit('.', 1)[-1]}")

        # 1. Known against unknown usernames, interleaved, each from its own address.
        known, unknown = [], []
        Browser(port, "198.51.100.250").log_in("bench-timing", "warm-up-password")  # warm both paths' imports
        for number in range(args.samples):
            _, ms, _ = Browser(port, f"198.51.100.{number + 1}").log_in("bench-timing", "wrong-password")
            known.append(ms)
            _, ms, _ = Browser(port, f"198.51.100.{number + 101}").log_in(f"nobody-{number}", "wrong-password")
            unknown.append(ms)
        known_ms, unknown_ms = statistics.median(known), statistics.median(unknown)
        gap = abs(known_ms - unknown_ms)
        print(f"failed login, existing username:  median {known_ms:.0f} ms  ({', '.join(f'{v:.0f}' for v in known)})")
        print(
            f"failed login, unknown username:   median {unknown_ms:.0f} ms  ({', '.join(f'{v:.0f}' for v in unknown)})"
        )
        print(f"gap: {gap:.0f} ms ({gap / max(known_ms, unknown_ms):.0%} of the slower)")
        if gap > args.max_gap_ms and gap > 0.15 * max(known_ms, unknown_ms):
            misses.append(f"usernames told apart by timing: {known_ms:.0f} ms against {unknown_ms:.0f} ms")

        # 2. One username: N wrong passwords, then the right one.
        attacker = Browser(port, "203.0.113.10")
        statuses, locked_ms = [], []
        for _ in range(args.attempts):
            status, ms, _ = attacker.log_in("bench-locked", "wrong-password")
            statuses.append(status)
            if status == 429:
                locked_ms.append(ms)
        status, ms, text = attacker.log_in("bench-locked", passwords["bench-locked"])
        first_429 = statuses.index(429) + 1 if 429 in statuses else None
        print(
            f"{args.attempts} wrong passwords for one username: answers 429 from attempt {first_429} "
            f"(limit {limit}); locked-out answers median {statistics.median(locked_ms or [0]):.0f} ms"
        )
        print(f"then the right password: HTTP {status}, lockout message shown: {LOCKED in text}")
        if status != 429 or LOCKED not in text:
            misses.append(f"the right password after {args.attempts} failures answered {status}")
        other_address = Browser(port, "203.0.113.11").log_in("bench-locked", passwords["bench-locked"])[0]
        print(f"the right password from another address: HTTP {other_address} (expected 429: the username is locked)")
        if other_address != 429:
            misses.append("the locked username logged in from another address")

        # 3. One address: N wrong passwords for different usernames, then a real user's right password.
        address = Browser(port, "203.0.113.20")
        for number in range(args.attempts):
            address.log_in(f"guess-{number}", "wrong-password")
        same = address.log_in("bench-timing", passwords["bench-timing"])[0]
        fresh = Browser(port, "203.0.113.21").log_in("bench-timing", passwords["bench-timing"])[0]
        print(
            f"{args.attempts} wrong logins from one address, then a real user's right password there: HTTP {same} (expected 429)"
        )
        print(f"the same user from a fresh address: HTTP {fresh} (expected 302: logged in)")
        if same != 429:
            misses.append(f"the locked address let a right password in (HTTP {same})")
        if fresh != 302:
            misses.append(f"a right password from a fresh address answered {fresh}, not a login")
    finally:
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(data_dir, ignore_errors=True)

    for miss in misses:
        print(f"MISS: {miss}")
    print("OK" if not misses else f"{len(misses)} miss(es)")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
