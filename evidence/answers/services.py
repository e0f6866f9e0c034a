"""Writes of the CEK-11.1 answer: generate a draft, edit it, publish it (frozen with its digest).

- ``answer_generate``: a new draft for a party from a check run (default: the newest succeeded run), with the
  facts it was written from; drafting is possible without any run (the draft says so and cannot be published);
- ``answer_update``: GRC edits a draft's texts, ownership, disclosures and plan; overriding the generated
  answer needs a recorded reason;
- ``answer_publish``: checks the fill rules (``evidence.answers.rules``), then freezes the answer with the
  SHA-256 of its canonical JSON content and the check run it came from.

Published answers never change (``CaiqAnswer.save`` refuses); the history is the list of answers per party.
"""

from __future__ import annotations

import hashlib
import json

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cek.control import load_control
from cek.keymaterial import check_text
from cek.people import person_name
from evidence.answers import rules
from evidence.answers.facts import QUESTION_ID, gather_facts
from evidence.answers.generate import draft_from_facts
from evidence.checks import selectors as check_selectors
from evidence.models import AnswerStatus, CaiqAnswer, CheckRun, RunStatus
from evidence.writes import require_grc, today_local
from inventory.models import Party

EDITABLE_FIELDS = (
    "answer",
    "override_reason",
    "ownership",
    "implementation",
    "customer_responsibilities",
    "disclosures",
    "corrective_action",
    "na_justification",
)
# What the digest covers, in this order (facts included: the figures are part of the published evidence).
CONTENT_FIELDS = (
    "question_id",
    "catalog_version",
    "generated_answer",
    "answer",
    "override_reason",
    "generated_ownership",
    "ownership",
    "implementation",
    "customer_responsibilities",
    "disclosures",
    "corrective_action",
    "na_justification",
    "facts",
)
DISCLOSURE_KEYS = ("guideline", "gap", "remediation", "due")


def answer_generate(*, party: Party, actor, run: CheckRun | None = None) -> CaiqAnswer:
    """A new draft answer of ``party`` from ``run`` (default: the newest succeeded check run, if any)."""
    require_grc(actor, "generate CAIQ answers")
    if run is None:
        run = check_selectors.latest_run()
    elif run.status != RunStatus.SUCCEEDED:
        raise ValidationError(
            f"Check run #{run.pk} is {run.get_status_display().lower()}; an answer is drafted from a succeeded run."
        )
    today = today_local()
    facts = gather_facts(party=party, run=run, today=today)
    draft = draft_from_facts(facts, today=today, plan_owner=person_name(actor))
    answer = CaiqAnswer(
        party=party,
        question_id=QUESTION_ID,
        catalog_version=load_control().version,
        check_run=run,
        generated_answer=draft.answer,
        answer=draft.answer,
        generated_ownership=draft.ownership,
        ownership=draft.ownership,
        implementation=draft.implementation,
        generated_implementation=draft.implementation,
        customer_responsibilities=draft.customer_responsibilities,
        disclosures=draft.disclosures,
        corrective_action=draft.corrective_action,
        na_justification=draft.na_justification,
        facts=facts,
        created_by=actor,
        updated_by=actor,
    )
    answer.full_clean()
    with transaction.atomic():
        answer.save()
    return answer


def _clean_disclosures(value) -> list[dict]:
    if not isinstance(value, list):
        raise ValidationError({"disclosures": "Disclosures are a list of gaps."})
    cleaned = []
    for index, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise ValidationError({"disclosures": f"Disclosure {index} is not a gap with its remediation."})
        row = {key: str(item.get(key) or "").strip() for key in DISCLOSURE_KEYS}
        if not any(row.values()):
            continue
        for key in ("guideline", "gap", "remediation"):
            check_text(row[key], field=f"Disclosure {index} {key}")
        if row["due"] and rules.parse_day(row["due"]) is None:
            raise ValidationError({"disclosures": f"Disclosure {index}: “{row['due']}” is not a date (YYYY-MM-DD)."})
        cleaned.append(row)
    return cleaned


