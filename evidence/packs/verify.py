"""Verifying an evidence pack (.zip): every file against ``manifest.json``, and the manifest's signature.

Used by ``manage.py verify_pack`` and the verify page. It never trusts the archive: unreadable members, files
present but not listed, files listed but missing, size and SHA-256 differences, a data manifest digest that
does not match the files listed, and a signature that fails (with the app's key, or with the key the manifest
names) are each reported in words an auditor can act on.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import IO

from cek.zipguard import ZipLimits, ZipRefused, zip_check
from evidence.packs import manifest as mf
from evidence.packs import signing

MAX_MEMBERS = 200
# zipfile parses the whole central directory into objects when it opens an archive: a 500 MB upload made of
# nothing but directory entries would take gigabytes of memory. A pack's directory is a couple of KB.
MAX_CENTRAL_DIRECTORY_BYTES = 1024 * 1024
# manifest.json and manifest.sig are read whole: a few KB in a real pack. The caps stop a "zip bomb" (a small
# archive whose member inflates to gigabytes) from being inflated into memory.
MAX_MANIFEST_BYTES = 1024 * 1024
MAX_SIGNATURE_BYTES = 1024
# Reading a member never inflates more than this (a real pack's largest file, keys.csv at 100k keys, is far
# smaller), nor more than one byte past the size the manifest lists.
MAX_MEMBER_BYTES = 2 * 1024 * 1024 * 1024
# All members together inflate to at most this, and none more than MAX_RATIO times its compressed size: a
# pack's CSV and JSON files compress under 15:1 (its PDF and XLSX hardly at all), a deflate bomb ~1000:1. The
# central directory is judged before anything is inflated, so a bomb is refused in milliseconds; an archive
# crafted just under the caps costs at most MAX_TOTAL_BYTES of hashing.
MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024
MAX_RATIO = 100
LIMITS = ZipLimits(
    max_members=MAX_MEMBERS, max_total_bytes=MAX_TOTAL_BYTES, max_member_bytes=MAX_MEMBER_BYTES, max_ratio=MAX_RATIO
)
# What opening or reading a member may raise on a damaged or hostile archive: encrypted members (RuntimeError),
# unsupported compression (NotImplementedError), truncated streams (EOFError), bad CRC (BadZipFile).
MEMBER_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, NotImplementedError, ValueError)


class MemberTooLarge(Exception):
    """A member inflates to more than it may."""


@dataclass
class FileCheck:
    name: str
    status: str  # "ok", "missing", "size", "digest", "unreadable"
    detail: str = ""
    expected_sha256: str = ""
    actual_sha256: str = ""
    expected_size: int | None = None
    actual_size: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class VerifyReport:
    archive_sha256: str = ""
    manifest_sha256: str = ""
    pack: dict = field(default_factory=dict)
    files: list[FileCheck] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    data_digest: str = ""
    data_digest_ok: bool | None = None
    manifest_public_key: str = ""
    app_public_key: str = ""
    signature_valid_app_key: bool | None = None
    signature_valid_manifest_key: bool | None = None
    is_app_key: bool | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def files_ok(self) -> int:
        return sum(1 for check in self.files if check.ok)

    @property
    def files_differ(self) -> int:
        """Files listed but missing, altered or unreadable, plus files present but not listed."""
        return len(self.files) - self.files_ok + len(self.unlisted)

    @property
    def data_matches_files(self) -> bool:
        """The data manifest digest holds for the files in the archive, not only for the list in manifest.json
        (which a tamperer leaves alone when altering a file)."""
        return bool(self.data_digest_ok) and bool(self.files) and not self.files_differ

    @property
    def failed_files(self) -> list[FileCheck]:
        return [check for check in self.files if not check.ok]

    @property
    def matching_files(self) -> list[FileCheck]:
        return [check for check in self.files if check.ok]

    def lines(self) -> list[str]:
        """The report as text lines (the command prints them)."""
        out = [f"Archive SHA-256: {self.archive_sha256}"]
        if self.manifest_sha256:
            out.append(f"manifest.json SHA-256: {self.manifest_sha256}")
        if self.pack:
            out.append(
                f"Pack {self.pack.get('uid', '?')}: window {self.pack.get('window_from', '?')} .. "
                f"{self.pack.get('window_to', '?')}, scope {self.pack.get('scope', '?')}"
            )
        for check in self.files:
            if check.ok:
                out.append(f"  OK       {check.name} ({check.actual_size} bytes, sha256 {check.actual_sha256})")
            else:
                out.append(f"  FAILED   {check.name}: {check.detail}")
        for name in self.unlisted:
            out.append(f"  FAILED   {name}: present in the archive but not listed in manifest.json")
        if self.data_digest_ok is not None:
            state = "matches" if self.data_digest_ok else "DOES NOT match"
            out.append(f"Data manifest digest {self.data_digest}: {state} the data files listed")
        if self.signature_valid_app_key is not None:
            out.append(
                "Signature with this app's public key: " + ("valid" if self.signature_valid_app_key else "INVALID")
            )
        if self.signature_valid_manifest_key is not None:
            which = "this app's key" if self.is_app_key else "NOT this app's key"
            out.append(
                f"Signature with the public key in the manifest ({which}): "
                + ("valid" if self.signature_valid_manifest_key else "INVALID")
            )
        if self.ok:
            out.append(f"VERIFIED: {len(self.files)} files match the signed manifest.")
        else:
            out.append(f"NOT VERIFIED: {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}:")
            out.extend(f"  - {problem}" for problem in self.problems)
        return out


def _sha256_stream(handle: IO[bytes], limit: int | None = None) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := handle.read(1024 * 1024):
        digest.update(chunk)
        size += len(chunk)
        if limit is not None and size > limit:
            raise MemberTooLarge(f"it inflates to more than {limit:,} bytes")
    return digest.hexdigest(), size


def _read_member(archive: zipfile.ZipFile, name: str, expected_size, budget: int) -> tuple[str, int]:
    limit = min(MAX_MEMBER_BYTES, budget)
    if isinstance(expected_size, int) and not isinstance(expected_size, bool) and 0 <= expected_size < limit:
        limit = expected_size + 1  # one byte more is enough to say the size differs
    with archive.open(name) as handle:
        return _sha256_stream(handle, limit)


def _read_small(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """The whole of a control file, refusing (before and while inflating) one larger than ``limit``."""
    if archive.getinfo(name).file_size > limit:
        raise MemberTooLarge(f"it is larger than {limit:,} bytes")
    with archive.open(name) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise MemberTooLarge(f"it is larger than {limit:,} bytes")
    return data


def _central_directory_size(source: IO[bytes]) -> int:
    """The size the archive's end record gives its central directory (0 when there is no end record: zipfile
    then refuses the file itself)."""
    try:
        end = zipfile._EndRecData(source)  # the reader zipfile itself uses; reads only the file's tail
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        end = None
    finally:
        source.seek(0)
    if not end:
        return 0
    return max(int(end[zipfile._ECD_SIZE]), int(end[zipfile._ECD_ENTRIES_TOTAL]) * 46)


def verify_pack_file(source: IO[bytes], *, public_key: str | None = None) -> VerifyReport:
    """Verify the pack in ``source`` (a seekable binary file). ``public_key`` (base64 of the raw Ed25519 key)
    is the key to trust; by default the app's own signing key."""
    report = VerifyReport()
    source.seek(0)
    report.archive_sha256, _ = _sha256_stream(source)
    source.seek(0)
    trusted = public_key
    if trusted is None:
        info = signing.app_public_key_or_none()
        trusted = info.public_key if info else None
    report.app_public_key = trusted or ""
    directory_size = _central_directory_size(source)
    if directory_size > MAX_CENTRAL_DIRECTORY_BYTES:
        report.problems.append(
            f"The archive's file list takes {directory_size:,} bytes; an evidence pack's takes a few KB. "
            "It was not opened."
        )
        return report
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        report.problems.append("The file is not a readable .zip archive; it is not an evidence pack or is damaged.")
        return report
    with archive:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
        if len(names) > MAX_MEMBERS:
            report.problems.append(f"The archive holds {len(names)} files; an evidence pack holds far fewer.")
            return report
        try:
            zip_check(archive.infolist(), LIMITS, what="The archive")
        except ZipRefused as exc:
            report.problems.append(f"{exc} It is not an evidence pack.")
            return report
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            report.problems.append(
                f"The archive holds more than one file named {', '.join(duplicated)}: it was altered "
                "(an unzip tool would show only one of them)."
            )
            return report
        if mf.MANIFEST_NAME not in names:
            report.problems.append("manifest.json is missing from the archive: nothing can be verified.")
            return report
        try:
            manifest_bytes = _read_small(archive, mf.MANIFEST_NAME, MAX_MANIFEST_BYTES)
        except (*MEMBER_ERRORS, MemberTooLarge) as exc:
            report.problems.append(f"manifest.json cannot be read from the archive ({exc}); it was altered.")
            return report
        report.manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
        _check_signature(archive, names, manifest_bytes, trusted, report)
        try:
            document = json.loads(manifest_bytes.decode("utf-8"))
            listed = document["files"]
            if not isinstance(listed, list):
                raise TypeError
        except (UnicodeDecodeError, ValueError, KeyError, TypeError):
            report.problems.append("manifest.json is not a valid evidence-pack manifest (not JSON, or no file list).")
            return report
        report.pack = document.get("pack") if isinstance(document.get("pack"), dict) else {}
        _check_files(archive, names, listed, report)
        report.data_digest = str(document.get("data_digest", ""))
        entries = [
            entry
            for entry in listed
            if isinstance(entry, dict) and {"name", "sha256", "size"} <= set(entry) and isinstance(entry["name"], str)
        ]
        report.data_digest_ok = bool(report.data_digest) and mf.data_digest(entries) == report.data_digest
        if not report.data_digest_ok:
            report.problems.append(
                f"The data manifest digest in manifest.json ({report.data_digest or 'none'}) does not match the data "
                f"files it lists ({mf.data_digest(entries)})."
            )
    return report


