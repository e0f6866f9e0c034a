"""The change history of several evidence records on one page (a policy and its versions), each entry labelled
with the record it belongs to. It reads ``inventory.history``, so it lives here rather than in ``cek/pages.py``
(``cek``'s shared helpers import neither app)."""

from __future__ import annotations

from dataclasses import dataclass

from inventory.history import Entry, history_entries


@dataclass
class LabelledEntry:
    subject: str
    entry: Entry

    def __getattr__(self, name):
        return getattr(self.entry, name)


def combined_history(records: list[tuple[str, object]], *, limit: int = 60) -> list[LabelledEntry]:
    """The change history of several records (``(label, instance)``), newest first."""
    entries = [LabelledEntry(label, entry) for label, record in records for entry in history_entries(record)]
    entries.sort(key=lambda e: e.entry.when, reverse=True)
    return entries[:limit]
