"""Every rule a producer can emit has a title in the one catalogue, and pages show titles, not only ids."""

from __future__ import annotations

import pytest

from evidence.campaigns.services import DISCREPANCY_RULE
from evidence.checks.registry import OWNED_RULES
from evidence.findings.rules import catalogue, rule_title
from evidence.iac.result import RULES as IAC_RULES
from evidence.usage.misuse import RULES as USAGE_RULES

EMITTED = sorted({*OWNED_RULES, *IAC_RULES, *USAGE_RULES, DISCREPANCY_RULE})


@pytest.mark.parametrize("rule", EMITTED)
def test_every_emitted_rule_has_a_sentence_for_a_title(rule):
    title = rule_title(rule)
    assert title != rule and " " in title and title[0].isupper() and not title.endswith(".")


def test_the_catalogue_names_no_rule_nobody_emits():
    assert sorted(catalogue()) == EMITTED


def test_an_unknown_rule_reads_as_its_id():
    assert rule_title("retired-rule") == "retired-rule"


def test_the_alerts_use_the_same_catalogue():
    from evidence.alerts import services

    assert services.rule_title is rule_title