def _check_signature(archive, names, manifest_bytes: bytes, trusted: str | None, report: VerifyReport) -> None:
    try:
        document = json.loads(manifest_bytes.decode("utf-8"))
        recorded = str(document.get("signing", {}).get("public_key", ""))
    except (UnicodeDecodeError, ValueError, AttributeError):
        recorded = ""
    report.manifest_public_key = recorded
    if mf.SIGNATURE_NAME not in names:
        report.problems.append("manifest.sig is missing: the manifest is not signed.")
        return
    try:
        encoded = _read_small(archive, mf.SIGNATURE_NAME, MAX_SIGNATURE_BYTES)
    except (*MEMBER_ERRORS, MemberTooLarge) as exc:
        report.problems.append(f"manifest.sig cannot be read from the archive ({exc}); it was altered.")
        return
    try:
        signature = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        report.problems.append("manifest.sig is not valid base64: the signature was altered.")
        return
    if trusted:
        report.signature_valid_app_key = signing.verify_signature(
            public_b64=trusted, signature=signature, data=manifest_bytes
        )
    if recorded:
        report.is_app_key = bool(trusted) and recorded == trusted
        report.signature_valid_manifest_key = signing.verify_signature(
            public_b64=recorded, signature=signature, data=manifest_bytes
        )
    if not trusted:
        report.problems.append(
            "No public key to verify against: this app has no signing key configured; pass the expected public key."
        )
    elif not report.signature_valid_app_key:
        if report.signature_valid_manifest_key:
            report.problems.append(
                "The signature is valid for the public key recorded in the manifest, but that is not the expected "
                f"public key ({trusted}): the pack was signed by another installation or re-signed."
            )
        else:
            report.problems.append(
                "The signature of manifest.json does not verify: the manifest or its signature was altered."
            )


