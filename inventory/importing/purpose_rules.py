"""Purpose rules and conflicts: the rules of ``services.key_validate_purpose`` (a justification needs a purpose,
no newly mapped retired purpose, the purpose's allowed kinds) decided for each planned row without a query, and
the conflicts of a declared purpose with the key's kind or platform usage."""

from __future__ import annotations

from inventory.importers.base import KeyRow, choices_text, describe_value
from inventory.importing.lookups import StoredKey, _Lookups
from inventory.importing.plan import RowPlan, WarningKind
from inventory.models import KeyKind, Purpose
from inventory.usage import usage_conflict

# Distinct situations remembered per import: a file repeats a few purposes, kinds and usages over its keys.
_REMEMBERED = 10_000


class PurposeRules:
    """The checks of a row's purpose. What they say depends on a few values only (the purpose, the key's kind
    and platform usage, whether the purpose is newly mapped and given by the row): the messages of each
    combination are worked out once per import and repeated for the rows that share it."""

    def __init__(self, lookups: _Lookups, *, reads_tags: bool = False) -> None:
        self.lk = lookups
        self.reads_tags = reads_tags
        self._said: dict[tuple, list[tuple[bool, str, str, str]]] = {}

    def check(
        self, row: KeyRow, plan: RowPlan, existing: StoredKey | None, purpose: Purpose | None, error, warn
    ) -> None:
        if purpose is None:
            if plan.values.get("purpose_justification") or plan.values.get("purpose_approver"):
                error(
                    "purpose",
                    "the row has a purpose justification or approver but no purpose; give the purpose too.",
                )
            return
        kind = plan.values.get("kind", existing.kind if existing else str(KeyKind.SYMMETRIC_KEY))
        newly_mapped = existing is None or existing.purpose_id != purpose.pk
        usage = plan.values.get("platform_usage", existing.platform_usage if existing else "")
        given = "purpose" in row.fields
        situation = (purpose.pk, kind, newly_mapped, given, row.purpose if given else "", usage, "kind" in row.fields)
        said = self._said.get(situation)
        if said is None:
            said = []
            self._check(
                row.purpose,
                given,
                "kind" in row.fields,
                purpose,
                kind,
                newly_mapped,
                usage,
                lambda column, message: said.append((True, column, "", message)),
                lambda column, warning, message: said.append((False, column, warning, message)),
            )
            if len(self._said) >= _REMEMBERED:
                self._said.clear()
            self._said[situation] = said
        for is_error, column, warning, message in said:
            if is_error:
                error(column, message)
            else:
                warn(column, warning, message)

    def _check(
        self,
        declared: str,
        given: bool,
        kind_given: bool,
        purpose: Purpose,
        kind,
        newly_mapped: bool,
        usage,
        error,
        warn,
    ) -> None:
        # The rules of services.key_validate_purpose, decided here without a query per row; key_save applies
        # them again when a key is edited. For platform exports a declared purpose that does not fit the key
        # is a conflict (imported, shown, recorded), not an error: the platform's facts are what they are.
        if given and newly_mapped and not purpose.is_active:
            error(
                "purpose",
                f"{describe_value('purpose', declared)}; the purpose '{purpose.name}' is retired. "
                f"Choose an active purpose: {choices_text(self.lk.active_purposes)}.",
            )
        if purpose.allowed_kinds and kind not in purpose.allowed_kinds:
            message = (
                f"column 'kind' is '{kind}'; the purpose '{purpose.slug}' is for keys of kind "
                f"{', '.join(purpose.allowed_kinds)}."
            )
            if self.reads_tags:
                warn("kind", WarningKind.CONFLICT, f"{message} Correct the tag or the purpose's allowed kinds.")
            else:
                column = "kind" if kind_given else "purpose"
                error(column, f"{message} Choose a purpose that fits the key, or correct its kind.")
        conflict = usage_conflict(usage, purpose.function) if usage else None
        if conflict:
            warn(
                "purpose",
                WarningKind.CONFLICT,
                f"the purpose '{purpose.slug}' contradicts the key's platform usage: {conflict}. The key is "
                "imported with the conflict recorded (AG-1).",
            )
