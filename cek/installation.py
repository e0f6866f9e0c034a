"""Which installation a process belongs to: its database.

Installations may share a cache: one Redis database for a staging and a production installation, parallel test
runs on one Redis, one data folder with another ``CEK_SQLITE_PATH``. What one keeps there (stored counts and
drop-down lists, job progress and cancel flags, the workers' heartbeat) must not be read or overwritten by another,
so every cache key names the installation (``CACHES``' ``KEY_FUNCTION``: :func:`cache_key`). Not the host name: a
web machine and a worker machine may reach one database by different addresses.
"""

from __future__ import annotations

import hashlib

from django.db import DEFAULT_DB_ALIAS, connections

_digests: dict[tuple[str, str], str] = {}


def installation_digest() -> str:
    """16 hex digits naming this installation's database (engine and name); the same in every process of it. Read
    on every cache call, not once: the test runner renames the database after settings are loaded."""
    database = connections[DEFAULT_DB_ALIAS].settings_dict
    name = (str(database.get("ENGINE", "")), str(database.get("NAME", "")))
    digest = _digests.get(name)
    if digest is None:
        digest = _digests[name] = hashlib.sha256("|".join(name).encode()).hexdigest()[:16]
    return digest


def cache_key(key: str, key_prefix: str, version: int) -> str:
    """Django's cache key (``prefix:version:key``) with the installation after the prefix."""
    return f"{key_prefix}:{installation_digest()}:{version}:{key}"
