"""The ``cek:`` properties of a CBOM: what CycloneDX has no field for, one component property per field.

:func:`property_pairs` writes them (the CBOM export) and :func:`read_properties` reads them back (the CBOM
import); the two are each other's inverse, so an export imports back unchanged. A property is named like its
field (``backup_owner``: ``cek:backup-owner``) and holds text: dates as YYYY-MM-DD, numbers in decimal, flags
as true/false. Parties the key is exposed to and bindings repeat a property, one per party or binding
(CycloneDX properties may repeat a name); a binding is a JSON object. Labels and platform details take one
property per entry: ``cek:labels:<name>`` for text and ``cek:labels-json:<name>`` (the JSON of the value) for
numbers and true/false, so each value reads back with its type.

The document's ``cek:fields`` metadata property lists the fields its keys state in full: for those, a
property or CycloneDX field a key lacks means "empty".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from cek.textsafety import loads_json
from inventory import keyfields
from inventory.importers.base import BindingRow, ImportFileError, choices_text, describe_value, parse_timestamp
from inventory.keyfields import Kind
from inventory.models import Operation

NAMESPACE = "cek"
FIELDS_PROPERTY = f"{NAMESPACE}:fields"

# The fields that travel as cek: properties, by how their value is written (see inventory.keyfields).
TEXT_PROPERTIES: tuple[str, ...] = tuple(f.name for f in keyfields.cbom_fields(Kind.TEXT, Kind.CHOICE, Kind.REFERENCE))
DATE_PROPERTIES: tuple[str, ...] = tuple(f.name for f in keyfields.cbom_fields(Kind.DATE))
INTEGER_PROPERTIES: tuple[str, ...] = tuple(f.name for f in keyfields.cbom_fields(Kind.INTEGER))
FLAG_PROPERTIES: tuple[str, ...] = tuple(f.name for f in keyfields.cbom_fields(Kind.FLAG))
# One property per party the key is exposed to, and per binding (one field of each kind: exposed_to, services).
(EXPOSED_TO_PROPERTY,) = (f"{NAMESPACE}:{f.cbom}" for f in keyfields.cbom_fields(Kind.PARTIES))
(BINDING_PROPERTY,) = (f"{NAMESPACE}:{f.cbom}" for f in keyfields.cbom_fields(Kind.BINDINGS))
BINDING_MEMBERS = ("service", "tenant", "purpose", "principal", "operations")
MAPPING_PROPERTIES: dict[str, str] = {f.name: f.cbom for f in keyfields.cbom_fields(Kind.MAPPING)}
# Written for readers (the purpose's cryptographic function), derived from the purpose: not read.
INFORMATIONAL_PROPERTIES = frozenset({f"{NAMESPACE}:function"})

# The fields an export states in full (its cek:fields). Not the identity, not the fields that always have a
# value (kind, state, SSRM layer, store), and not the purpose: an import never makes a key "purpose unassigned".
STATED_FIELDS: tuple[str, ...] = keyfields.stated_fields()

_INTEGER = re.compile(r"\d{1,10}")


def property_name(field: str) -> str:
    """The cek: property of a key field (``backup_owner``: ``cek:backup-owner``)."""
    return f"{NAMESPACE}:{keyfields.BY_NAME[field].cbom}"


_TEXT_NAMES = {property_name(field): field for field in TEXT_PROPERTIES}
_DATE_NAMES = {property_name(field): field for field in DATE_PROPERTIES}
_INTEGER_NAMES = {property_name(field): field for field in INTEGER_PROPERTIES}
_FLAG_NAMES = {property_name(field): field for field in FLAG_PROPERTIES}
_SINGLE_NAMES = {**_TEXT_NAMES, **_DATE_NAMES, **_INTEGER_NAMES, **_FLAG_NAMES}
_MAPPING_PREFIXES = {
    f"{NAMESPACE}:{prefix}{suffix}:": (field, bool(suffix))
    for field, prefix in MAPPING_PROPERTIES.items()
    for suffix in ("", "-json")
}
_KNOWN = [*_SINGLE_NAMES, EXPOSED_TO_PROPERTY, BINDING_PROPERTY, *(f"{prefix}<name>" for prefix in _MAPPING_PREFIXES)]


# --- Writing ------------------------------------------------------------------------------------------------


def binding_text(binding: BindingRow) -> str:
    """A binding as a cek:binding value: a JSON object without its empty members."""
    members = {
        "service": binding.service,
        "tenant": binding.tenant,
        "purpose": binding.purpose,
        "principal": binding.principal,
        "operations": sorted(binding.operations or []),
    }
    return json.dumps({name: value for name, value in members.items() if value}, ensure_ascii=False, sort_keys=True)


# (field, property name) per kind of value, computed once: an export writes them for every key.
_TEXT_PAIRS = tuple((field, property_name(field)) for field in TEXT_PROPERTIES)
_DATE_PAIRS = tuple((field, property_name(field)) for field in DATE_PROPERTIES)
_INTEGER_PAIRS = tuple((field, property_name(field)) for field in INTEGER_PROPERTIES)
_FLAG_PAIRS = tuple((field, property_name(field)) for field in FLAG_PROPERTIES)
_MAPPING_NAMES = tuple(
    (field, f"{NAMESPACE}:{prefix}:", f"{NAMESPACE}:{prefix}-json:") for field, prefix in MAPPING_PROPERTIES.items()
)


def property_pairs(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The cek: properties (name, value) of a key, given as KeyRow values by field name ("services": a list of
    BindingRow). Empty values are left out, except in labels (a tag may have an empty value)."""
    get = values.get
    pairs: list[tuple[str, str]] = [(name, values[field]) for field, name in _TEXT_PAIRS if get(field)]
    pairs += [(name, values[field].isoformat()) for field, name in _DATE_PAIRS if get(field)]
    pairs += [(name, str(values[field])) for field, name in _INTEGER_PAIRS if get(field) is not None]
    pairs += [(name, "true") for field, name in _FLAG_PAIRS if get(field)]
    pairs += [(EXPOSED_TO_PROPERTY, name) for name in sorted(get("exposed_to") or ())]
    pairs += [(BINDING_PROPERTY, binding_text(binding)) for binding in get("services") or ()]
    for field, text_prefix, json_prefix in _MAPPING_NAMES:
        for name, value in sorted((get(field) or {}).items()):
            if isinstance(value, str):
                pairs.append((f"{text_prefix}{name}", value))
            else:
                pairs.append((f"{json_prefix}{name}", json.dumps(value)))
    return pairs


