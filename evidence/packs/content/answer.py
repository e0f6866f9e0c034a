"""The CEK-11.1 answer section (``templates/pdf/_answer.html``): the party's published answer, else its draft."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from evidence.models import AnswerStatus, CaiqAnswer, EvidencePack
from evidence.packs.content.table import person


@dataclass
class AnswerSection:
    question_id: str
    question_text: str
    party: str
    is_draft: bool
    answer: str
    answer_label: str
    generated_answer: str
    override_reason: str
    ownership: str
    implementation: str
    customer_responsibilities: str
    disclosures: list[dict]
    corrective_action: dict
    na_justification: str
    check_run_id: int | None
    created_at: dt.datetime
    created_by: str
    published_at: dt.datetime | None
    published_by: str
    sha256: str


def answer_section(pack: EvidencePack, control) -> AnswerSection | None:
    answers = CaiqAnswer.objects.filter(party=pack.party).select_related("created_by", "published_by")
    answer = (
        answers.filter(status=AnswerStatus.PUBLISHED).order_by("-published_at", "-id").first()
        or answers.filter(status=AnswerStatus.DRAFT).order_by("-created_at", "-id").first()
    )
    if answer is None:
        return None
    try:
        question_text = control.question(answer.question_id).text
    except KeyError:
        question_text = ""
    return AnswerSection(
        question_id=answer.question_id,
        question_text=question_text,
        party=pack.party.name,
        is_draft=answer.status != AnswerStatus.PUBLISHED,
        answer=answer.answer,
        answer_label=answer.get_answer_display(),
        generated_answer=answer.generated_answer,
        override_reason=answer.override_reason,
        ownership=answer.ownership,
        implementation=answer.implementation,
        customer_responsibilities=answer.customer_responsibilities,
        disclosures=list(answer.disclosures or []),
        corrective_action=dict(answer.corrective_action or {}),
        na_justification=answer.na_justification,
        check_run_id=answer.check_run_id,
        created_at=answer.created_at,
        created_by=person(answer.created_by),
        published_at=answer.published_at,
        published_by=person(answer.published_by),
        sha256=answer.sha256,
    )
