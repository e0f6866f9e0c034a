"""Which inventory key, and which store, a log's reference names.

Keys are matched by ``inventory.selectors.keys_by_reference``, the same matching the IaC gate uses (external id:
ARN, resource name, key URL, Vault path; AWS key id; AWS alias; a name only one key has). A log names a key
within a place (an AWS account and region, a project, a vault): a key id or alias that several stores hold (a
multi-region key's replicas share their ``mrk-`` id) is taken from the store of the event's place, and nothing
is guessed when the place does not decide it; the reference is then kept as an unknown key.
"""

from __future__ import annotations

from collections.abc import Iterable

from inventory.models import Key, KeyStore
from inventory.selectors import keys_by_reference


def stores_by_place(places: Iterable[tuple[str, str]], *, kinds: tuple[str, ...]) -> dict[tuple[str, str], KeyStore]:
    """The store of each (account, region): the store of those kinds with that account and region, else the one
    with that account and no region. A place two stores claim alike, or none, is left out."""
    places = set(places)
    accounts = {account for account, _ in places if account}
    if not accounts:
        return {}
    stores = KeyStore.objects.filter(account__in=accounts)
    if kinds:
        stores = stores.filter(kind__in=kinds)
    candidates: dict[tuple[str, str], list[KeyStore]] = {}
    for store in stores:
        candidates.setdefault((store.account, store.region), []).append(store)
    found = {}
    for account, region in places:
        exact = candidates.get((account, region), []) if region else []
        either = exact or candidates.get((account, ""), [])
        if len(either) == 1:
            found[(account, region)] = either[0]
    return found


def lookup_ref(ref: str) -> tuple[str, str, str]:
    """(reference to look up, account, region) of a log's reference: an alias ARN is looked up as its alias within
    its account and region; other references as they are."""
    if ref.startswith("arn:aws:kms:") and ":alias/" in ref:
        parts = ref.split(":", 5)
        if len(parts) == 6:
            return parts[5], parts[4], parts[3]
    return ref, "", ""


def _in_place(key: Key, store: KeyStore | None, account: str, region: str) -> bool:
    if store is not None:
        return key.store_id == store.pk
    if account:
        return key.store.account == account and key.store.region in ("", region)
    return True


def resolve_keys(refs: Iterable[tuple[str, str, str, KeyStore | None]]) -> dict[tuple[str, str, str, int | None], Key]:
    """Inventory keys for ``(key_ref, account, region, store)`` tuples, by ``(key_ref, account, region, store
    pk)``. One query. A reference left out names no key, or several the place cannot decide between."""
    wanted = {(ref, account, region, store) for ref, account, region, store in refs if ref}
    looked_up = {ref: lookup_ref(ref) for ref, *_ in wanted}
    matches = keys_by_reference({lookup for lookup, _, _ in looked_up.values()})
    found = {}
    for ref, account, region, store in wanted:
        lookup, ref_account, ref_region = looked_up[ref]
        keys = matches.by_id.get(lookup) or matches.by_name.get(lookup) or []
        place_account, place_region = ref_account or account, ref_region or region
        keys = [key for key in keys if _in_place(key, store, place_account, place_region)]
        if len(keys) == 1:
            found[(ref, account, region, store.pk if store else None)] = keys[0]
    return found
