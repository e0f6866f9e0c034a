"""The findings pages: filters through the URL, pagination with a constant number of queries, a finding's page
(subject, evidence, history), GRC's assign / resolve / accept-risk with validation, read-only auditors, key
owners limited to the findings on their keys, and expired acceptances shown as such before the task runs."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from evidence.findings import services
from evidence.models import Finding, FindingStatus
from tests.conftest import login
from tests.factories import FindingFactory, KeyFactory, UserFactory

pytestmark = pytest.mark.django_db


def finding_on(key, **fields) -> Finding:
    return FindingFactory(subject_id=key.pk, subject_label=key.name, **fields)


@pytest.fixture
def world(grc_user, owner, other_owner):
    bob_key = KeyFactory(name="bob-orders-dek", owner=owner)
    carol_key = KeyFactory(name="carol-signer", owner=other_owner)
    today = timezone.localdate()
    return {
        "bob_key": bob_key,
        "carol_key": carol_key,
        "bob_high": finding_on(
            bob_key,
            rule="ag-3-single-purpose",
            severity="high",
            details={"purposes": ["data-encryption", "signing"], "bindings": [{"service": "orders", "tenant": "eu"}]},
        ),
        "carol_low": finding_on(carol_key, rule="ag-7-purpose-tag", severity="low", assigned_to=grc_user),
        "carol_lapsed": finding_on(
            carol_key,
            rule="ag-2-mapping",
            severity="medium",
            status=FindingStatus.RISK_ACCEPTED,
            accepted_until=today - dt.timedelta(days=2),
            accepted_by=grc_user,
            accepted_reason="Vendor fix due.",
        ),
        "store_finding": FindingFactory(
            rule="ccm-2-inventory",
            subject_type="inventory.keystore",
            subject_id=99,
            subject_label="aws-kms-prod",
            severity="medium",
        ),
    }


def listing(client, **params) -> str:
    response = client.get(reverse("evidence:finding-list"), params)
    assert response.status_code == 200
    return response.content.decode()


def rows(html: str) -> int:
    return html.count('data-finding="')


# --- Filters --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, 4),
        ({"rule": "ag-7-purpose-tag"}, 1),
        ({"severity": "high"}, 1),
        ({"status": "open"}, 4),  # the expired acceptance counts as open
        ({"status": "acceptance-expired"}, 1),
        ({"status": "risk-accepted"}, 0),
        ({"status": "resolved"}, 0),
        ({"owner": "carol"}, 2),
        ({"owner": "bob", "severity": "low"}, 0),
        ({"assigned": "alice"}, 1),
        ({"assigned": "none"}, 3),
        ({"status": "no-such-status", "severity": "bogus"}, 4),  # unknown values are ignored, never a 500
        ({"key": "not-a-number", "page": "1"}, 4),
    ],
)
def test_the_list_filters_through_the_url(params, expected, world, auditor_client):
    assert rows(listing(auditor_client, **params)) == expected


def test_the_key_filter_narrows_to_one_key_and_shows_its_name(world, grc_client):
    html = listing(grc_client, key=world["carol_key"].pk)
    assert rows(html) == 2 and "Key: carol-signer" in html


def test_the_list_shows_owner_assignee_and_an_expired_acceptance(world, grc_client):
    html = listing(grc_client, sort="severity")
    assert "Acceptance expired" in html and "carol" in html and "alice" in html
    assert html.index("bob-orders-dek") < html.index("aws-kms-prod")  # high before medium / low


def cells(html: str, finding: Finding) -> list[str]:
    """The text of each cell of ``finding``'s row in the list."""
    row = re.search(rf'<tr data-finding="{finding.pk}".*?</tr>', html, re.S).group(0)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_the_list_names_key_owners_and_assignees_by_their_full_names(world, grc_client, grc_user, other_owner):
    grc_user.first_name, grc_user.last_name = "Alice", "Martin"
    grc_user.save()
    other_owner.first_name, other_owner.last_name = "Carol", "Nguyen"
    other_owner.save()
    nameless = UserFactory(username="olivia", first_name="", last_name="", roles=["key-owners"])
    olivia_finding = finding_on(KeyFactory(name="olivia-key", owner=nameless), rule="ag-7-purpose-tag")
    html = listing(grc_client)
    head = re.findall(r"<th>(.*?)</th>", html)
    owner_at, assignee_at = head.index("Key owner"), head.index("Assigned to")
    carol_low = cells(html, world["carol_low"])
    assert (carol_low[owner_at], carol_low[assignee_at]) == ("Carol Nguyen", "Alice Martin")
    assert cells(html, olivia_finding)[owner_at] == "olivia"  # no full name: the username
    assert cells(html, world["store_finding"])[owner_at] == "—"  # not about a key


