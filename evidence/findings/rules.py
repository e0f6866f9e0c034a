"""The one catalogue of finding rule titles: what a person reads instead of a rule id.

A rule id (``ag-3-single-purpose``) stays the machine-readable name (filters, exports, the API); pages, e-mails and
charts show the rule's title, a sentence saying what was found. The producers keep their own rule lists (the
checks' ``rule``, the IaC gate's and the usage monitor's ``RULES``, the attestation discrepancy); this module only
puts a title on each, so a new rule without a title fails ``tests/test_rule_titles.py``.
"""

from __future__ import annotations

from functools import cache

# The checks' rules (evidence/checks/guidelines/*.py ``rule``): one finding per key (or store, or policy) that
# fails the guideline, worded as what was found rather than as the guideline's aim.
CHECK_RULE_TITLES: dict[str, str] = {
    "ag-1-purpose": "The key has no single purpose compatible with its platform usage",
    "ag-2-mapping": "The key's purpose mapping is not documented or not reviewed in time",
    "ag-3-single-purpose": "The key is used for more than one purpose",
    "ag-4-operations": "The key allows operations outside its purpose",
    "ag-5-access": "Access to the key is broader than least privilege",
    "ag-6-ai-isolation": "The AI key is shared across services or tenants",
    "ag-7-purpose-tag": "The key's label does not carry its purpose",
    "ag-10-exposure": "The key is exposed to another party without scope or contract",
    "ccm-1-policy": "No approved key-management policy is in force and reviewed",
    "ccm-2-inventory": "The inventory does not identify the key or its owner",
    "ccm-3-lifecycle": "The key is not managed according to policy",
}

DISCREPANCY_TITLE = "The key owner's attestation contradicts the inventory"


@cache
def catalogue() -> dict[str, str]:
    """Every rule id any producer can emit, with its title (built once; the producers import lazily because
    they import the findings app)."""
    from evidence.campaigns.services import DISCREPANCY_RULE
    from evidence.iac.result import RULES as IAC_RULES
    from evidence.usage.misuse import RULES as USAGE_RULES

    titles = dict(CHECK_RULE_TITLES)
    for rules in (IAC_RULES, USAGE_RULES):
        titles.update({rule: entry[0].rstrip(".") for rule, entry in rules.items()})
    titles[DISCREPANCY_RULE] = DISCREPANCY_TITLE
    return titles


def rule_title(rule: str) -> str:
    """The title of ``rule``; an unknown id (a rule retired since its findings were raised) reads as itself."""
    return catalogue().get(rule, rule)
