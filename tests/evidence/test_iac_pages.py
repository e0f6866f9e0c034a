"""The IaC scans pages: who may read them, the repositories with their last verdict (filter, constant queries),
a repository's scans newest first, one scan's violations, 404s and junk parameters."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from cek.templatetags.dates import words_datetime
from evidence.findings.rules import rule_title
from evidence.iac.models import IacScan
from evidence.iac.services import iac_scan_record
from tests.evidence.iac_support import offline

pytestmark = pytest.mark.django_db

LIST = reverse("evidence:iacscan-list")


def make_scan(user, repository="acme/infra", *, violations=0, commit="abc123def4567890") -> IacScan:
    return IacScan.objects.create(
        repository=repository,
        commit=commit,
        source="plan",
        input_sha256="f" * 64,
        resources=5,
        keys=2,
        consumers=3,
        matched_keys=1,
        violations_count=violations,
        passed=not violations,
        violations=[],
        recorded_by=user,
        software_version="cek test",
    )


def repository_url(repository: str) -> str:
    return reverse("evidence:iacscan-repository", args=[repository])


READ_MATRIX = {
    "anonymous": (302, 302, 302),
    "grc": (200, 200, 200),
    "owner": (403, 403, 403),
    "other_owner": (403, 403, 403),
    "auditor": (200, 200, 200),
    "expired_auditor": (302, 302, 302),
    "outsider": (403, 403, 403),
}


def test_read_permissions(role, grc_user):
    name, _user, client = role
    scan = make_scan(grc_user)
    urls = [LIST, repository_url(scan.repository), reverse("evidence:iacscan-detail", args=[scan.pk])]
    responses = [client.get(url) for url in urls]
    assert tuple(r.status_code for r in responses) == READ_MATRIX[name]
    if name == "anonymous":
        assert all("/login" in r["Location"] or "login" in r["Location"] for r in responses)


def test_nav_links_the_page_for_readers_only(grc_client, auditor_client, owner_client):
    assert LIST in grc_client.get(reverse("home")).content.decode()
    assert LIST in auditor_client.get(reverse("home")).content.decode()
    assert LIST not in owner_client.get(reverse("home")).content.decode()


def test_empty_state_says_how_to_record(grc_client):
    body = grc_client.get(LIST).content.decode()
    assert "manage.py check_iac PLAN --record --user USERNAME --repository NAME" in body
    assert "<table" not in body


def test_list_shows_the_last_verdict_of_each_repository(grc_client, grc_user):
    make_scan(grc_user, "acme/infra", violations=3)
    last_infra = make_scan(grc_user, "acme/infra", violations=0, commit="0011223344556677")
    make_scan(grc_user, "acme/platform", violations=0)
    last_platform = make_scan(grc_user, "acme/platform", violations=2)
    make_scan(grc_user, "acme/platform", violations=1)
    response = grc_client.get(LIST)
    assert response.status_code == 200
    rows = {scan.repository: scan for scan in response.context["scans"]}
    assert set(rows) == {"acme/infra", "acme/platform"}
    assert rows["acme/infra"].pk == last_infra.pk and rows["acme/infra"].passed
    assert rows["acme/infra"].scan_count == 2
    assert rows["acme/platform"].pk == last_platform.pk + 1 and not rows["acme/platform"].passed
    assert rows["acme/platform"].violations_count == 1 and rows["acme/platform"].scan_count == 3
    body = response.content.decode()
    assert "00112233" in body and repository_url("acme/infra") in body

    passing = grc_client.get(LIST, {"verdict": "pass"}).context["scans"]
    assert [scan.repository for scan in passing] == ["acme/infra"]
    failing = grc_client.get(LIST, {"verdict": "fail"}).context["scans"]
    assert [scan.repository for scan in failing] == ["acme/platform"]


@pytest.mark.parametrize("repositories", [2, 20])
def test_list_queries_do_not_grow_with_repositories(grc_client, grc_user, repositories, django_assert_max_num_queries):
    for n in range(repositories):
        make_scan(grc_user, f"acme/repo-{n}", violations=n % 2)
        make_scan(grc_user, f"acme/repo-{n}", violations=0)
    with django_assert_max_num_queries(7):
        response = grc_client.get(LIST)
    assert response.status_code == 200 and len(response.context["scans"]) == repositories


def test_repository_page_lists_scans_newest_first(grc_client, grc_user):
    first = make_scan(grc_user, violations=4)
    second = make_scan(grc_user, violations=1)
    third = make_scan(grc_user, violations=0)
    make_scan(grc_user, "acme/other")
    response = grc_client.get(repository_url("acme/infra"))
    assert response.status_code == 200
    assert [scan.pk for scan in response.context["scans"]] == [third.pk, second.pk, first.pk]
    body = response.content.decode()
    assert "<meter" in body and f'value="{first.violations_count}"' in body


def test_scan_page_lists_the_violations(grc_client, grc_user):
    result = offline("aws_violating.json")
    scan = iac_scan_record(result=result, repository="acme/infra", commit="abcdef01", actor=grc_user)
    response = grc_client.get(reverse("evidence:iacscan-detail", args=[scan.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert scan.input_sha256 in body
    assert f"</time> by {escape(grc_user.get_full_name())} ·" in body  # the person, not the username
    assert len(response.context["violation_list"]) == len(result.violations) > 0
    for violation in result.violations:
        assert violation.rule in body
        assert f"/evidence/findings/?rule={violation.rule}" in body
        # the findings link reads as the rule's title, not its id
        assert f'?rule={violation.rule}">{escape(rule_title(violation.rule))}</a>' in body
    assert any(use.purpose_class in body for v in result.violations for use in v.consumers if use.purpose_class)
    list_body = grc_client.get(LIST).content.decode()
    assert "acme/infra" in list_body


def test_the_pages_name_a_scan_by_its_repository_and_date_not_its_number(grc_client, grc_user):
    scan = make_scan(grc_user, violations=2)
    when = words_datetime(scan.recorded_at)
    assert scan.title == f"IaC scan of acme/infra, {when}"
    detail = grc_client.get(reverse("evidence:iacscan-detail", args=[scan.pk])).content.decode()
    repository = grc_client.get(repository_url("acme/infra")).content.decode()
    assert f"<title>IaC scan of acme/infra, {when}" in detail and f"<h1>IaC scan of acme/infra, {when}</h1>" in detail
    link = reverse("evidence:iacscan-detail", args=[scan.pk])
    assert f'<a href="{link}"><time' in repository and f'aria-label="Violations of the scan of {when}"' in repository
    for body in (detail, repository):
        assert f"#{scan.pk}<" not in body and f"scan #{scan.pk}" not in body


def test_unknown_repository_and_scan_are_404(grc_client, grc_user):
    scan = make_scan(grc_user)
    assert grc_client.get(repository_url("acme/nothing")).status_code == 404
    assert grc_client.get(reverse("evidence:iacscan-detail", args=[scan.pk + 100])).status_code == 404


def test_junk_parameters_are_not_errors(grc_client, grc_user):
    make_scan(grc_user)
    for params in (
        {"verdict": "maybe"},
        {"page": "x"},
        {"page": "999"},
        {"verdict": "\x00"},
        {"verdict": ["pass", "fail"]},
    ):
        assert grc_client.get(LIST, params).status_code == 200, params
    assert grc_client.get(repository_url("acme/infra"), {"page": "junk"}).status_code == 200
    assert grc_client.get(LIST, {"verdict": "maybe"}).context["verdict"] == ""
