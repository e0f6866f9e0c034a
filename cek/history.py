"""The change history of both apps' records (django-simple-history): attributing a write to who made it and why,
and reading the history back for pages: who, when, what changed (old → new).

Built for pages: one query for the history rows (with their users) and one per kind of related object
named in the changes (two when some of them are deleted: their last known names), whatever the number of
entries. :func:`combined_history` puts several records' entries on one page (a policy and its versions), each
labelled with its record.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import models
from simple_history.exceptions import NotHistoricalModelError
from simple_history.utils import get_history_manager_for_model

from cek.people import person_name

KIND = {"+": "created", "~": "changed", "-": "deleted"}


def attribute(instance: models.Model, *, actor, reason: str = "") -> None:
    """Make the next save of ``instance`` record ``actor`` (and ``reason``, cut to its column's 100 characters)."""
    instance._history_user = actor
    if reason:
        instance._change_reason = reason[:100]


def save_attributed(instance: models.Model, *, actor, reason: str = "", **kwargs) -> None:
    attribute(instance, actor=actor, reason=reason)
    instance.save(**kwargs)


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class Entry:
    when: datetime
    who: object  # the user who made the change (pages name them: ``{{ entry.who|person:"system" }}``); None: the system
    kind: str
    reason: str
    changes: list[Change] = field(default_factory=list)


def _display(model: type[models.Model], field_name: str, value, related: dict) -> str:
    if value in (None, "", [], {}):
        return "—"
    model_field = model._meta.get_field(field_name)
    if model_field.is_relation and model_field.many_to_one:
        obj = related.get((model_field.related_model, value))
        if obj is None:  # deleted, and its history (if any) kept no name: say what it was, not its id
            return f"a deleted {model_field.verbose_name}"
        if isinstance(obj, str):  # a deleted record's last known name (``last_known_names``)
            return obj
        return person_name(obj) if hasattr(obj, "get_full_name") else str(obj)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


LABEL_FIELDS = ("name", "title")


def last_known_names(model: type[models.Model], pks: set) -> dict:
    """The newest name (or title) of deleted ``model`` records, from the model's history table (which keeps the
    rows of deleted records): one query. Nothing for a model without a history table (users) or a name field."""
    fields = {f.name for f in model._meta.concrete_fields}
    label = next((name for name in LABEL_FIELDS if name in fields), None)
    if not pks or label is None:
        return {}
    try:
        history = get_history_manager_for_model(model)
    except NotHistoricalModelError:
        return {}
    pk_name = model._meta.pk.attname
    rows = history.filter(**{f"{pk_name}__in": pks}).order_by(pk_name, "-history_date", "-history_id")
    names: dict = {}
    for pk, name in rows.values_list(pk_name, label):
        if name:
            names.setdefault(pk, name)  # the first row of each record is its newest
    return names


def history_entries(instance: models.Model, *, limit: int = 50, exclude: tuple[str, ...] = ()) -> list[Entry]:
    """The latest ``limit`` changes of ``instance``, newest first, with field-level differences."""
    model = type(instance)
    skipped = {"updated_at", "created_at", "cryptoperiod_ends_on", *exclude}
    skipped |= {f.name for f in model._meta.many_to_many}
    known = {f.name for f in model._meta.get_fields()}
    excluded = sorted(skipped & known)
    records = list(
        instance.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1]
    )
    pairs = [(records[i], records[i + 1] if i + 1 < len(records) else None) for i in range(min(limit, len(records)))]

    diffs = []
    wanted: dict[type[models.Model], set] = defaultdict(set)
    for new, old in pairs:
        if old is None or new.history_type != "~":
            diffs.append([])
            continue
        delta = new.diff_against(old, excluded_fields=excluded)
        changes = delta.changes
        for change in changes:
            model_field = model._meta.get_field(change.field)
            if model_field.is_relation and model_field.many_to_one:
                wanted[model_field.related_model].update(v for v in (change.old, change.new) if v is not None)
        diffs.append(changes)

    related: dict = {}
    for related_model, pks in wanted.items():
        for obj in related_model._default_manager.filter(pk__in=pks):
            related[(related_model, obj.pk)] = obj
        gone = {pk for pk in pks if (related_model, pk) not in related}
        for pk, name in last_known_names(related_model, gone).items():
            related[(related_model, pk)] = f"{name} (deleted)"

    entries = []
    for (new, _old), changes in zip(pairs, diffs, strict=False):
        entries.append(
            Entry(
                when=new.history_date,
                who=new.history_user,
                kind=KIND.get(new.history_type, new.history_type),
                reason=new.history_change_reason or "",
                changes=[
                    Change(
                        field=str(model._meta.get_field(c.field).verbose_name),
                        old=_display(model, c.field, c.old, related),
                        new=_display(model, c.field, c.new, related),
                    )
                    for c in changes
                ],
            )
        )
    return entries


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