def _clean_plan(value) -> dict:
    if not isinstance(value, dict):
        raise ValidationError(
            {"corrective_action": "The corrective-action plan has an owner, milestones and a due date."}
        )
    owner = str(value.get("owner") or "").strip()
    due = str(value.get("due") or "").strip()
    check_text(owner, field="The plan's owner")
    milestones = []
    for index, item in enumerate(value.get("milestones") or [], start=1):
        if not isinstance(item, dict):
            raise ValidationError({"corrective_action": f"Milestone {index} is not a text with a due date."})
        text, day = str(item.get("text") or "").strip(), str(item.get("due") or "").strip()
        if not text and not day:
            continue
        check_text(text, field=f"Milestone {index}")
        if day and rules.parse_day(day) is None:
            raise ValidationError({"corrective_action": f"Milestone {index}: “{day}” is not a date (YYYY-MM-DD)."})
        milestones.append({"text": text, "due": day})
    if due and rules.parse_day(due) is None:
        raise ValidationError({"corrective_action": f"The plan's due date “{due}” is not a date (YYYY-MM-DD)."})
    if not (owner or due or milestones):
        return {}
    return {"owner": owner, "milestones": milestones, "due": due}


def answer_update(answer: CaiqAnswer, /, *, actor, **fields) -> CaiqAnswer:
    """Edit a draft (``answer`` is positional, so the field named ``answer`` can be among ``fields``). ``fields`` among ``EDITABLE_FIELDS``; an answer other than the generated one needs an
    ``override_reason`` (kept, and shown beside the answer); going back to the generated answer clears it."""
    require_grc(actor, "edit CAIQ answers")
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"answer_update does not change {', '.join(sorted(unknown))}")
    with transaction.atomic():
        answer = CaiqAnswer.objects.select_for_update().get(pk=answer.pk)
        if answer.status == AnswerStatus.PUBLISHED:
            raise ValidationError("This answer is published and frozen; generate a new draft to change the answer.")
        for name, value in fields.items():
            if name == "disclosures":
                value = _clean_disclosures(value)
            elif name == "corrective_action":
                value = _clean_plan(value)
            elif isinstance(value, str):
                value = value.strip()
            setattr(answer, name, value)
        if answer.answer == answer.generated_answer:
            answer.override_reason = ""
        elif not answer.override_reason:
            raise ValidationError(
                {
                    "override_reason": (
                        f"The evidence gives {answer.generated_answer}; give the reason for answering "
                        f"{answer.answer} instead."
                    )
                }
            )
        answer.updated_by = actor
        answer.full_clean()
        answer.save()
    return answer


def answer_content(answer: CaiqAnswer) -> dict:
    """The content the digest covers (also part of the JSON export)."""
    content = {name: getattr(answer, name) for name in CONTENT_FIELDS}
    content["party"] = answer.party.name
    content["check_run"] = answer.check_run_id
    return content


def canonical_json(content: dict) -> bytes:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def answer_digest(answer: CaiqAnswer) -> str:
    """SHA-256 of the answer's canonical JSON content (``answer_content``)."""
    return hashlib.sha256(canonical_json(answer_content(answer))).hexdigest()


def answer_publish(*, answer: CaiqAnswer, actor) -> CaiqAnswer:
    """Publish a draft: refuses with every broken fill rule listed; freezes the answer with its digest."""
    require_grc(actor, "publish CAIQ answers")
    with transaction.atomic():
        answer = CaiqAnswer.objects.select_for_update().select_related("party").get(pk=answer.pk)
        if answer.status == AnswerStatus.PUBLISHED:
            raise ValidationError("This answer is already published.")
        violations = rules.validate(answer, today=today_local())
        if violations:
            raise ValidationError([violation.message for violation in violations], code="fill_rules")
        answer.status = AnswerStatus.PUBLISHED
        answer.published_at = timezone.now()
        answer.published_by = actor
        answer.updated_by = actor
        answer.sha256 = answer_digest(answer)
        answer.full_clean()
        answer.save()
    return answer
