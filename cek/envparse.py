"""Strict environment parsing for settings.

Each helper refuses a value it cannot read instead of guessing: ``CEK_DEBUG=yse`` is an error at start-up,
not a silent ``False``.
"""

from __future__ import annotations

import os
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class EnvError(ValueError):
    """An environment variable holds a value that cannot be used."""


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise EnvError(f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise EnvError(f"{name}={raw!r} is not an integer.") from None
    if minimum is not None and value < minimum:
        raise EnvError(f"{name}={value} is below the minimum of {minimum}.")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str, default: str = "") -> str:
    """Read a secret from ``NAME`` or from the file named by ``NAME_FILE`` (Docker/K8s secrets)."""
    file_name = os.environ.get(f"{name}_FILE", "").strip()
    if file_name:
        path = Path(file_name)
        if not path.is_file():
            raise EnvError(f"{name}_FILE={file_name!r} does not name a readable file.")
        return path.read_text(encoding="utf-8").strip()
    return os.environ.get(name, default).strip()


SEVERITIES = ("low", "medium", "high", "critical")


def env_severities(name: str, default: str) -> frozenset[str]:
    """A comma list of finding severities (or ``all``, or ``none``)."""
    raw = os.environ.get(name, default).strip().lower()
    return _severities(raw, where=f"{name}={raw!r}")


def _severities(raw: str, *, where: str) -> frozenset[str]:
    if raw in ("all", "*"):
        return frozenset(SEVERITIES)
    if raw in ("", "none"):
        return frozenset()
    words = {word.strip() for word in raw.split(",") if word.strip()}
    unknown = sorted(words - set(SEVERITIES))
    if unknown:
        raise EnvError(f"{where}: {', '.join(unknown)} is not a severity; use {', '.join(SEVERITIES)} or all.")
    return frozenset(words)


def env_webhooks(name: str) -> list[tuple[str, frozenset[str]]]:
    """Webhooks and the finding severities each receives: entries separated by ``;`` or new lines, each
    ``SEVERITIES URL`` (``high,critical https://siem.example.com/hooks/cek``) or a URL alone (every severity)."""
    raw = os.environ.get(name, "")
    hooks: list[tuple[str, frozenset[str]]] = []
    for number, entry in enumerate((part.strip() for part in raw.replace("\n", ";").split(";")), start=1):
        if not entry:
            continue
        words = entry.split()
        if len(words) > 2:
            raise EnvError(f"{name}, entry {number}: expected 'SEVERITIES URL' or 'URL', got {len(words)} words.")
        url = words[-1]
        severities = _severities(words[0].lower(), where=f"{name}, entry {number}") if len(words) == 2 else None
        if not url.startswith(("https://", "http://")) or len(url) > 500:
            raise EnvError(f"{name}, entry {number}: the webhook URL must start with https:// (or http://).")
        hooks.append((url, severities if severities is not None else frozenset(SEVERITIES)))
    return hooks
