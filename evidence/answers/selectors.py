"""Reads of CEK-11.1 answers: the history per party, the current answer, the party to answer for."""

from __future__ import annotations

from django.db.models import QuerySet

from evidence.models import AnswerStatus, CaiqAnswer
from inventory.models import Party


def answers() -> QuerySet[CaiqAnswer]:
    return CaiqAnswer.objects.select_related("party", "check_run", "created_by", "published_by", "updated_by")


def answer_history(*, party: Party) -> QuerySet[CaiqAnswer]:
    """Every answer of ``party``, newest first (one query per page)."""
    return answers().filter(party=party).order_by("-created_at", "-id")


def latest_published(*, party: Party) -> CaiqAnswer | None:
    return answers().filter(party=party, status=AnswerStatus.PUBLISHED).order_by("-published_at", "-id").first()


def latest_draft(*, party: Party) -> CaiqAnswer | None:
    return answers().filter(party=party, status=AnswerStatus.DRAFT).order_by("-created_at", "-id").first()


def current_answer(*, party: Party) -> CaiqAnswer | None:
    """The newest published answer, else the newest draft (what exports use by default)."""
    return latest_published(party=party) or latest_draft(party=party)


def party_us() -> Party | None:
    return Party.objects.filter(is_us=True).first()


def parties() -> QuerySet[Party]:
    return Party.objects.order_by("-is_us", "name")
