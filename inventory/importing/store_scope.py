"""Which key store a file belongs to (a platform export names its account and region, not its store), and, for a
full import, which keys of that store the file leaves out."""

from __future__ import annotations

from collections.abc import Callable

from inventory.importers.base import Importer, ImportFileError, ParseStream
from inventory.importing.plan import KEPT_ROWS, ImportPlan
from inventory.models import Key, KeyStore, StoreKind


def matches(scope_value: str, store_value: str) -> bool:
    """A store's account or region matches what the file says when it equals it or names it ("prod (1111...)")."""
    scope_value, store_value = scope_value.strip().lower(), store_value.strip().lower()
    return not scope_value or not store_value or scope_value == store_value or scope_value in store_value


class MissingStoreError(ImportFileError):
    """No key store of the export's kind holds the file's account and region: carries them, so the page can
    offer to create that store with them filled in."""

    def __init__(self, message: str, *, kind: str, account: str = "", region: str = "") -> None:
        super().__init__(message)
        self.store_to_create = {"kind": kind, "account": account, "region": region}


def resolve_store(importer: Importer, parsed: ParseStream, chosen: KeyStore | None) -> KeyStore | None:
    """The store a platform export belongs to: the one chosen (checked against what the file says), or the
    only store of the importer's kind whose account and region match the file. CSV and CBOM files name their
    stores per row; a chosen store is then the store of every row."""
    kind, scope = importer.store_kind, parsed.scope
    if kind is None:
        return chosen
    kind_label = StoreKind(kind).label
    if chosen is not None:
        if chosen.kind != kind:
            raise ImportFileError(
                f"The key store '{chosen.name}' is a {chosen.get_kind_display()} store, but this is a "
                f"{importer.label} export. Choose a {kind_label} store, or the format that matches the file."
            )
        if scope is not None and not (matches(scope.account, chosen.account) and matches(scope.region, chosen.region)):
            raise ImportFileError(
                f"The file's keys are in {scope.describe()}, but the key store '{chosen.name}' is account "
                f"'{chosen.account or '-'}' region '{chosen.region or '-'}'. Choose the store the file was exported "
                "from, or correct the store's account and region."
            )
        return chosen
    candidates = [
        store
        for store in KeyStore.objects.filter(kind=kind).order_by("name")
        if scope is None or (matches(scope.account, store.account) and matches(scope.region, store.region))
    ]
    account, region = (scope.account, scope.region) if scope is not None else ("", "")
    where = " and ".join(f"{what} '{value}'" for what, value in (("account", account), ("region", region)) if value)
    where = f" for {where}" if where else ""
    if not candidates:
        raise MissingStoreError(
            f"There is no {kind_label} key store{where}. Create it under Key stores (with the account and region "
            "the file shows), or choose the store when you upload.",
            kind=kind,
            account=account,
            region=region,
        )
    if len(candidates) > 1:
        names = ", ".join(f"'{store.name}'" for store in candidates[:5])
        raise ImportFileError(
            f"Several {kind_label} key stores could hold this file{where}: {names}. Choose the store when you upload."
        )
    return candidates[0]


def plan_missing(plan: ImportPlan, store: KeyStore, listed: Callable[[str], bool]) -> None:
    """A full import: the keys of the store that the file does not list (and that were seen until now). The
    store's keys are read a few thousand at a time as (id, external id) pairs; ``plan.missing_ids`` gets the id of
    every unlisted one, ``plan.missing`` the first :data:`KEPT_ROWS` of them (id, name, external id) to show."""
    plan.missing, plan.missing_ids = [], []
    keys = Key.objects.filter(store=store, not_seen_since__isnull=True).order_by("name", "pk")
    for pk, external_id in keys.values_list("pk", "external_id").iterator(chunk_size=5000):
        if not listed(external_id):
            plan.missing_ids.append(pk)
    shown = plan.missing_ids[:KEPT_ROWS]
    by_pk = {}
    for start in range(0, len(shown), 500):  # below SQLite's 999 parameters
        ids = shown[start : start + 500]
        by_pk.update({key.pk: key for key in Key.objects.filter(pk__in=ids).only("pk", "name", "external_id")})
    plan.missing = [by_pk[pk] for pk in shown if pk in by_pk]