# --- Reading ------------------------------------------------------------------------------------------------


def _binding(text: str) -> BindingRow:
    try:
        members = loads_json(text)
    except json.JSONDecodeError:
        members = None
    if not isinstance(members, dict):
        raise ValueError('expected a JSON object such as {"service": "inference-gateway", "tenant": "acme"}')
    unknown = sorted(set(members) - set(BINDING_MEMBERS))
    if unknown:
        raise ValueError(f"has the unknown member '{unknown[0][:40]}'; expected {', '.join(BINDING_MEMBERS)}")
    texts = {name: members.get(name) or "" for name in BINDING_MEMBERS[:4]}
    if not all(isinstance(value, str) for value in texts.values()):
        raise ValueError("service, tenant, purpose and principal must be text")
    if not texts["service"]:
        raise ValueError("names no service; every binding needs a service slug")
    operations = members.get("operations") or []
    if not isinstance(operations, list) or not all(isinstance(op, str) and op in Operation.values for op in operations):
        raise ValueError(f"operations must be a list of: {', '.join(Operation.values)}")
    return BindingRow(
        service=texts["service"],
        tenant=texts["tenant"],
        purpose=texts["purpose"],
        principal=texts["principal"] or None,
        operations=operations or None,
    )


def _scalar(text: str) -> str | int | float | bool:
    try:
        value = loads_json(text)
    except json.JSONDecodeError:
        value = None
    if isinstance(value, (str, int, float, bool)):
        return value
    raise ValueError("expected the JSON of a number, true or false")


def _field_of(name: str) -> str | None:
    if name in _SINGLE_NAMES:
        return _SINGLE_NAMES[name]
    if name == EXPOSED_TO_PROPERTY:
        return "exposed_to"
    if name == BINDING_PROPERTY:
        return "services"
    for prefix, (field, _typed) in _MAPPING_PREFIXES.items():
        if name.startswith(prefix):
            return field
    return None


