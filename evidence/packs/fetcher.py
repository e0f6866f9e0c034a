"""The only way WeasyPrint may load anything while rendering a pack: the application's own static files.

A pack's HTML is built from database text that users typed (key names, notes, reasons). It is autoescaped, but
the renderer is a second line of defence: :func:`static_only_fetcher` refuses every URL except ``file://``
URLs of files inside the static folders (the ``STATICFILES_DIRS``, the app folders the staticfiles finders
search, and ``STATIC_ROOT``) after resolving ``..`` and symbolic links, and small inline raster images
(``data:image/png|jpeg|gif``). No network access (``http``, ``https``, ``ftp``...), nothing elsewhere on disk.
A refusal raises :class:`FetchRefused`; WeasyPrint logs it and renders without the resource.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.storage import FileSystemStorage

DATA_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
DATA_MAX_BYTES = 64 * 1024
FILE_MAX_BYTES = 8 * 1024 * 1024


class FetchRefused(ValueError):
    """A URL the pack renderer must not load."""


def static_roots() -> list[Path]:
    """Every folder static files are served from, resolved (symbolic links followed)."""
    roots: list[str] = []
    for finder in finders.get_finders():
        for storage in getattr(finder, "storages", {}).values():
            if isinstance(storage, FileSystemStorage):
                roots.append(storage.location)
        for location in getattr(finder, "locations", ()):
            roots.append(location[1] if isinstance(location, tuple) else location)
    if settings.STATIC_ROOT:
        roots.append(str(settings.STATIC_ROOT))
    resolved: list[Path] = []
    for root in roots:
        path = Path(root).resolve()
        if path.is_dir() and path not in resolved:
            resolved.append(path)
    return resolved


def static_file_url(relative: str) -> str:
    """The ``file://`` URL of one of the app's static files (e.g. ``cek/pdf.css``), found like ``{% static %}``."""
    found = finders.find(relative)
    if not found and settings.STATIC_ROOT:
        candidate = Path(settings.STATIC_ROOT) / relative
        found = str(candidate) if candidate.is_file() else None
    if not found:
        raise FileNotFoundError(f"Static file {relative!r} not found by the staticfiles finders or in STATIC_ROOT.")
    return Path(found).resolve().as_uri()


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def _fetch_file(url: str) -> dict:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise FetchRefused(f"Refused {url!r}: file URLs on another host are not served.")
    raw_path = unquote(parts.path)
    if "\x00" in raw_path:
        raise FetchRefused(f"Refused {url!r}: the path contains a NUL byte.")
    if any(part == ".." for part in raw_path.replace("\\", "/").split("/")):
        raise FetchRefused(f"Refused {url!r}: path traversal ('..') is not allowed.")
    path = Path(os.path.realpath(raw_path))
    if not _inside(path, static_roots()):
        raise FetchRefused(f"Refused {url!r}: only the application's own static files are served to the renderer.")
    if not path.is_file():
        raise FetchRefused(f"Refused {url!r}: no such static file.")
    if path.stat().st_size > FILE_MAX_BYTES:
        raise FetchRefused(f"Refused {url!r}: larger than {FILE_MAX_BYTES // (1024 * 1024)} MB.")
    mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    result = {"string": path.read_bytes(), "mime_type": mime_type, "redirected_url": path.as_uri(), "path": str(path)}
    if mime_type.startswith("text/") or mime_type == "image/svg+xml":
        result["encoding"] = "utf-8"
    return result


def _fetch_data(url: str) -> dict:
    header, comma, payload = url[5:].partition(",")
    if not comma:
        raise FetchRefused("Refused a malformed data: URL.")
    params = header.split(";")
    mime_type = params[0].strip().lower()
    if mime_type not in DATA_IMAGE_TYPES:
        raise FetchRefused(f"Refused a data: URL of type {mime_type or 'text/plain'!r}: only small raster images.")
    if "base64" not in params[1:]:
        raise FetchRefused("Refused a data: image that is not base64-encoded.")
    if len(payload) > DATA_MAX_BYTES * 4 // 3 + 4:
        raise FetchRefused(f"Refused a data: image larger than {DATA_MAX_BYTES // 1024} KB.")
    try:
        data = base64.b64decode(unquote(payload), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FetchRefused("Refused a data: image that is not valid base64.") from exc
    return {"string": data, "mime_type": mime_type}


def static_only_fetcher(url: str, timeout: int = 10, ssl_context=None, **kwargs) -> dict:
    """A WeasyPrint ``url_fetcher`` that serves the app's static files and refuses everything else.

    Same signature as ``weasyprint.default_url_fetcher`` (``timeout`` and ``ssl_context`` are accepted and
    unused: nothing is ever fetched over a network)."""
    scheme = urlsplit(url).scheme.lower() if ":" in url else ""
    if scheme == "file":
        return _fetch_file(url)
    if scheme == "data":
        return _fetch_data(url)
    raise FetchRefused(
        f"Refused {url[:200]!r}: the pack renderer loads only the application's own static files "
        f"({scheme or 'relative'} URLs are not fetched)."
    )
