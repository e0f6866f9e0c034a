"""The purpose-mapping changes section (``templates/pdf/_changes.html``): keys whose purpose changed in the window."""

from __future__ import annotations

import datetime as dt

from cek.history import last_known_names
from evidence.packs.content.table import Table
from inventory.models import Key, Purpose

PURPOSE_CHANGES_FILE = "pack.json (content.purpose_changes)"


def purpose_changes(keys, start: dt.datetime, end: dt.datetime, limit: int) -> Table:
    """History rows of keys whose purpose differs from the key's previous history row, dated in the window.

    Only updates ("~" rows) can change a mapping. Two plain queries: the update rows in the window, then the
    history of just those keys up to the window end (to find each row's predecessor). A single query with
    correlated subqueries is costed so high on a large history table that PostgreSQL JIT-compiles it, which
    alone took seconds; these two stay cheap, and they read change events, never the population."""
    history = Key.history.model
    updates = history.objects.filter(
        history_type="~", history_date__gte=start, history_date__lt=end, id__in=keys.values("pk")
    )
    candidates = list(
        updates.order_by("history_date", "history_id").values(
            "history_id",
            "id",
            "name",
            "history_date",
            "history_user__username",
            "history_user__first_name",
            "history_user__last_name",
            "history_change_reason",
            "purpose_id",
            "purpose_justification",
        )
    )
    previous: dict[int, tuple[bool, int | None]] = {}  # history_id -> (has a predecessor, its purpose)
    if candidates:
        last: dict[int, int | None] = {}
        wanted = {row["history_id"] for row in candidates}
        for key_id, history_id, purpose_id in (
            history.objects.filter(id__in=updates.values("id"), history_date__lt=end)
            .order_by("id", "history_date", "history_id")
            .values_list("id", "history_id", "purpose_id")
            .iterator(chunk_size=5000)
        ):
            if history_id in wanted:
                previous[history_id] = (key_id in last, last.get(key_id))
            last[key_id] = purpose_id
    # Every change is kept (pack.json carries the full list); the PDF prints it up to the limit.
    names = dict(Purpose.objects.values_list("pk", "name"))
    # A purpose deleted since was still a purpose: named from its history, never "unassigned".
    deleted = {row["purpose_id"] for row in candidates} | {pk for _has, pk in previous.values()}
    deleted -= {*names, None}
    last_names = last_known_names(Purpose, deleted)
    names |= {pk: f"{last_names[pk]} (deleted)" if pk in last_names else "a deleted purpose" for pk in deleted}
    result = []
    for row in candidates:
        has_previous, previous_purpose = previous.get(row["history_id"], (False, None))
        if not has_previous or previous_purpose == row["purpose_id"]:
            continue
        full_name = f"{row['history_user__first_name'] or ''} {row['history_user__last_name'] or ''}".strip()
        result.append(
            {
                "key_id": row["id"],
                "key": row["name"],
                "at": row["history_date"],
                "by": full_name or row["history_user__username"] or "",
                "from": names.get(previous_purpose, "Purpose unassigned"),
                "to": names.get(row["purpose_id"], "Purpose unassigned"),
                "reason": row["history_change_reason"] or "",
                "justification": row["purpose_justification"],
            }
        )
    return Table(total=len(result), rows=result, data_file=PURPOSE_CHANGES_FILE, limit=limit)