def _value(name: str, text: str, values: dict[str, Any]) -> None:
    """Read one single-valued or mapping property into ``values``; ValueError says what is wrong."""
    field = _field_of(name)
    if name in _TEXT_NAMES:
        values[field] = text
    elif name in _DATE_NAMES:
        values[field] = parse_timestamp(text)
    elif name in _INTEGER_NAMES:
        if text and not _INTEGER.fullmatch(text):
            raise ValueError("expected a whole number of 0 or more (e.g. 365)")
        values[field] = int(text) if text else None
    elif name in _FLAG_NAMES:
        if text not in ("true", "false"):
            raise ValueError("expected true or false")
        values[field] = text == "true"
    else:
        prefix = next(p for p in _MAPPING_PREFIXES if name.startswith(p))
        entry, typed = name[len(prefix) :], _MAPPING_PREFIXES[prefix][1]
        mapping = values.setdefault(field, {})
        if not entry:
            raise ValueError(f"has no entry name after '{prefix}'")
        if entry in mapping:
            raise ValueError(f"repeats the entry '{entry[:60]}' (once as text, once as JSON)")
        mapping[entry] = _scalar(text) if typed else text


def read_properties(properties: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The fields a component's cek: properties set ("services": a list of BindingRow), and the problems as
    (field, message). A field with a problem is left out whole (a label in error drops all labels). Properties
    of other namespaces are not ours: ignored."""
    values: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    if properties is None:
        return values, errors
    if not isinstance(properties, list) or not all(isinstance(p, dict) for p in properties):
        return values, [("", "properties must be an array of objects, each with a name and a value.")]
    seen: set[str] = set()
    exposed: set[str] = set()
    bindings: dict[tuple[str, str, str], BindingRow] = {}
    for prop in properties:
        name, text = prop.get("name"), prop.get("value", "")
        if not isinstance(name, str) or not name.startswith(f"{NAMESPACE}:") or name in INFORMATIONAL_PROPERTIES:
            continue
        field = _field_of(name)
        if field is None:
            errors.append(
                (
                    "",
                    f"{describe_value('properties', name)}; not a property this app reads (check the spelling). "
                    f"Known: {choices_text(_KNOWN, limit=30)}.",
                )
            )
            continue
        if not isinstance(text, str):
            errors.append((field, f"property '{name}' must have a text value (in quotes)."))
            continue
        if name in seen and name not in (EXPOSED_TO_PROPERTY, BINDING_PROPERTY):
            errors.append((field, f"property '{name}' appears more than once; give it once."))
            continue
        seen.add(name)
        try:
            if name == EXPOSED_TO_PROPERTY:
                if text.strip():
                    exposed.add(text.strip())
            elif name == BINDING_PROPERTY:
                binding = _binding(text)
                bindings.setdefault((binding.service, binding.tenant, binding.purpose), binding)
            else:
                _value(name, text, values)
        except ValueError as exc:
            errors.append((field, f"{describe_value(name, text)}; {exc}."))
    if EXPOSED_TO_PROPERTY in seen:
        values["exposed_to"] = sorted(exposed)
    if BINDING_PROPERTY in seen:
        values["services"] = list(bindings.values())
    for field, _message in errors:
        values.pop(field, None)
    return values, errors


def stated_fields(metadata: Any) -> frozenset[str]:
    """The fields the document's cek:fields metadata property lists (none when it has no such property)."""
    properties = metadata.get("properties") if isinstance(metadata, dict) else None
    for prop in properties if isinstance(properties, list) else ():
        if isinstance(prop, dict) and prop.get("name") == FIELDS_PROPERTY:
            value = prop.get("value")
            names = [name.strip() for name in value.split(",") if name.strip()] if isinstance(value, str) else None
            unknown = [name for name in names or () if name not in STATED_FIELDS]
            if names is None or unknown:
                named = f" (it names '{unknown[0][:60]}')" if unknown else ""
                raise ImportFileError(
                    f"The metadata property '{FIELDS_PROPERTY}' must list key fields separated by commas{named}; "
                    f"expected names from: {', '.join(STATED_FIELDS)}. Correct or remove it and upload again."
                )
            return frozenset(names)
    return frozenset()
