"""Loaded with ``-p`` before pytest-django reads settings: test-only environment defaults.

Only defaults: CI's DATABASE_URL / REDIS_URL are kept. A test-private data folder keeps the SQLite file
and the file broker away from a developer's running app.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("CEK_SECRET_KEY", "test-secret-key-not-for-production-0123456789-abcdefghij")
os.environ.setdefault("CEK_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("CEK_SSL_REDIRECT", "0")
os.environ.setdefault("CEK_DATA_DIR", tempfile.mkdtemp(prefix="cek-test-"))
# Playwright drives the UI from the test process; Django's async-safety guard would refuse ORM calls there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Most tests run without a worker: /healthz reports it without failing on it (tests of the worker check set it).
os.environ.setdefault("CEK_HEALTHZ_WORKER_SECONDS", "0")