def _check_files(archive, names: list[str], listed: list, report: VerifyReport) -> None:
    seen: set[str] = set()
    budget = MAX_TOTAL_BYTES  # what every member read together may still inflate to
    for entry in listed:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            report.problems.append("manifest.json lists an entry without a file name.")
            continue
        name, expected_sha, expected_size = entry["name"], str(entry.get("sha256", "")), entry.get("size")
        if name in seen:  # checked once: a manifest listing one file thousands of times must not re-read it
            report.problems.append(f"{name}: listed more than once in manifest.json.")
            continue
        seen.add(name)
        check = FileCheck(name=name, status="ok", expected_sha256=expected_sha, expected_size=expected_size)
        if name not in names:
            check.status, check.detail = "missing", "listed in manifest.json but missing from the archive"
        else:
            try:
                check.actual_sha256, check.actual_size = _read_member(archive, name, expected_size, budget)
                budget -= check.actual_size
            except MemberTooLarge as exc:
                check.status = "size"
                check.detail = f"{exc}; manifest.json says {expected_size} bytes (reading stopped there)"
            except MEMBER_ERRORS as exc:
                check.status = "unreadable"
                check.detail = f"cannot be read from the archive ({exc}): its bytes were altered"
            else:
                if check.actual_size != expected_size:
                    check.status = "size"
                    check.detail = f"size is {check.actual_size} bytes; manifest.json says {expected_size}"
                if check.actual_sha256 != expected_sha:
                    check.status = "digest" if check.status == "ok" else check.status
                    check.detail = (check.detail + "; " if check.detail else "") + (
                        f"SHA-256 is {check.actual_sha256}; manifest.json says {expected_sha}"
                    )
        if not check.ok:
            report.problems.append(f"{name}: {check.detail}.")
        report.files.append(check)
    for name in names:
        if name not in seen and name not in mf.CONTROL_FILES:
            report.unlisted.append(name)
            report.problems.append(f"{name}: present in the archive but not listed in manifest.json.")
