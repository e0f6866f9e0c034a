"""Editing a draft, publishing it (fill rules, digest, check run) and the freeze of published answers."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from evidence.answers import selectors as selectors_answers
from evidence.answers import services
from evidence.answers.services import answer_content, answer_digest, canonical_json
from evidence.models import AnswerStatus, CaiqAnswer, FrozenRecordError
from tests.evidence.caiq import key_policy, make_run, us

pytestmark = pytest.mark.django_db

LATER = (dt.date.today() + dt.timedelta(days=60)).isoformat()


@pytest.fixture
def party():
    return us()


@pytest.fixture
def draft(grc_user, party):
    key_policy(grc_user)
    make_run()
    return services.answer_generate(party=party, actor=grc_user)


def test_grc_edits_the_texts_of_a_draft(draft, grc_user):
    updated = services.answer_update(
        draft, actor=grc_user, implementation="Edited description.", customer_responsibilities="Edited F."
    )
    assert updated.implementation == "Edited description."
    assert updated.generated_implementation == draft.generated_implementation
    assert updated.updated_by == grc_user


def test_overriding_the_answer_needs_a_reason(draft, grc_user):
    with pytest.raises(ValidationError) as caught:
        services.answer_update(draft, actor=grc_user, answer="NO")
    assert "override_reason" in caught.value.error_dict
    plan = {"owner": "Alice", "milestones": [{"text": "Rotate the shared key", "due": LATER}], "due": LATER}
    updated = services.answer_update(
        draft, actor=grc_user, answer="NO", override_reason="An open audit finding.", corrective_action=plan
    )
    assert updated.is_overridden and updated.override_reason == "An open audit finding."
    back = services.answer_update(updated, actor=grc_user, answer="YES")
    assert not back.is_overridden and back.override_reason == ""


def test_key_material_is_refused_in_every_text(draft, grc_user):
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\n-----END RSA PRIVATE KEY-----"
    with pytest.raises(ValidationError):
        services.answer_update(draft, actor=grc_user, implementation=pem)
    with pytest.raises(ValidationError):
        services.answer_update(
            draft, actor=grc_user, disclosures=[{"guideline": "AG-2", "gap": pem, "remediation": "r", "due": LATER}]
        )
    with pytest.raises(ValidationError):
        services.answer_update(
            draft, actor=grc_user, corrective_action={"owner": "A", "milestones": [{"text": pem, "due": LATER}]}
        )


def test_structured_fields_are_cleaned(draft, grc_user):
    updated = services.answer_update(
        draft,
        actor=grc_user,
        disclosures=[{"guideline": " AG-2 ", "gap": "g", "remediation": "r", "due": LATER}, {}],
        corrective_action={"owner": "", "milestones": [{"text": "", "due": ""}], "due": ""},
    )
    assert updated.disclosures == [{"guideline": "AG-2", "gap": "g", "remediation": "r", "due": LATER}]
    assert updated.corrective_action == {}
    with pytest.raises(ValidationError, match="not a date"):
        services.answer_update(
            draft, actor=grc_user, disclosures=[{"guideline": "AG-2", "gap": "g", "remediation": "r", "due": "soon"}]
        )


def test_publishing_freezes_the_answer_with_its_digest_and_run(draft, grc_user):
    published = services.answer_publish(answer=draft, actor=grc_user)
    assert published.status == AnswerStatus.PUBLISHED
    assert published.published_by == grc_user and published.published_at is not None
    assert published.check_run_id == draft.check_run_id
    expected = hashlib.sha256(canonical_json(answer_content(published))).hexdigest()
    assert published.sha256 == expected == answer_digest(CaiqAnswer.objects.get(pk=published.pk))
    assert answer_content(published)["facts"]["check_run"]["id"] == draft.check_run_id


def test_a_published_answer_is_frozen_everywhere(draft, grc_user):
    published = services.answer_publish(answer=draft, actor=grc_user)
    published.implementation = "Changed afterwards."
    with pytest.raises(FrozenRecordError):
        published.save()
    with pytest.raises(FrozenRecordError):
        published.delete()
    with pytest.raises(ValidationError, match="frozen"):
        services.answer_update(published, actor=grc_user, implementation="Changed afterwards.")
    with pytest.raises(ValidationError, match="already published"):
        services.answer_publish(answer=published, actor=grc_user)
    assert CaiqAnswer.objects.get(pk=published.pk).implementation == draft.implementation


def test_publishing_lists_every_broken_fill_rule(draft, grc_user):
    services.answer_update(draft, actor=grc_user, answer="NA", override_reason="Testing.", na_justification="")
    with pytest.raises(ValidationError) as caught:
        services.answer_publish(answer=draft, actor=grc_user)
    assert caught.value.messages == [
        "NA is answered with ownership ND, not “Shared OSP-AP”.",
        "NA needs a justification of why CEK-11 does not apply.",
    ]
    assert CaiqAnswer.objects.get(pk=draft.pk).status == AnswerStatus.DRAFT


def test_a_draft_without_a_check_run_cannot_be_published(grc_user, party):
    key_policy(grc_user)
    answer = services.answer_generate(party=party, actor=grc_user)
    with pytest.raises(ValidationError, match="No check run evaluated"):
        services.answer_publish(answer=answer, actor=grc_user)


def test_a_disclosure_overdue_by_publication_day_is_refused(grc_user, party, time_machine):
    key_policy(grc_user)
    make_run({"AG-7": "partial"})
    answer = services.answer_generate(party=party, actor=grc_user)
    time_machine.move_to(timezone.now() + dt.timedelta(days=120))
    with pytest.raises(ValidationError, match="which has passed"):
        services.answer_publish(answer=answer, actor=grc_user)


def test_only_grc_edits_and_publishes(draft, auditor, owner):
    for user in (auditor, owner):
        with pytest.raises(PermissionDenied):
            services.answer_update(draft, actor=user, implementation="x")
        with pytest.raises(PermissionDenied):
            services.answer_publish(answer=draft, actor=user)


def test_history_keeps_every_answer_and_the_current_one_prefers_published(draft, grc_user, party):
    published = services.answer_publish(answer=draft, actor=grc_user)
    newer = services.answer_generate(party=party, actor=grc_user)
    assert list(selectors_answers.answer_history(party=party)) == [newer, published]
    assert selectors_answers.current_answer(party=party) == published
    assert selectors_answers.latest_draft(party=party) == newer
    assert CaiqAnswer.objects.get(pk=published.pk).sha256 == published.sha256


def test_unknown_fields_are_a_programming_error(draft, grc_user):
    with pytest.raises(ValueError, match="status"):
        services.answer_update(draft, actor=grc_user, status="published")
