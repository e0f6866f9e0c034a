"""Held uploads: a file rejected before its preview (no key store matched it, the wrong format was chosen...) is
kept for a short while, so that the person need not choose it again after fixing the cause.

Only a file in which nothing looks like key material or unsafe text is held: every string of a JSON file
(the importers' own document scan, without its exemptions for public members) or every cell of a CSV file is
judged; a file that is neither, or that cannot be read as UTF-8, is not held (the page then says to choose it
again). A held file is stored under the media folder with a random name that only the person's session knows
(nothing of it goes to the page), and removed when it is used, replaced, or older than ``HOLD_MINUTES``
(every hold sweeps the expired ones).
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import time
from pathlib import Path

from django.conf import settings

from cek.keymaterial import find_key_material
from cek.textsafety import find_unsafe_text
from inventory.importers.base import scan_document

HOLD_MINUTES = 30
_SESSION_KEY = "cek_held_upload"
_FOLDER = "held-uploads"


def _folder() -> Path:
    return Path(settings.MEDIA_ROOT) / _FOLDER


def _judged_clean(data: bytes) -> bool:
    """Whether nothing in the file looks like key material or unsafe text (conservative: when in doubt, no)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    if find_unsafe_text(text, multiline=True):
        return False
    try:
        document = json.loads(text)
    except RecursionError:
        return False
    except ValueError:
        document = None
    if document is not None:
        try:
            return scan_document(document) is None
        except RecursionError:
            return False
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error:
        return False
    cells = {cell for row in rows for cell in row if cell.strip()}  # a value that repeats is judged once
    return not any(find_key_material(cell) for cell in cells)


def _sweep(now: float) -> None:
    folder = _folder()
    if not folder.is_dir():
        return
    for path in folder.glob("*.dat"):
        try:
            if now - path.stat().st_mtime > HOLD_MINUTES * 60:
                path.unlink(missing_ok=True)
        except OSError:
            continue


def upload_hold(*, request, data: bytes, file_name: str) -> bool:
    """Hold a rejected upload for ``HOLD_MINUTES`` in this person's session; False when the file is not held (it
    holds, or might hold, key material or unsafe text; or it is empty). Replaces a file held before."""
    upload_release(request=request)
    now = time.time()
    _sweep(now)
    if not data or not _judged_clean(data):
        return False
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16)
    (folder / f"{name}.dat").write_bytes(data)
    request.session[_SESSION_KEY] = {"name": name, "file_name": file_name, "held_at": now}
    return True


def _held_path(request) -> tuple[Path, str] | None:
    held = request.session.get(_SESSION_KEY)
    if not isinstance(held, dict):
        return None
    name = str(held.get("name", ""))
    path = _folder() / f"{name}.dat"
    expired = time.time() - float(held.get("held_at", 0)) > HOLD_MINUTES * 60
    if expired or not name.isalnum() or not path.is_file():
        upload_release(request=request)
        return None
    return path, str(held.get("file_name") or "upload")


def upload_held(*, request) -> tuple[str, int] | None:
    """The held file's name and size, for the page, or None when there is none (used, expired, never held)."""
    found = _held_path(request)
    return (found[1], found[0].stat().st_size) if found is not None else None


def upload_take(*, request) -> tuple[bytes, str] | None:
    """The held file's bytes and name; it is no longer held (it is held again if it is rejected again)."""
    found = _held_path(request)
    if found is None:
        return None
    path, file_name = found
    try:
        data = path.read_bytes()
    except OSError:
        data = None
    upload_release(request=request)
    return (data, file_name) if data is not None else None


def upload_release(*, request) -> None:
    """Remove the held file, if any (another file was chosen, or it was used)."""
    held = request.session.pop(_SESSION_KEY, None)
    if isinstance(held, dict) and str(held.get("name", "")).isalnum():
        (_folder() / f"{held['name']}.dat").unlink(missing_ok=True)