def test_the_finding_page_names_people_by_their_full_names(world, grc_client, grc_user, other_owner):
    grc_user.first_name, grc_user.last_name = "Alice", "Martin"
    grc_user.save()
    other_owner.first_name, other_owner.last_name = "Carol", "Nguyen"
    other_owner.save()
    html = grc_client.get(world["carol_lapsed"].get_absolute_url()).content.decode()
    assert "The acceptance by Alice Martin ended" in html and "approved by Alice Martin" in html
    assert "<dd>Carol Nguyen" in html
    html = grc_client.get(world["carol_low"].get_absolute_url()).content.decode()
    assert "<dt>Assigned to</dt><dd>Alice Martin</dd>" in html


def test_a_key_owner_sees_only_the_findings_on_their_keys(world, owner_client):
    html = listing(owner_client)
    assert rows(html) == 1 and "bob-orders-dek" in html and "carol-signer" not in html and "aws-kms-prod" not in html
    assert 'name="owner"' not in html  # no organisation-wide owner list
    assert rows(listing(owner_client, key=world["carol_key"].pk)) == 0


def test_the_list_runs_a_constant_number_of_queries(world, grc_client, owner_client, owner):
    def count(client, **params) -> int:
        with CaptureQueriesContext(connection) as queries:
            listing(client, **params)
        return len(queries)

    small = [count(grc_client), count(grc_client, owner="carol", status="open"), count(owner_client)]
    owners = [UserFactory(roles=["key-owners"]) for _ in range(3)] + [owner]
    assignees = [UserFactory() for _ in range(3)]
    for n in range(60):
        key = KeyFactory(owner=owners[n % 4])
        finding_on(key, rule=f"rule-{n % 7}", severity="medium", assigned_to=assignees[n % 3])
    large = [count(grc_client), count(grc_client, owner="carol", status="open"), count(owner_client)]
    assert large == small


# --- A finding's page ------------------------------------------------------------------------------------------


def test_the_page_shows_subject_evidence_and_history(world, auditor_client):
    finding = world["bob_high"]
    html = auditor_client.get(finding.get_absolute_url()).content.decode()
    assert f'href="{world["bob_key"].get_absolute_url()}">bob-orders-dek</a>' in html
    assert "data-encryption, signing" in html and "Service" in html and "orders" in html  # details, readable
    assert "Change history" in html
    assert "Read-only" in html and 'action="' + reverse("evidence:finding-resolve", args=[finding.pk]) not in html


def test_an_expired_acceptance_is_shown_before_the_daily_task_runs(world, auditor_client):
    html = auditor_client.get(world["carol_lapsed"].get_absolute_url()).content.decode()
    assert "Risk acceptance expired." in html and "counts as open again" in html


def test_a_subject_that_is_not_a_key_is_shown_without_a_key_link(world, grc_client):
    html = grc_client.get(world["store_finding"].get_absolute_url()).content.decode()
    assert "aws-kms-prod" in html and "inventory.keystore" not in html  # the name, not an internal reference


