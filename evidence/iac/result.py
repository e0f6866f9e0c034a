"""What a scan finds, in plain data a later change can record as evidence."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

RULES: dict[str, tuple[str, str]] = {
    # rule id: (short description, how to fix)
    "iac-multi-purpose": (
        "A key is used by consumers of more than one purpose class.",
        "Give each purpose class its own key: create one key per purpose and point each consumer at the key of "
        "its purpose.",
    ),
    "iac-multi-service": (
        "A key is used by more than one service.",
        "Give each service its own key (the consumers' service tags name the services).",
    ),
    "iac-multi-tenant": (
        "A key is used by more than one tenant.",
        "Give each tenant its own key (the consumers' tenant tags name the tenants).",
    ),
    "iac-key-usage": (
        "A key's usage or key spec cannot serve its consumer.",
        "Point the consumer at a key created for what it needs (a symmetric ENCRYPT_DECRYPT key for encryption at "
        "rest, a signing key for signatures).",
    ),
    "iac-no-purpose-tag": (
        "A new key has no purpose tag.",
        "Add the purpose tag (the key store's purpose tag key) with the key's one purpose.",
    ),
    "iac-purpose-contradicts-inventory": (
        "A key's purpose tag or usage contradicts the purpose the inventory records for it.",
        "Correct the tag (or the key) to match the recorded purpose, or change the recorded purpose with a "
        "justification in the inventory first.",
    ),
}


@dataclass(frozen=True)
class Use:
    """One consumer of a key: resource address and type, the attribute that points at the key, its purpose class."""

    address: str
    type: str
    attribute: str
    purpose_class: str


@dataclass(frozen=True)
class Violation:
    rule: str
    key_address: str  # the key's address in the plan, or how the configuration refers to an existing key
    key_ref: str  # the key's ARN / id / resource name when known (the inventory's external id when matched)
    consumers: tuple[Use, ...]
    message: str
    fix: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ScanResult:
    sha256: str
    source: str  # "plan" or "hcl"
    resources: int = 0
    keys: int = 0  # keys found: created or changed in the input, or existing keys its consumers point at
    consumers: int = 0  # consumer attributes that point at a key
    matched: int = 0  # keys matched to the inventory
    key_addresses: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.violations

    @property
    def counts(self) -> dict[str, int]:
        by_rule: dict[str, int] = {}
        for violation in self.violations:
            by_rule[violation.rule] = by_rule.get(violation.rule, 0) + 1
        return by_rule

    def as_dict(self) -> dict:
        return {
            "sha256": self.sha256,
            "source": self.source,
            "passed": self.passed,
            "counts": {
                "resources": self.resources,
                "keys": self.keys,
                "consumers": self.consumers,
                "matched_in_inventory": self.matched,
                "violations": len(self.violations),
                "by_rule": self.counts,
            },
            "violations": [violation.as_dict() for violation in self.violations],
        }


# A commit outside the scan row itself (finding details, webhook bodies, pack files) is git's short form: a full
# 40-digit SHA has the shape of a 160-bit secret, which the export guard stops (the scan's page shows it whole).
SHORT_COMMIT = 12


def short_commit(commit: str) -> str:
    return (commit or "")[:SHORT_COMMIT]
