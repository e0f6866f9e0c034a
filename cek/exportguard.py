"""The export guard: nothing that looks like key material leaves the app in a file.

Every input path refuses key material (``cek.keymaterial``), but data can hold some anyway: rows written before
a detection rule existed, a bug, a database edited by hand. Every export (inventory CSV and CBOM, CAIQ answer
CSV/XLSX/JSON, campaign results, every file and the PDF of an evidence pack) therefore runs the same validator
over each value as it writes it, and stops at the first one that looks like key material, with a reason that
names the file, the row and the field, never the value.

The scan is per value (a cell, a JSON string, a label name), as it is written, so memory stays what the export
needs anyway and a finding says exactly where to look. A few values are computed by the app itself and have
the shape the validator rejects on purpose: SHA-256 digests (64 hex digits) in the columns and JSON members
named in ``computed`` or named ``...sha256`` / ``...digest``. Those are let through only when they have
exactly that shape; anything else in them is scanned like every other value.

Direct downloads are built completely before the first byte is sent (:func:`guarded_download`): the file is
spooled to a temporary file (in memory up to ``SPOOL_BYTES``, on disk beyond), then streamed. A download that
has started cannot be turned into an error any more, and a truncated file is an error nobody reads; building
first costs the time to the first byte, not memory.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from html.parser import HTMLParser
from itertools import chain
from typing import Any

from django.http import FileResponse, HttpResponse

from cek.keymaterial import ADVICE, find_key_material

SPOOL_BYTES = 4 * 1024 * 1024  # a download larger than this is spooled to disk while it is built and scanned
_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
# "SHA-256 <64 hex>" as the pack's templates print a digest. Only in the PDF's text, whose every value was
# checked unmasked in pack.json first: a user's own "SHA-256 <key>" stops the pack there.
_LABELLED_DIGEST = re.compile(r"\bSHA-?256:?\s+[0-9a-fA-F]{64}\b")
_MAX_DEPTH = 64  # the exports' JSON is a few levels deep; a deeper document is refused rather than walked


class ExportRefused(Exception):
    """An export stopped because a value looks like key material. The message names where, never the value."""

    def __init__(self, *, export: str, where: str, reason: str) -> None:
        self.export = export
        self.where = where
        self.reason = reason
        super().__init__(
            f"{export} was not produced: {where} looks like it contains {reason}. Key material must not be "
            f"stored in this app: remove it from that record (and rotate it, since it was exposed), then export "
            f"again. {ADVICE}"
        )


@lru_cache(maxsize=1024)
def _names_a_digest(name: str, computed: frozenset[str]) -> bool:
    """A column or member the app fills with a SHA-256 it computed: listed, or named ``...sha256`` / ``...digest``
    (``results_sha256``, ``data_digest``). A user's label may be named so too; it then still passes only with
    exactly 64 hex digits, which is as far as a digest and a printed 256-bit key can be told apart."""
    return name in computed or name.lower().endswith(("sha256", "digest"))


def _is_computed_digest(value: str) -> bool:
    return len(value) == 64 and _DIGEST.fullmatch(value) is not None


@lru_cache(maxsize=8192)
def _judged_short(value: str) -> str | None:
    return find_key_material(value)


# Strings the validator judged harmless, kept to skip whole mappings and lists of them at C speed
# (``set.issuperset``): a CBOM component has a hundred strings, nearly all repeated on every key (property
# names, stores, owners, purposes). Only a verdict of "harmless" is kept, and that verdict does not depend on
# where the string stands (a digest member only lets *more* through), so a string found here would pass
# wherever it is. Bounded: cleared when full (the strings are then judged again through ``_judged_short``).
_CLEAN: set[str] = {""}
_CLEAN_MAX = 65_536


def _remember_clean(value: str) -> None:
    if len(_CLEAN) >= _CLEAN_MAX:
        _CLEAN.clear()
        _CLEAN.add("")
    _CLEAN.add(value)


def _all_clean_mappings(items: list | tuple) -> bool:
    """Whether ``items`` are all mappings whose every name and value is a string already judged harmless (a
    CBOM's properties). Anything else (an item that is not a mapping, a nested container, a number, a string not
    seen yet) says no, and the caller walks the items one by one."""
    try:
        # dict.values raises TypeError on an item that is not a mapping: only then are the items' names read.
        return _CLEAN.issuperset(chain.from_iterable(map(dict.values, items))) and _CLEAN.issuperset(
            chain.from_iterable(items)
        )
    except TypeError:  # an unhashable value (a nested container), or an item that is not a mapping
        return False


def _judge(value: str) -> str | None:
    # Exports repeat short values on every row (store, purpose, state, owner): each is judged once. The cache
    # is bounded (8,192 values of at most 256 characters); longer values are judged every time.
    return _judged_short(value) if len(value) <= 256 else find_key_material(value)


def check_value(value: Any, *, export: str, where: str, computed: bool = False) -> None:
    """Raise :class:`ExportRefused` when ``value`` (text; other types are not scanned) looks like key material."""
    if not isinstance(value, str) or not value:
        return
    if computed and _is_computed_digest(value):
        return
    if value in _CLEAN:
        return
    reason = _judge(value)
    if reason:
        raise ExportRefused(export=export, where=where, reason=reason)
    if len(value) <= 256:
        _remember_clean(value)


def check_row(
    cells: Sequence[Any],
    *,
    export: str,
    row: int,
    columns: Sequence[str],
    computed: frozenset[str] = frozenset(),
    json_columns: frozenset[str] = frozenset(),
) -> None:
    """Check one row of a table: each text cell, and the names and values of a mapping cell (labels). A cell of
    ``json_columns`` is JSON text the app wrote: it is checked value by value, so its digests are recognised.

    Large tables (a pack's keys.csv: a million rows of thirty-odd cells) repeat most cells on every row: a text
    cell already judged harmless (``_CLEAN``) is passed over before anything else is done for it, except in a
    JSON column (its text is parsed: an escape can hide in it what the text does not show)."""
    clean = _CLEAN
    for position, value in enumerate(cells):
        kind = type(value)
        if kind is str:
            if value in clean and not json_columns:
                continue
        elif value is None or kind is int or kind is float or kind is bool:
            continue  # not text: nothing to scan (as below, where only text and containers are checked)
        column = columns[position] if position < len(columns) else f"#{position + 1}"
        if isinstance(value, str) and column in json_columns:
            try:
                value = json.loads(value)
            except ValueError:
                pass  # not JSON after all: checked as the text it is
        if isinstance(value, str):
            check_value(
                value, export=export, where=f"row {row}, column '{column}'", computed=_names_a_digest(column, computed)
            )
        elif isinstance(value, (dict, list, tuple)):
            check_tree(value, export=export, where=f"row {row}, column '{column}'", computed=computed)


def checked_rows(
    rows: Iterable[Sequence[Any]],
    *,
    export: str,
    columns: Sequence[str],
    first_row: int = 2,
    computed: frozenset[str] = frozenset(),
) -> Iterator[Sequence[Any]]:
    """``rows`` as they come, each checked before it is handed on (row numbers as a spreadsheet shows them:
    the header is row 1)."""
    for number, cells in enumerate(rows, start=first_row):
        cells = cells if isinstance(cells, (list, tuple)) else list(cells)
        check_row(cells, export=export, row=number, columns=columns, computed=computed)
        yield cells


def _render_path(where: str, node: tuple | None) -> str:
    """The path of a value as ``check_tree`` names it ("component 3.properties[2].value"), from its chain of
    (parent, member name or index) links; built only when a finding needs it."""
    segments: list[str | int] = []
    while node is not None:
        node, segment = node
        segments.append(segment)
    path = where
    for segment in reversed(segments):
        if isinstance(segment, int):
            path = f"{path}[{segment}]"
        else:
            path = f"{path}.{segment}" if path else segment
    return path


def _digest_members(computed: frozenset[str]) -> dict[str, bool]:
    """Per ``computed`` set, the member names already asked about and whether they name a digest (a dict read is
    cheaper than the cached call with two arguments, and a tree has a handful of distinct member names)."""
    members = _DIGEST_MEMBERS.get(computed)
    if members is None or len(members) > 4096:
        members = _DIGEST_MEMBERS[computed] = {}
        if len(_DIGEST_MEMBERS) > 64:
            _DIGEST_MEMBERS.clear()
            _DIGEST_MEMBERS[computed] = members
    return members


_DIGEST_MEMBERS: dict[frozenset[str], dict[str, bool]] = {}
_CONTAINERS = (dict, list, tuple)


def check_tree(value: Any, *, export: str, where: str = "", computed: frozenset[str] = frozenset()) -> None:
    """Check every string of a JSON-like value (mapping names included), naming its path on a finding.

    Iterative, and bounded in depth, so a hostile document cannot exhaust the stack. Large exports (the CBOM:
    one call per component, a hundred strings each) walk millions of values, so the walk is written for speed:
    a path is kept as links and written out only for a finding, text members are checked where they are met
    rather than pushed onto the stack, plain ``str``/``dict``/``list`` are told by their exact type first, and
    whether a member name names a digest is read from a dict. Every string is still judged: a mapping's names
    before its values (as a reader meets them), each value by the cached validator (``_judge``)."""
    if isinstance(value, str):
        check_value(value, export=export, where=where or "the document")
        return
    judge, remember, clean = _judged_short, _remember_clean, _CLEAN
    digest_members = _digest_members(computed)
    # (item, path links, depth, is_computed): path links are (parent links, member name or list index) or None.
    stack: list[tuple[Any, tuple | None, int, bool]] = [(value, None, 0, False)]
    pop, push = stack.pop, stack.append
    while stack:
        item, node, depth, is_computed = pop()
        if depth >= _MAX_DEPTH:
            raise ExportRefused(
                export=export,
                where=_render_path(where, node) or "the document",
                reason="data nested too deeply to check",
            )
        kind = type(item)
        if kind is dict or (kind is not list and isinstance(item, dict)):
            if not clean.issuperset(item):
                for name in item:
                    name_text = name if type(name) is str else str(name)
                    if name_text in clean:
                        continue
                    if len(name_text) > 256:
                        reason = find_key_material(name_text)
                    elif (reason := judge(name_text)) is None:
                        remember(name_text)
                    if reason:
                        # The path would quote the name: say where the mapping is instead.
                        raise ExportRefused(
                            export=export,
                            where=f"a member name in {_render_path(where, node) or 'the document'}",
                            reason=reason,
                        )
            for name, member in item.items():
                member_kind = type(member)
                if member_kind is str or isinstance(member, str):
                    if member in clean:  # the empty string included
                        continue
                    segment = name if type(name) is str else str(name)
                    member_computed = digest_members.get(segment)
                    if member_computed is None:
                        member_computed = digest_members[segment] = _names_a_digest(segment, computed)
                    if member_computed and _is_computed_digest(member):
                        continue
                    if len(member) > 256:
                        reason = find_key_material(member)
                    elif (reason := judge(member)) is None:  # _judge, inlined
                        remember(member)
                    if reason:
                        raise ExportRefused(
                            export=export, where=_render_path(where, (node, segment)) or "the document", reason=reason
                        )
                elif member_kind is dict or member_kind is list or isinstance(member, _CONTAINERS):
                    segment = name if type(name) is str else str(name)
                    member_computed = digest_members.get(segment)
                    if member_computed is None:
                        member_computed = digest_members[segment] = _names_a_digest(segment, computed)
                    push((member, (node, segment), depth + 1, member_computed))
        elif kind is list or isinstance(item, (list, tuple)):
            if _all_clean_mappings(item):
                continue
            for index, member in enumerate(item):
                member_kind = type(member)
                if member_kind is str or isinstance(member, str):
                    if member in clean or (is_computed and _is_computed_digest(member)):
                        continue
                    if len(member) > 256:
                        reason = find_key_material(member)
                    elif (reason := judge(member)) is None:
                        remember(member)
                    if reason:
                        raise ExportRefused(
                            export=export, where=_render_path(where, (node, index)) or "the document", reason=reason
                        )
                elif member_kind is dict or member_kind is list or isinstance(member, _CONTAINERS):
                    push((member, (node, index), depth + 1, is_computed))


class _TextNodes(HTMLParser):
    """The text of an HTML page as a reader sees it, node by node, with the heading it stands under."""

    _SKIPPED = frozenset({"style", "script", "head", "title"})
    _HEADINGS = frozenset({"h1", "h2", "h3", "h4"})

    def __init__(self, visit) -> None:
        super().__init__(convert_charrefs=True)
        self.visit = visit
        self.skipping = 0
        self.in_heading = False
        self.heading = ""

    def handle_starttag(self, tag, attrs) -> None:
        if tag in self._SKIPPED:
            self.skipping += 1
        elif tag in self._HEADINGS:
            self.in_heading = True
            self.heading = ""

    def handle_endtag(self, tag) -> None:
        if tag in self._SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self._HEADINGS:
            self.in_heading = False

    def handle_data(self, data) -> None:
        if self.skipping:
            return
        text = data.strip()
        if text:
            self.visit(text, self.heading)
            if self.in_heading:
                self.heading = f"{self.heading} {text}".strip()[:80]


def check_html_text(html: str, *, export: str, allowed: Iterable[str] = ()) -> None:
    """Check each text node of a page about to be rendered (a PDF), naming the section it stands in.

    ``allowed`` are texts the app itself put there and that have a key's shape on purpose (the evidence signing
    key's *public* half, printed so a reader can verify the pack): left out wherever they appear. A text that
    is exactly 64 hex digits is a digest the app printed and is let through."""
    exact = sorted({text for text in allowed if text}, key=len, reverse=True)

    def visit(text: str, heading: str) -> None:
        for known in exact:  # "Ed25519 <public key>": the app's own words around it are still checked
            text = text.replace(known, " ")
        text = _LABELLED_DIGEST.sub(" ", text)
        where = f"the text of the section “{heading}”" if heading else "the text before the first section"
        check_value(text, export=export, where=where, computed=True)

    parser = _TextNodes(visit)
    parser.feed(html)
    parser.close()


def guarded_download(
    chunks: Iterable[str | bytes], *, filename: str, content_type: str, spool_bytes: int = SPOOL_BYTES
) -> HttpResponse:
    """Build the whole file (its generator checks each value as it writes it), then send it; when the guard
    stops it, answer 409 with the reason instead, and nothing of the file is sent."""
    spool = tempfile.SpooledTemporaryFile(max_size=spool_bytes, mode="w+b")
    try:
        for chunk in chunks:
            spool.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
    except ExportRefused as exc:
        spool.close()
        return HttpResponse(str(exc), status=409, content_type="text/plain; charset=utf-8")
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=filename, content_type=content_type)
