"""The rules, applied to one key and the consumers that point at it. Messages name addresses, types, attributes,
purpose classes and tag values only; a tag value that looks like key material is withheld."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cek.keymaterial import find_key_material
from evidence.iac.result import RULES, Use, Violation
from evidence.iac.table import KEY_TYPES, tags_of
from inventory.purposetags import tag_names_purpose

# What a recorded purpose's cryptographic function lets a key do, in the consumer table's terms.
_FUNCTION_CAN = {"encryption": "encrypt", "key-wrapping": "encrypt", "signing": "sign"}
_NEW = ("create", "replace", "declared")


def safe(text: str) -> str:
    return "(withheld: looks like key material)" if find_key_material(text) else text


def _tag(tags: dict[str, str], names: set[str]) -> list[str]:
    values = [value for name, value in tags.items() if name in names or name.lower() in names]
    return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


def _violation(key: Any, rule: str, uses: list[Use], message: str) -> Violation:
    # Addresses may carry for_each keys: they are checked like tag values.
    shown = tuple(replace(use, address=safe(use.address)) for use in uses)
    return Violation(rule, safe(key.address), safe(key.ref), shown, message, RULES[rule][1])


def _listing(uses: list[Use]) -> str:
    return "; ".join(f"{safe(use.address)} ({use.purpose_class})" for use in uses)


def check(key: Any, tag_keys: Any) -> list[Violation]:
    found: list[Violation] = []
    uses = [use for use, _, _ in key.uses]
    uses = list(dict.fromkeys(uses))
    classes = sorted({use.purpose_class for use in uses})
    if len(classes) > 1:
        found.append(
            _violation(
                key,
                "iac-multi-purpose",
                uses,
                f"{len(classes)} purpose classes ({', '.join(classes)}) use this key: {_listing(uses)}.",
            )
        )
    for rule, names, what in (
        ("iac-multi-service", tag_keys.service, "services"),
        ("iac-multi-tenant", tag_keys.tenant, "tenants"),
    ):
        owners: dict[str, list[Use]] = {}
        for use, _, tags in key.uses:
            for owner in _tag(tags, names):
                owners.setdefault(safe(owner), []).append(use)
        if len(owners) > 1:
            found.append(
                _violation(
                    key,
                    rule,
                    list(dict.fromkeys(u for us in owners.values() for u in us)),
                    f"{len(owners)} {what} ({', '.join(sorted(owners))}) use this key.",
                )
            )
    can, said = _capability(key)
    said = safe(said)  # the plan's own words for the key's usage: enumerations, yet a plan may hold anything
    if can is not None:
        unfit = [use for use, row, _ in key.uses if row.needs not in can]
        if unfit:
            needs = sorted({use.purpose_class for use in unfit})
            found.append(
                _violation(
                    key,
                    "iac-key-usage",
                    list(dict.fromkeys(unfit)),
                    f"The key ({said}) cannot serve {', '.join(needs)}: {_listing(unfit)}.",
                )
            )
    found.extend(_tag_rules(key, tag_keys, uses, can, said))
    return found


def _capability(key: Any) -> tuple[frozenset[str] | None, str]:
    resource = key.primary.resource if key.primary is not None else key.resource  # a replica is its primary
    if resource is not None:
        return KEY_TYPES[resource.type].capability(resource.values)
    if key.known is not None and key.known.function:
        function = key.known.function
        return frozenset({_FUNCTION_CAN.get(function, function)}), f"recorded purpose function {function}"
    return None, ""


def _tag_rules(key: Any, tag_keys: Any, uses: list[Use], can: Any, said: str) -> list[Violation]:
    resource, known, found = key.resource, key.known, []
    if resource is None:
        return found
    kind = KEY_TYPES[resource.type]
    names = set(tag_keys.purpose) | ({known.purpose_tag_key, known.purpose_tag_key.lower()} if known else set())
    tagged = _tag(tags_of(resource.type, resource.values), names) if kind.tags else []
    computed = kind.tags in resource.unknown  # its tags come from an expression only apply resolves
    if kind.tags and not tagged and not computed and resource.action in _NEW and known is None:
        found.append(
            _violation(
                key,
                "iac-no-purpose-tag",
                uses,
                f"The new {resource.type} has no purpose tag ({', '.join(sorted(names))}).",
            )
        )
    if known is not None and known.purpose:
        if tagged and not tag_names_purpose(tagged[0], slug=known.purpose, name=known.purpose_name):
            found.append(
                _violation(
                    key,
                    "iac-purpose-contradicts-inventory",
                    uses,
                    f"The purpose tag says {safe(tagged[0])}; the inventory records "
                    f"{known.purpose} for {safe(known.external_id)}.",
                )
            )
        elif can is not None and known.function in _FUNCTION_CAN and _FUNCTION_CAN[known.function] not in can:
            found.append(
                _violation(
                    key,
                    "iac-purpose-contradicts-inventory",
                    uses,
                    f"The key ({said}) cannot serve the purpose the inventory records for it "
                    f"({known.purpose}, {known.function}).",
                )
            )
    return found
