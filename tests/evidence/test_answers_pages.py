"""The CEK-11.1 answer pages: who may see and do what, the generate / edit / publish flow, downloads, the
template upload, and the ``caiq_answer`` command."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from cek.templatetags.dates import words_date, words_datetime
from evidence.answers import services
from evidence.models import AnswerStatus, CaiqAnswer
from tests.evidence.caiq import blank_caiq_workbook, key_policy, make_run, us
from tests.factories import PartyFactory

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


@pytest.fixture
def published(grc_user, party):
    key_policy(grc_user)
    make_run()
    answer = services.answer_generate(party=party, actor=grc_user)
    return services.answer_publish(answer=answer, actor=grc_user)


# --- Permissions ----------------------------------------------------------------------------------------------

READ = {"grc": 200, "auditor": 200, "owner": 403, "other_owner": 403, "outsider": 403}


def test_reading_pages_is_for_grc_and_auditors(role, draft):
    name, _user, client = role
    urls = [
        reverse("evidence:answer-list"),
        reverse("evidence:answer-detail", args=[draft.pk]),
        reverse("evidence:answer-template", args=[draft.pk]),
        *(reverse("evidence:answer-export", args=[draft.pk, fmt]) for fmt in ("xlsx", "csv", "json")),
    ]
    for url in urls:
        response = client.get(url)
        if name in ("anonymous", "expired_auditor"):  # an expired auditor's session ends: back to log in
            assert response.status_code == 302, url
            assert "/accounts/login/" in response["Location"]
        else:
            assert response.status_code == READ[name], (name, url)


def test_writing_is_for_grc_only(role, draft, party):
    name, _user, client = role
    posts = [
        (reverse("evidence:answer-generate"), {"party": party.pk}),
        (reverse("evidence:answer-edit", args=[draft.pk]), {"answer": "YES"}),
        (reverse("evidence:answer-publish", args=[draft.pk]), {}),
    ]
    grc_statuses = [302, 400, 302]  # generated; the edit lacks its required fields (form errors); published
    for (url, data), grc_status in zip(posts, grc_statuses, strict=True):
        response = client.post(url, data)
        if name == "grc":
            assert response.status_code == grc_status, url
        elif name in ("anonymous", "expired_auditor"):
            assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
        else:
            assert response.status_code == 403, (name, url)
    if name != "grc":
        assert CaiqAnswer.objects.filter(status=AnswerStatus.PUBLISHED).count() == 0
        assert CaiqAnswer.objects.count() == 1


def test_auditors_see_no_write_controls(auditor_client, draft):
    page = auditor_client.get(reverse("evidence:answer-detail", args=[draft.pk])).content.decode()
    assert "Publish" not in page and "Edit draft" not in page
    assert "Download xlsx" in page
    listing = auditor_client.get(reverse("evidence:answer-list")).content.decode()
    assert "Generate a draft" not in listing


def test_the_nav_links_the_answer_for_grc_and_auditors(grc_client, auditor_client, owner_client):
    url = reverse("evidence:answer-list")
    assert f'href="{url}"' in grc_client.get(reverse("evidence:policy-list")).content.decode()
    assert f'href="{url}"' in auditor_client.get(reverse("evidence:policy-list")).content.decode()
    assert f'href="{url}"' not in owner_client.get(reverse("evidence:policy-list")).content.decode()


# --- Flow ---------------------------------------------------------------------------------------------------


def test_grc_generates_a_draft_for_the_chosen_party(grc_client, grc_user):
    key_policy(grc_user)
    make_run()
    us()
    other = PartyFactory(name="Model Co", roles=["MP"])
    page = grc_client.get(reverse("evidence:answer-list"), {"party": other.pk}).content.decode()
    assert "SSRM Control Ownership: Shared Across the Supply Chain" in page
    response = grc_client.post(reverse("evidence:answer-generate"), {"party": other.pk})
    answer = CaiqAnswer.objects.get()
    assert response.status_code == 302 and response["Location"] == answer.get_absolute_url()
    assert answer.party == other and answer.ownership == "Shared Across the Supply Chain"
    detail = grc_client.get(answer.get_absolute_url()).content.decode()
    assert "All fill rules met" in detail and "Model Co" in detail


def test_the_list_defaults_to_us_and_survives_a_bad_party(grc_client, party):
    for query in ({}, {"party": "nope"}, {"party": "99999"}):
        page = grc_client.get(reverse("evidence:answer-list"), query)
        assert page.status_code == 200 and party.name in page.content.decode()


def test_the_list_without_any_party_explains_what_to_do(grc_client):
    assert "No party is recorded yet" in grc_client.get(reverse("evidence:answer-list")).content.decode()


def test_the_history_runs_a_constant_number_of_queries(grc_client, grc_user, party, django_assert_max_num_queries):
    make_run()
    for _ in range(3):
        services.answer_generate(party=party, actor=grc_user)
    with django_assert_max_num_queries(20) as few:
        grc_client.get(reverse("evidence:answer-list"))
    for _ in range(12):
        services.answer_generate(party=party, actor=grc_user)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = grc_client.get(reverse("evidence:answer-list"))
    assert page.content.decode().count("<tr data-answer=") == 15


def test_editing_overrides_the_answer_with_a_reason_and_structured_plan(grc_client, draft):
    url = reverse("evidence:answer-edit", args=[draft.pk])
    assert grc_client.get(url).status_code == 200
    data = {
        "answer": "NO",
        "override_reason": "",
        "ownership": "Shared OSP-AP",
        "implementation": "Edited.",
        "customer_responsibilities": "F.",
        "na_justification": "",
        "plan_owner": "Alice",
        "plan_due": LATER,
        "disclosures-TOTAL_FORMS": "1",
        "disclosures-INITIAL_FORMS": "0",
        "disclosures-MIN_NUM_FORMS": "0",
        "disclosures-MAX_NUM_FORMS": "30",
        "milestones-TOTAL_FORMS": "2",
        "milestones-INITIAL_FORMS": "0",
        "milestones-MIN_NUM_FORMS": "0",
        "milestones-MAX_NUM_FORMS": "30",
        "milestones-0-text": "Split the shared key.",
        "milestones-0-due": LATER,
    }
    refused = grc_client.post(url, data)
    assert refused.status_code == 400
    assert "give the reason for answering NO" in refused.content.decode()
    data["override_reason"] = "The auditor's sample found a reused key."
    response = grc_client.post(url, data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.answer == "NO" and draft.is_overridden
    assert draft.corrective_action == {
        "owner": "Alice",
        "milestones": [{"text": "Split the shared key.", "due": LATER}],
        "due": LATER,
    }
    page = grc_client.get(draft.get_absolute_url()).content.decode()
    assert "overrides the generated YES" in page and "All fill rules met" in page


def test_an_incomplete_disclosure_row_re_renders_with_errors(grc_client, draft):
    data = {
        "answer": "YES",
        "ownership": "Shared OSP-AP",
        "implementation": "x",
        "disclosures-TOTAL_FORMS": "1",
        "disclosures-INITIAL_FORMS": "0",
        "disclosures-0-guideline": "AG-2",
        "milestones-TOTAL_FORMS": "0",
        "milestones-INITIAL_FORMS": "0",
    }
    response = grc_client.post(reverse("evidence:answer-edit", args=[draft.pk]), data)
    assert response.status_code == 400 and "Required for a disclosed gap." in response.content.decode()


def test_a_broken_management_form_does_not_500(grc_client, draft):
    response = grc_client.post(reverse("evidence:answer-edit", args=[draft.pk]), {"answer": "YES"})
    assert response.status_code == 400


def test_key_material_in_the_description_re_renders_the_form(grc_client, draft):
    data = {
        "answer": "YES",
        "ownership": "Shared OSP-AP",
        "implementation": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----",
        "disclosures-TOTAL_FORMS": "0",
        "disclosures-INITIAL_FORMS": "0",
        "milestones-TOTAL_FORMS": "0",
        "milestones-INITIAL_FORMS": "0",
    }
    response = grc_client.post(reverse("evidence:answer-edit", args=[draft.pk]), data)
    assert response.status_code == 400
    draft.refresh_from_db()
    assert "BEGIN PRIVATE KEY" not in draft.implementation


def test_publish_shows_the_fill_rule_errors(grc_client, grc_user, party):
    answer = services.answer_generate(party=party, actor=grc_user)  # no run, no policy: NO without a run
    response = grc_client.post(reverse("evidence:answer-publish", args=[answer.pk]), follow=True)
    page = response.content.decode()
    assert "Not published:" in page and "No check run evaluated the auditing guidelines" in page
    assert 'class="errorlist fill-rule-errors"' in page
    assert CaiqAnswer.objects.get(pk=answer.pk).status == AnswerStatus.DRAFT


def test_publish_then_the_page_is_read_only_with_digest(grc_client, draft):
    response = grc_client.post(reverse("evidence:answer-publish", args=[draft.pk]), follow=True)
    draft.refresh_from_db()
    page = response.content.decode()
    assert draft.status == AnswerStatus.PUBLISHED
    assert f"Published and frozen; SHA-256 {draft.sha256}" in page
    assert draft.sha256 in page and "Edit draft" not in page
    edit = grc_client.get(reverse("evidence:answer-edit", args=[draft.pk]))
    assert edit.status_code == 302
    post = grc_client.post(reverse("evidence:answer-edit", args=[draft.pk]), {"answer": "NO"})
    assert post.status_code == 302
    assert CaiqAnswer.objects.get(pk=draft.pk).answer == "YES"


def test_the_answer_links_the_check_run_it_was_generated_from(grc_client, published):
    page = grc_client.get(published.get_absolute_url()).content.decode()
    url = reverse("evidence:checkrun-detail", args=[published.check_run_id])
    assert f'href="{url}"' in page


def test_the_answer_pages_name_an_answer_by_its_party_and_date_not_its_number(grc_client, draft):
    when = words_datetime(draft.created_at)
    assert draft.title == f"CEK-11.1 answer of {draft.party.name}, draft of {when}"
    pages = {
        "detail": grc_client.get(draft.get_absolute_url()).content.decode(),
        "list": grc_client.get(reverse("evidence:answer-list")).content.decode(),
        "edit": grc_client.get(reverse("evidence:answer-edit", args=[draft.pk])).content.decode(),
        "template": grc_client.get(reverse("evidence:answer-template", args=[draft.pk])).content.decode(),
    }
    text = {name: re.sub(r"<[^>]+>", "", html) for name, html in pages.items()}
    assert f"{draft.title} " in text["detail"]
    assert f"Latest draft: the draft of {when}" in text["list"]
    assert f"Edit the draft of {draft.party.name} of {when}" in text["edit"] and f"Draft of {when}" in text["edit"]
    assert f"The answer of {draft.party.name} (draft of {when})" in text["template"]
    for name, html in pages.items():
        assert f"#{draft.pk}<" not in html and f"#{draft.pk} " not in html, name


def test_the_answer_pages_name_the_check_run_by_its_date_not_its_number(grc_client, draft):
    run = draft.check_run
    pages = [
        grc_client.get(draft.get_absolute_url()).content.decode(),
        grc_client.get(reverse("evidence:answer-list")).content.decode(),
        grc_client.get(reverse("home")).content.decode(),
    ]
    text = [re.sub(r"<[^>]+>", "", html) for html in pages]
    when = words_datetime(run.created_at)
    assert f"the check run of {when}." in text[0] and f"The check run (Web UI) finished {when}" in text[0]
    assert f"From the check run of {when}." in text[1] and when in text[1]
    assert f"from the check run of {words_date(run.created_at)}" in text[2]
    for page in pages:
        assert f"#{run.pk}<" not in page and "run #" not in page.lower()


# --- Downloads and the template -----------------------------------------------------------------------------


def test_downloads_carry_the_right_type_and_name(auditor_client, published):
    xlsx = auditor_client.get(reverse("evidence:answer-export", args=[published.pk, "xlsx"]))
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="AI-CAIQ-CEK-11.1-Acme_AI-published-' in xlsx["Content-Disposition"]
    assert load_workbook(io.BytesIO(xlsx.content))["AI-CAIQv1.1.0"]["C3"].value == "YES"
    data = json.loads(auditor_client.get(reverse("evidence:answer-export", args=[published.pk, "json"])).content)
    assert data["sha256"] == published.sha256
    assert auditor_client.get(reverse("evidence:answer-export", args=[published.pk, "pdf"])).status_code == 404


def test_the_template_upload_returns_the_filled_workbook(auditor_client, published):
    upload = SimpleUploadedFile("AI-CAIQ_v1.1.0.xlsx", blank_caiq_workbook())
    response = auditor_client.post(reverse("evidence:answer-template", args=[published.pk]), {"workbook": upload})
    assert response.status_code == 200
    assert 'filename="AI-CAIQ_v1.1.0-CEK-11.1.xlsx"' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content))["AI-CAIQv1.1.0"]
    assert (sheet["C4"].value, sheet["D4"].value) == ("YES", "Shared OSP-AP")
    assert sheet["C3"].value is None and sheet["A5"].value == "CEK-12.1"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"hello", "is not an Excel workbook (.xlsx)"),
        ("fake.xlsx", b"hello", "it is not a ZIP package"),
        ("old.xlsx", None, "has no sheet"),
    ],
)
def test_a_bad_template_re_renders_the_form_with_the_reason(grc_client, published, name, content, message):
    content = content if content is not None else blank_caiq_workbook(sheet="Sheet1")
    upload = SimpleUploadedFile(name, content)
    response = grc_client.post(reverse("evidence:answer-template", args=[published.pk]), {"workbook": upload})
    assert response.status_code == 400 and message in response.content.decode()


# --- The command ----------------------------------------------------------------------------------------------


def test_the_command_prints_the_published_answer_as_csv_and_json(published, capsys):
    call_command("caiq_answer", "--format", "csv")
    captured = capsys.readouterr()
    assert captured.out.splitlines()[1].startswith("CEK-11.1,")
    assert f"Published answer #{published.pk}" in captured.err
    call_command("caiq_answer", "--format", "json")
    assert json.loads(capsys.readouterr().out)["sha256"] == published.sha256


def test_the_command_falls_back_to_the_draft_clearly_marked(draft, capsys, tmp_path):
    call_command("caiq_answer", "--format", "json")
    captured = capsys.readouterr()
    assert json.loads(captured.out)["status"] == "draft"
    assert "DRAFT:" in captured.err
    target = tmp_path / "answer.xlsx"
    call_command("caiq_answer", "--format", "xlsx", "--output", str(target))
    workbook = load_workbook(target)
    assert workbook.properties.subject == "DRAFT — not published"


def test_the_command_takes_a_party_by_name(grc_user, capsys):
    make_run()
    other = PartyFactory(name="Customer Co", roles=["AIC"])
    services.answer_generate(party=other, actor=grc_user)
    call_command("caiq_answer", "--party", "Customer Co", "--format", "csv")
    assert ",NA,ND," in capsys.readouterr().out


def test_the_command_explains_what_is_missing(party, tmp_path):
    with pytest.raises(CommandError, match=r"has no CEK-11\.1 answer yet"):
        call_command("caiq_answer", "--format", "csv")
    with pytest.raises(CommandError, match="No party named"):
        call_command("caiq_answer", "--party", "Nobody", "--format", "csv")


def test_the_command_needs_an_output_for_xlsx(draft):
    with pytest.raises(CommandError, match="needs --output"):
        call_command("caiq_answer", "--format", "xlsx")


def test_the_command_needs_a_party_marked_us(db):
    with pytest.raises(CommandError, match='No party is marked "us"'):
        call_command("caiq_answer", "--format", "json")
