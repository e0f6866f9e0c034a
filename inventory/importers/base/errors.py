"""What is wrong with an import: the file as a whole (:class:`ImportFileError`, :class:`RefusedFileError` for key
material or unsafe text) or one of its rows (:class:`RowError`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inventory.importers.base.scanning import DocumentFinding

KEY_MATERIAL = "key_material"  # RowError.kind / RefusedFileError.kind: what refuses an upload outright
UNSAFE_TEXT = "unsafe_text"


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (empty, wrong encoding, wrong columns, holds a PEM block...).

    The message says what is wrong and what to do, and never quotes the file's content."""


class RefusedFileError(ImportFileError):
    """The file holds key material or unsafe text: it is refused whole and none of its bytes are kept. Carries
    the refusal as recorded on the import: ``row`` (or None), ``column`` (a path), ``kind`` and ``reason`` (the
    phrase, never the value)."""

    def __init__(self, message: str, *, kind: str, reason: str, row: int | None = None, column: str = "") -> None:
        super().__init__(message)
        self.kind, self.reason, self.row, self.column = kind, reason, row, column

    @classmethod
    def of(cls, found: DocumentFinding) -> RefusedFileError:
        if found.kind == KEY_MATERIAL:
            message = (
                f"The file holds what looks like {found.reason} at {found.where}. Key material is never stored "
                "here, so the whole file was rejected and not kept. Export metadata only and upload again."
            )
        else:
            message = (
                f"The file holds {found.reason} at {found.where}. Text with control characters, unpaired "
                "surrogates, bidirectional overrides or deep nesting is refused (it corrupts or disguises what "
                "is recorded), so the whole file was rejected and not kept. Upload the export unchanged."
            )
        field = found.field + (" (a member name)" if found.member_name else "")
        return cls(message, kind=found.kind, reason=found.reason, row=found.row, column=field)

    def refusal(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.column, "kind": self.kind, "reason": self.reason}


@dataclass(slots=True)
class RowError:
    """One problem in one row; ``message`` starts with the column it is about and never echoes key material
    or unsafe text. ``kind`` is :data:`KEY_MATERIAL` or :data:`UNSAFE_TEXT` for a problem that refuses the
    whole upload (its bytes are then not kept), with ``reason`` the phrase that says what was found."""

    row: int | None
    column: str
    message: str
    kind: str = ""
    reason: str = ""

    def __str__(self) -> str:
        return f"Row {self.row}: {self.message}" if self.row is not None else self.message

    def as_dict(self) -> dict[str, Any]:
        data = {"row": self.row, "column": self.column, "message": self.message}
        if self.kind:
            data["kind"] = self.kind
        return data

    def refusal(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.column, "kind": self.kind, "reason": self.reason}
