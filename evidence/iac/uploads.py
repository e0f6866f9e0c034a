"""What the gate reads from an upload (``POST /api/v1/iac-scans/``): a plan as ``terraform show -json`` writes it,
or an archive (``.tar.gz``, ``.tar`` or ``.zip``) of a repository's ``.tf`` files for repositories that never
produce a plan.

An archive is judged on what it declares before a byte is unpacked (members, sizes, ratio: ``cek.zipguard`` for
ZIP, the tar headers for tar) and only its ``.tf`` files are written, under their own relative names, to a
temporary directory that is removed when the scan is done: nothing uploaded stays on disk. A member whose name
leaves the archive's root (``../x.tf``, ``/etc/x.tf``) or that is a link refuses the whole archive.
"""

from __future__ import annotations

import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO

from cek.zipguard import ZipLimits, ZipRefused, zip_check
from evidence.iac.hcl import read_directory
from evidence.iac.model import Infrastructure, UnreadableInput
from evidence.iac.plan import parse_plan

MAX_MEMBERS = 5000  # files in an archive, .tf or not (a monorepo's infrastructure folder stays far below)
MAX_RATIO = 200  # unpacked / packed, for ZIP members of at least a megabyte


def read_plan_upload(upload: IO[bytes], *, name: str, size: int, max_bytes: int) -> Infrastructure:
    if size > max_bytes:
        raise UnreadableInput(f"{name} is {_mb(size)}, over the limit of {_mb(max_bytes)} (CEK_IAC_MAX_BYTES).")
    return parse_plan(upload.read(), name=name)


def read_archive_upload(
    upload: IO[bytes], *, name: str, size: int, max_bytes: int, subdirectory: str = ""
) -> Infrastructure:
    """The ``.tf`` files of the archive, read as a directory (``subdirectory`` within it: the root module; by
    default the archive's root, or its single top-level folder when the root holds no ``.tf`` file)."""
    if size > max_bytes:
        raise UnreadableInput(f"{name} is {_mb(size)}, over the limit of {_mb(max_bytes)} (CEK_IAC_MAX_BYTES).")
    with _unpacked(upload, name=name, max_bytes=max_bytes) as root:
        return read_directory(_root_module(root, subdirectory, name=name), max_bytes=max_bytes)


@contextmanager
def _unpacked(upload: IO[bytes], *, name: str, max_bytes: int) -> Iterator[Path]:
    head = upload.read(262)
    upload.seek(0)
    with tempfile.TemporaryDirectory(prefix="cek-iac-") as folder:
        root = Path(folder)
        if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
            _unzip(upload, root, name=name, max_bytes=max_bytes)
        elif head.startswith(b"\x1f\x8b") or head[257:262] == b"ustar":
            _untar(upload, root, name=name, max_bytes=max_bytes)
        else:
            raise UnreadableInput(
                f"{name} is neither a .tar.gz, .tar nor .zip archive: pack the .tf files with "
                "`tar czf infra.tar.gz $(git ls-files '*.tf')`, or upload a plan as `plan`."
            )
        yield root


def _member_path(member_name: str, *, name: str) -> PurePosixPath | None:
    """The member's relative path when it is a ``.tf`` file, None when it is something else; refuses a name that
    leaves the archive's root."""
    path = PurePosixPath(member_name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise UnreadableInput(f"{name} holds {member_name!r}, a path outside the archive: it is refused.")
    return path if path.suffix == ".tf" and path.name != ".tf" else None


def _write(root: Path, relative: PurePosixPath, data: bytes) -> None:
    target = root.joinpath(*relative.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _unzip(upload: IO[bytes], root: Path, *, name: str, max_bytes: int) -> None:
    try:
        with zipfile.ZipFile(upload) as archive:
            infos = archive.infolist()
            limits = ZipLimits(
                max_members=MAX_MEMBERS, max_total_bytes=max_bytes, max_member_bytes=max_bytes, max_ratio=MAX_RATIO
            )
            zip_check(infos, limits, what=name)
            for info in infos:
                if info.is_dir():
                    continue
                relative = _member_path(info.filename, name=name)
                if relative is not None:
                    _write(root, relative, archive.read(info))
    except ZipRefused as exc:
        raise UnreadableInput(str(exc)) from None
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise UnreadableInput(f"{name} is not a readable ZIP archive ({exc}).") from None


def _untar(upload: IO[bytes], root: Path, *, name: str, max_bytes: int) -> None:
    declared = members = 0
    try:
        with tarfile.open(fileobj=upload, mode="r:*") as archive:
            for member in archive:
                members += 1
                declared += max(member.size, 0)
                if members > MAX_MEMBERS:
                    raise UnreadableInput(f"{name} holds more than {MAX_MEMBERS:,} files; it is refused.")
                if declared > max_bytes:
                    raise UnreadableInput(
                        f"{name} unpacks to more than {_mb(max_bytes)} (CEK_IAC_MAX_BYTES); pack only the .tf files."
                    )
                if member.isdir():
                    continue
                relative = _member_path(member.name, name=name)
                if relative is None:
                    continue
                if not member.isfile():
                    raise UnreadableInput(f"{name} holds {member.name!r} as a link; pack the files themselves.")
                stream = archive.extractfile(member)
                _write(root, relative, stream.read() if stream else b"")
    except UnreadableInput:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise UnreadableInput(f"{name} is not a readable tar archive ({exc}).") from None


def _root_module(root: Path, subdirectory: str, *, name: str) -> Path:
    if subdirectory:
        relative = PurePosixPath(subdirectory.strip("/"))
        if relative.is_absolute() or ".." in relative.parts:
            raise UnreadableInput("path must be a folder inside the archive, without '..'.")
        folder = root.joinpath(*relative.parts)
        if not folder.is_dir():
            raise UnreadableInput(f"{name} has no folder {subdirectory!r}.")
        return folder
    if any(root.glob("*.tf")):
        return root
    folders = [entry for entry in root.iterdir() if entry.is_dir()]
    if len(folders) == 1 and any(folders[0].glob("*.tf")):
        return folders[0]
    raise UnreadableInput(f"{name} holds no .tf file at its root: name the folder of the root module with `path`.")


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MB"