def test_key_owners_open_only_findings_on_their_keys(world, owner_client):
    assert owner_client.get(world["bob_high"].get_absolute_url()).status_code == 200
    assert owner_client.get(world["carol_low"].get_absolute_url()).status_code == 404
    assert owner_client.get(world["store_finding"].get_absolute_url()).status_code == 404


# --- GRC's judgements -----------------------------------------------------------------------------------------


def actions(finding, owner):
    future = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    return [
        (reverse("evidence:finding-assign", args=[finding.pk]), {"assigned_to": owner.pk, "remediation_due": future}),
        (reverse("evidence:finding-resolve", args=[finding.pk]), {"note": "done"}),
        (reverse("evidence:finding-accept-risk", args=[finding.pk]), {"until": future, "reason": "Planned."}),
    ]


@pytest.mark.parametrize("who", ["owner", "auditor", "outsider"])
def test_only_grc_assigns_resolves_and_accepts_risk(who, world, request, owner):
    client = login(request.getfixturevalue(who))
    finding = world["bob_high"]  # on the owner's own key
    for url, data in actions(finding, owner):
        assert client.post(url, data).status_code == 403, url
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN and finding.assigned_to is None


def test_grc_assigns_with_a_remediation_date(world, grc_client, owner):
    finding = world["bob_high"]
    due = timezone.localdate() + dt.timedelta(days=21)
    url = reverse("evidence:finding-assign", args=[finding.pk])
    response = grc_client.post(url, {"assigned_to": owner.pk, "remediation_due": due.isoformat()}, follow=True)
    assert response.redirect_chain[0][1] == 302
    finding.refresh_from_db()
    assert finding.assigned_to == owner and finding.remediation_due == due
    html = response.content.decode()
    assert f"Assigned to {owner.get_full_name()}, remediation due" in html  # the message names the person
    assert f"Assigned to {owner.get_full_name()}, due {due:%Y-%m-%d}" in html  # the history's reason, by name
    assert f"Assigned to {owner.username}," not in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"assigned_to": "", "remediation_due": "2099-01-01"}, "This field is required."),
        ({"assigned_to": "", "remediation_due": ""}, "This field is required."),
        ({"remediation_due": "2000-01-01"}, "cannot be due in the past"),
        ({"remediation_due": "not a date"}, "Enter a valid date."),
    ],
)
def test_an_invalid_assignment_rerenders_the_page_with_the_error(data, message, world, grc_client, owner):
    finding = world["bob_high"]
    data = {"assigned_to": owner.pk, **data}
    response = grc_client.post(reverse("evidence:finding-assign", args=[finding.pk]), data)
    assert response.status_code == 400 and message in response.content.decode()
    finding.refresh_from_db()
    assert finding.assigned_to is None


def test_accepting_risk_needs_a_future_date_and_a_reason_and_records_the_approver(world, grc_client, grc_user):
    finding = world["bob_high"]
    url = reverse("evidence:finding-accept-risk", args=[finding.pk])
    response = grc_client.post(url, {"until": "2000-01-01", "reason": "x"})
    assert response.status_code == 400 and "must end after today" in response.content.decode()
    response = grc_client.post(url, {"until": "", "reason": ""})
    assert response.status_code == 400 and response.content.decode().count("This field is required.") == 2
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----"
    response = grc_client.post(url, {"until": "2099-01-01", "reason": pem})
    assert response.status_code == 400 and "BEGIN PRIVATE KEY" not in response.content.decode()
    until = timezone.localdate() + dt.timedelta(days=60)
    assert grc_client.post(url, {"until": until.isoformat(), "reason": "Migration in Q3."}).status_code == 302
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RISK_ACCEPTED and finding.accepted_by == grc_user
    assert finding.accepted_until == until and finding.accepted_reason == "Migration in Q3."


