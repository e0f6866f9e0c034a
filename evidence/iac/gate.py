"""The gate: links each consumer attribute to the key it points at and applies the rules.

A consumer points at a key through its configuration references (``aws_kms_key.logs.arn``, through module
variables and outputs, aliases and data sources) or, when it names an existing key, through the literal ARN, key id,
alias, resource name or key URL in its planned values. Keys the input does not create are matched to the inventory.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from evidence.iac import rules
from evidence.iac.model import ConfigModule, Infrastructure, Resource, module_prefix, paused_gc
from evidence.iac.result import ScanResult, Use
from evidence.iac.table import ALIAS_TYPE, CONSUMERS, KEY_TYPES, Consumer, consumers_by_type, tags_of

Lookup = Callable[[Iterable[str]], dict[str, Any]]  # references -> selectors.KnownKey

_IDENTIFIERS = ("arn", "key_id", "id", "versionless_id", "resource_versionless_id")
# A data source's own identifiers: an alias data source names its target key first.
_DATA_IDENTIFIERS = ("target_key_arn", *_IDENTIFIERS)
_ALIAS_ARN = re.compile(r"arn:aws[\w-]*:kms:[^:]*:[^:]*:(alias/.+)")
_KEY_ARN = re.compile(r"arn:aws[\w-]*:kms:[^:]*:[^:]*:key/(.+)")
_GCP_VERSION = re.compile(r"(projects/.+/cryptoKeys/[^/]+)/cryptoKeyVersions/[^/]+")
_AZURE_VERSION = re.compile(r"(https://[^/]+/keys/[^/]+)/[^/]+", re.IGNORECASE)


@dataclass(eq=False)
class GateKey:
    address: str
    resource: Resource | None = None  # None: an existing key the input only refers to
    identifiers: list[str] = field(default_factory=list)
    known: Any = None  # selectors.KnownKey when matched to the inventory
    uses: list[tuple[Use, Consumer, dict[str, str]]] = field(default_factory=list)
    primary: GateKey | None = None  # a replica key's primary key, when the input holds it

    @property
    def ref(self) -> str:
        if self.known is not None:
            return self.known.external_id
        return self.identifiers[0] if self.identifiers else ""


def forms(text: str) -> list[str]:
    """The ways one literal may name a key: as written, and the alias, key id or version-less id it holds."""
    found = [text]
    for pattern in (_ALIAS_ARN, _KEY_ARN, _GCP_VERSION, _AZURE_VERSION):
        match = pattern.fullmatch(text)
        if match:
            found.append(match.group(1))
    return found


def _identifiers(resource: Resource) -> list[str]:
    values = resource.values
    found = [values[name] for name in _IDENTIFIERS if isinstance(values.get(name), str) and values[name]]
    if resource.type == "google_kms_crypto_key" and values.get("key_ring") and values.get("name"):
        found.append(f"{values['key_ring']}/cryptoKeys/{values['name']}")
    if resource.type == "vault_transit_secret_backend_key" and values.get("backend") and values.get("name"):
        found.append(f"{str(values['backend']).strip('/')}/keys/{values['name']}")
    return found


class Gate:
    def __init__(self, infra: Infrastructure, lookup: Lookup, tag_keys: Any, consumers: tuple[Consumer, ...]):
        self.infra, self.lookup, self.tag_keys = infra, lookup, tag_keys
        self.consumers = consumers_by_type(consumers)
        self.by_config: dict[str, list[Resource]] = {}
        for resource in infra.resources:
            self.by_config.setdefault(resource.config_address, []).append(resource)
        self.keys: dict[str, GateKey] = {}
        self.by_identifier: dict[str, GateKey] = {}
        self.aliases: dict[str, list[GateKey]] = {}  # alias name -> its target keys
        self.pending: dict[str, list[tuple[Use, Consumer, dict[str, str]]]] = {}  # literal -> uses

    # -- configuration references ---------------------------------------------------------------------------------
    def _module(self, path: tuple[str, ...]) -> ConfigModule | None:
        module = self.infra.config
        for name in path:
            if module is None or name not in module.calls:
                return None
            module = module.calls[name][1]
        return module

    def _resolve(self, path: tuple[str, ...], reference: str, depth: int = 0) -> set[str]:
        """The absolute configuration addresses of the resources a reference leads to."""
        parts = reference.split(".")
        if depth > 20 or len(parts) < 2:
            return set()
        found: set[str] = set()
        if parts[0] == "var":
            parent = self._module(path[:-1]) if path else None
            if parent is not None and path[-1] in parent.calls:
                expression = parent.calls[path[-1]][0].get(parts[1]) or {}
                for ref in _references(expression):
                    found |= self._resolve(path[:-1], ref, depth + 1)
        elif parts[0] == "module":
            child = self._module((*path, parts[1])) if len(parts) >= 3 else None
            if child is not None:
                for ref in _references(child.outputs.get(parts[2]) or {}):
                    found |= self._resolve((*path, parts[1]), ref, depth + 1)
        elif parts[0] == "data":
            if len(parts) >= 3:
                found.add(f"{module_prefix(path)}data.{parts[1]}.{parts[2]}")
        elif parts[0] not in ("local", "each", "count", "path", "terraform", "self"):
            found.add(f"{module_prefix(path)}{parts[0]}.{parts[1]}")
        return found

    def _expressions(self, resource: Resource) -> dict[str, Any]:
        module = self._module(resource.module_path)
        return (module.resources.get(resource.local_address) if module else None) or {}

    # -- keys -----------------------------------------------------------------------------------------------------
    def _collect_keys(self) -> None:
        for resource in self.infra.resources:
            if resource.mode == "managed" and resource.type in KEY_TYPES:
                key = GateKey(resource.address, resource, _identifiers(resource))
                self.keys[resource.address] = key
                for identifier in key.identifiers:
                    for form in forms(identifier):
                        self.by_identifier.setdefault(form, key)
        for resource in self.infra.resources:
            if resource.mode == "managed" and resource.type == ALIAS_TYPE and resource.values.get("name"):
                targets = self._targets(resource, "target_key_id")
                self.aliases[str(resource.values["name"])] = [t for t in targets if isinstance(t, GateKey)]
        for key in self.keys.values():
            if key.resource is not None and key.resource.type == "aws_kms_replica_key":
                primary = [t for t in self._targets(key.resource, "primary_key_arn") if isinstance(t, GateKey)]
                key.primary = primary[0] if primary else None

    def _targets(self, resource: Resource, attribute: str) -> list[GateKey | str]:
        """What one attribute points at: keys of the input, or literals (to match to the inventory)."""
        expressions = _walk(self._expressions(resource), attribute.split("."))
        found: list[GateKey | str] = []
        for reference in (ref for expression in expressions for ref in _references(expression)):
            for address in self._resolve(resource.module_path, reference):
                for target in self.by_config.get(address, []):
                    found.extend(self._target_of(target))
        if not found:
            for value in _walk(resource.values, attribute.split(".")):
                for literal in value if isinstance(value, list) else [value]:
                    if isinstance(literal, str) and literal:
                        found.extend(self._literal(literal))
        return list(dict.fromkeys(found))

    def _target_of(self, target: Resource) -> list[GateKey | str]:
        if target.mode == "managed" and target.address in self.keys:
            return [self.keys[target.address]]
        if target.mode == "managed" and target.type == ALIAS_TYPE:
            return self._targets(target, "target_key_id")
        if target.mode == "data":
            literals = [v for name in _DATA_IDENTIFIERS if isinstance(v := target.values.get(name), str) and v]
            return [found for literal in literals[:1] for found in self._literal(literal)]
        return []

    def _literal(self, literal: str) -> list[GateKey | str]:
        for form in forms(literal):
            if form in self.by_identifier:
                return [self.by_identifier[form]]
            if form in self.aliases:
                return list(self.aliases[form])
        return [literal]

    # -- run ------------------------------------------------------------------------------------------------------
    def run(self) -> ScanResult:
        self._collect_keys()
        uses = 0
        for resource in self.infra.resources:
            if resource.mode != "managed":
                continue
            for row in self.consumers.get(resource.type, ()):
                tags = tags_of(resource.type, resource.values)
                use = Use(resource.address, resource.type, row.attribute, row.purpose_class)
                targets = self._targets(resource, row.attribute)
                uses += bool(targets)
                for target in targets:
                    if isinstance(target, GateKey):
                        target.uses.append((use, row, tags))
                    else:
                        self.pending.setdefault(target, []).append((use, row, tags))
        self._match_inventory()
        result = ScanResult(self.infra.sha256, self.infra.source, resources=len(self.infra.resources))
        result.consumers = uses
        result.keys = len(self.keys)
        result.matched = sum(key.known is not None for key in self.keys.values())
        result.key_addresses = sorted({rules.safe(key.address) for key in self.keys.values()})
        for key in self.keys.values():
            result.violations.extend(rules.check(key, self.tag_keys))
        return result

    def _match_inventory(self) -> None:
        wanted = {form for key in self.keys.values() for identifier in key.identifiers for form in forms(identifier)}
        wanted |= {form for literal in self.pending for form in forms(literal)}
        known = self.lookup(wanted) if wanted else {}
        for key in self.keys.values():
            key.known = next((known[f] for i in key.identifiers for f in forms(i) if f in known), None)
        for literal, literal_uses in self.pending.items():
            match = next((known[form] for form in forms(literal) if form in known), None)
            address = match.external_id if match else forms(literal)[-1]
            key = self.keys.setdefault(address, GateKey(address if match else literal, None, [literal], match))
            key.uses.extend(literal_uses)


def _references(expression: Any) -> list[str]:
    if isinstance(expression, dict):
        return [ref for ref in expression.get("references") or [] if isinstance(ref, str)]
    return []


def _walk(node: Any, segments: list[str]) -> list[Any]:
    """The values (or expressions) at a dotted path; nested blocks are lists (or single objects) on the way."""
    nodes = [node]
    for segment in segments:
        following = []
        for item in nodes:
            for element in item if isinstance(item, list) else [item]:
                if isinstance(element, dict) and segment in element:
                    following.append(element[segment])
        nodes = following
    return [item for item in nodes if item is not None]


def scan(
    infra: Infrastructure, *, lookup: Lookup, tag_keys: Any, consumers: tuple[Consumer, ...] = CONSUMERS
) -> ScanResult:
    with paused_gc():
        return Gate(infra, lookup, tag_keys, consumers).run()