def test_resolving_twice_is_refused_with_a_message(world, grc_client):
    finding = world["carol_low"]
    url = reverse("evidence:finding-resolve", args=[finding.pk])
    assert grc_client.post(url, {"note": "Tag fixed."}).status_code == 302
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED
    response = grc_client.post(url, {"note": "Again."})
    assert response.status_code == 400 and "already resolved" in response.content.decode()
    html = grc_client.get(finding.get_absolute_url()).content.decode()
    assert "Tag fixed." in html and 'class="assign-form"' not in html  # no actions on a resolved finding


def test_an_action_on_a_missing_finding_is_a_404(grc_client):
    assert grc_client.post(reverse("evidence:finding-resolve", args=[999999])).status_code == 404


def test_the_dashboard_links_to_the_filtered_lists(world, grc_client):
    services.finding_upsert(
        rule="ag-3-single-purpose", subject=world["carol_key"], severity="critical", details={}, seen_at=timezone.now()
    )
    html = grc_client.get(reverse("home")).content.decode()
    assert f'href="{reverse("evidence:finding-list")}?status=open&amp;severity=critical"' in html
    assert f'href="{reverse("evidence:finding-list")}?status=open&amp;rule=ag-3-single-purpose"' in html
    assert rows(listing(grc_client, status="open", severity="critical")) == 1


ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|\d{2}:\d{2}:\d{2}\.\d+|\+00:00")
MACHINE_DATES = re.compile(r' datetime="[^"]*"')  # <time datetime="ISO">words</time>: ISO for machines only


def _read(html: str) -> str:
    """The page without the machine-readable ``datetime`` attributes: what a person reads."""
    return MACHINE_DATES.sub("", html)


def test_the_list_and_the_filter_show_rule_titles_and_keep_the_ids_as_values(world, grc_client):
    html = listing(grc_client)
    assert ">The key is used for more than one purpose</a>" in html  # the title links to the finding
    assert '<option value="ag-3-single-purpose">The key is used for more than one purpose</option>' in html
    assert rows(listing(grc_client, rule="ag-3-single-purpose")) == 1  # the filter still takes the id


def test_the_pages_show_names_titles_and_dates_never_internal_references(world, grc_client):
    pages = [
        listing(grc_client),
        grc_client.get(world["bob_high"].get_absolute_url()).content.decode(),
        grc_client.get(world["store_finding"].get_absolute_url()).content.decode(),
        grc_client.get(reverse("home")).content.decode(),
    ]
    for html in pages:
        assert "inventory.key" not in html and not ISO_TIMESTAMP.search(_read(html))
    assert "<h1>The key is used for more than one purpose: bob-orders-dek</h1>" in pages[1]


def test_the_admin_names_a_finding_as_its_page_does(world):
    finding = world["bob_high"]
    assert str(finding) == "The key is used for more than one purpose: bob-orders-dek"
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    html = login(root).get(reverse("admin:evidence_finding_change", args=[finding.pk])).content.decode()
    assert "The key is used for more than one purpose: bob-orders-dek" in html
    assert "ag-3-single-purpose: bob-orders-dek" not in html


def test_dates_and_timestamps_in_the_evidence_read_as_dates(world, grc_client):
    moment = dt.datetime(2026, 12, 5, 23, 49, 3, 903755, tzinfo=dt.UTC)
    finding = finding_on(
        world["bob_key"],
        rule="usage-dormant-key",
        severity="low",
        details={"last_used_at": moment.isoformat(), "due_on": "2026-01-31", "note": "2026-01-31 or later"},
    )
    html = grc_client.get(finding.get_absolute_url()).content.decode()
    local = timezone.localtime(moment)
    assert f"<td>{local.day} {local:%b %Y, %H:%M %Z}</td>" in html and "<td>31 Jan 2026</td>" in html
    assert "<td>2026-01-31 or later</td>" in html  # other text stays as written
    assert not ISO_TIMESTAMP.search(_read(html))
