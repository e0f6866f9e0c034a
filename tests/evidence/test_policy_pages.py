"""The policy pages: who may see and change what (role x page, GET and POST), and the forms."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from evidence.models import (
    Acknowledgement,
    ChangeEvent,
    EffectivenessEvaluation,
    Policy,
    PolicyReview,
    PolicyVersion,
    VersionStatus,
)
from evidence.policies.services import acknowledgement_record, communication_send, policy_version_submit
from evidence.reviews.services import change_event_save
from tests.evidence.policies import approve, draft, markdown_document, policy_in_force
from tests.factories import EvaluationFactory, PolicyFactory, UserFactory

pytestmark = pytest.mark.django_db
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----"


@pytest.fixture
def world(grc_user, owner, other_owner):
    today = timezone.localdate()
    policy = PolicyFactory(owner=grc_user, title="Key purpose policy", areas=["key-purpose"])
    approve(draft(policy, actor=grc_user, label="1.0", document=markdown_document()), by=grc_user, on=today)
    policy.refresh_from_db()
    communication_send(version=policy.current_version, audiences=[Group.objects.get(name="key-owners")], actor=grc_user)
    next_draft = draft(policy, actor=grc_user, label="2.0")
    other = PolicyFactory(owner=grc_user, title="Secrets procedure", kind="procedure")
    submitted = draft(other, actor=grc_user, label="0.9")
    policy_version_submit(version=submitted, actor=grc_user)
    event = change_event_save(
        # Takes effect tomorrow, after the approval: open until the next review.
        event=ChangeEvent(
            kind="model", title="New model family", description="Adopted.", occurred_on=today + dt.timedelta(days=1)
        ),
        actor=grc_user,
        policies=[policy],
    )
    evaluation = EvaluationFactory(performed_by=grc_user, recorded_by=grc_user)
    evaluation.policies.set([policy])
    return {
        "policy": policy,
        "approved": policy.current_version,
        "draft": next_draft,
        "submitted": submitted,
        "event": event,
        "evaluation": evaluation,
    }


def read_pages(w):
    return [
        ("evidence:policy-list", []),
        ("evidence:policy-detail", [w["policy"].pk]),
        ("evidence:acknowledgement-list", []),
        ("evidence:changeevent-list", []),
        ("evidence:changeevent-detail", [w["event"].pk]),
        ("evidence:evaluation-list", []),
        ("evidence:evaluation-detail", [w["evaluation"].pk]),
        ("evidence:version-document", [w["approved"].pk]),
    ]


def write_pages(w):
    """(url name, args, GRC's GET status): forms answer 200, POST-only actions 405."""
    return [
        ("evidence:policy-create", [], 200),
        ("evidence:policy-update", [w["policy"].pk], 200),
        ("evidence:version-create", [w["policy"].pk], 200),
        ("evidence:version-update", [w["draft"].pk], 200),
        ("evidence:version-delete", [w["draft"].pk], 200),
        ("evidence:version-submit", [w["draft"].pk], 405),
        ("evidence:version-withdraw", [w["submitted"].pk], 405),
        ("evidence:version-approve", [w["submitted"].pk], 200),
        ("evidence:version-send", [w["approved"].pk], 200),
        ("evidence:review-create", [w["policy"].pk], 200),
        ("evidence:changeevent-create", [], 200),
        ("evidence:changeevent-update", [w["event"].pk], 200),
        ("evidence:evaluation-create", [], 200),
        ("evidence:evaluation-update", [w["evaluation"].pk], 200),
    ]


def test_role_matrix_for_reading_pages(role, world):
    name, _user, client = role
    for url_name, args in read_pages(world):
        url = reverse(url_name, args=args)
        get, post = client.get(url), client.post(url, {})
        if name in ("anonymous", "expired_auditor"):
            assert get.status_code == post.status_code == 302, (name, url_name)
            assert get["Location"].startswith(reverse("login"))
        elif name == "outsider":
            assert get.status_code == post.status_code == 403, (name, url_name)
        else:
            assert get.status_code == 200, (name, url_name, get.status_code)
            assert post.status_code == 405, (name, url_name, post.status_code)


def test_role_matrix_for_writing_pages(role, world):
    name, _user, client = role
    before = (
        Policy.objects.count(),
        PolicyVersion.objects.count(),
        PolicyReview.objects.count(),
        ChangeEvent.objects.count(),
        EffectivenessEvaluation.objects.count(),
        list(PolicyVersion.objects.order_by("pk").values_list("status", flat=True)),
    )
    for url_name, args, grc_get in write_pages(world):
        url = reverse(url_name, args=args)
        get = client.get(url)
        if name == "grc":  # GRC's POSTs act (submit, delete...): the forms are tested one by one below
            assert get.status_code == grc_get, (url_name, get.status_code)
            continue
        post = client.post(url, {})
        if name in ("anonymous", "expired_auditor"):
            assert get.status_code == post.status_code == 302, (name, url_name)
        else:
            assert get.status_code == 403 and post.status_code == 403, (
                name,
                url_name,
                get.status_code,
                post.status_code,
            )
    if name != "grc":
        after = (
            Policy.objects.count(),
            PolicyVersion.objects.count(),
            PolicyReview.objects.count(),
            ChangeEvent.objects.count(),
            EffectivenessEvaluation.objects.count(),
            list(PolicyVersion.objects.order_by("pk").values_list("status", flat=True)),
        )
        assert after == before


def test_role_matrix_for_acknowledging(role, world):
    name, user, client = role
    version = world["approved"]
    response = client.post(reverse("evidence:version-acknowledge", args=[version.pk]))
    get_status = {"anonymous": 302, "expired_auditor": 302, "outsider": 403}.get(name, 405)  # POST only
    assert client.get(reverse("evidence:version-acknowledge", args=[version.pk])).status_code == get_status
    acknowledged = Acknowledgement.objects.filter(version=version).values_list("recipient__username", flat=True)
    if name in ("anonymous", "expired_auditor"):
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    elif name == "outsider":
        assert response.status_code == 403
    else:
        assert response.status_code == 302
    # Only members of the audience (key owners) can acknowledge; GRC and auditors were not sent it.
    assert list(acknowledged) == ([user.username] if name in ("owner", "other_owner") else [])


# --- Listing -----------------------------------------------------------------------------------------


def test_the_list_shows_status_version_due_date_and_coverage(world, owner, grc_client):
    acknowledgement_record(version=world["approved"], user=owner)
    page = grc_client.get(reverse("evidence:policy-list")).content.decode()
    assert "Key purpose policy" in page and "In force" in page and "v1.0" in page and "v2.0 in draft" in page
    assert "1 of 2" in page and "(50 %)" in page
    assert "Secrets procedure" in page and "In approval" in page
    due = Policy.objects.get(pk=world["policy"].pk).next_review_due_on
    assert f'<time datetime="{due.isoformat()}">{due.day} {due:%b %Y}</time>' in page


def test_an_overdue_review_is_shown_in_red(grc_user, grc_client):
    policy = policy_in_force(grc=grc_user, approved_on=timezone.localdate() - dt.timedelta(days=400), title="Stale")
    page = grc_client.get(reverse("evidence:policy-list")).content.decode()
    due = policy.next_review_due_on
    assert (
        f'<span class="overdue"><time datetime="{due.isoformat()}">{due.day} {due:%b %Y}</time> · overdue</span>'
        in page
    )
    only_overdue = grc_client.get(reverse("evidence:policy-list") + "?overdue=1").content.decode()
    assert "Stale" in only_overdue
    detail = grc_client.get(policy.get_absolute_url()).content.decode()
    assert "is <strong>overdue</strong>" in detail


def test_the_list_filters_by_status_kind_and_area(world, grc_client):
    url = reverse("evidence:policy-list")
    assert "Secrets procedure" not in grc_client.get(url + "?status=in-force").content.decode()
    assert "Key purpose policy" not in grc_client.get(url + "?status=in-approval").content.decode()
    assert "Key purpose policy" not in grc_client.get(url + "?kind=procedure").content.decode()
    by_area = grc_client.get(url + "?area=key-purpose").content.decode()
    assert "Key purpose policy" in by_area and "Secrets procedure" not in by_area


def test_the_list_sorts_by_next_review_with_undated_policies_last(world, grc_user, grc_client):
    # Key purpose policy: due in 31 days (its open change); Later: in about 65 days; Secrets procedure: none.
    policy_in_force(grc=grc_user, approved_on=timezone.localdate() - dt.timedelta(days=300), title="Later")
    url = reverse("evidence:policy-list")

    def order(ordering: str) -> list[str]:
        page = grc_client.get(f"{url}?ordering={ordering}").content.decode()
        titles = ["Key purpose policy", "Later", "Secrets procedure"]
        return sorted(titles, key=lambda title: page.index(f">{title}</a>"))

    assert order("due") == ["Key purpose policy", "Later", "Secrets procedure"]
    assert order("-due") == ["Later", "Key purpose policy", "Secrets procedure"]


def test_the_list_runs_a_constant_number_of_queries(grc_user, owner, grc_client, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add_policies(count: int, start: int) -> None:
        for n in range(start, start + count):
            policy = policy_in_force(grc=grc_user, approved_on=timezone.localdate(), title=f"Policy {n:03d}")
            communication_send(
                version=policy.current_version, audiences=[Group.objects.get(name="key-owners")], actor=grc_user
            )
            acknowledgement_record(version=policy.current_version, user=owner)
            draft(policy, actor=grc_user, label="2.0")

    add_policies(2, 0)
    url = reverse("evidence:policy-list")
    with CaptureQueriesContext(connection) as few:
        assert grc_client.get(url).status_code == 200
    add_policies(12, 2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = grc_client.get(url).content.decode()
    assert page.count("1 of 1") == 14


def test_a_key_owner_sees_their_pending_acknowledgements_first_and_acknowledges_in_one_click(world, owner):
    from tests.conftest import login

    client = login(owner)
    page = client.get(reverse("evidence:policy-list")).content.decode()
    assert "Pending acknowledgements" in page and "Key purpose policy" in page
    action = reverse("evidence:version-acknowledge", args=[world["approved"].pk])
    assert f'action="{action}"' in page
    response = client.post(action, {"next": reverse("evidence:policy-list")}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("evidence:policy-list")
    assert "You acknowledged Key purpose policy v1.0" in response.content.decode()
    assert "Pending acknowledgements" not in response.content.decode()
    again = client.post(action, follow=True).content.decode()
    assert "You had already acknowledged" in again
    assert Acknowledgement.objects.filter(recipient=owner).count() == 1


def test_an_unsafe_next_address_is_ignored(world, owner):
    from tests.conftest import login

    response = login(owner).post(
        reverse("evidence:version-acknowledge", args=[world["approved"].pk]), {"next": "https://evil.example.com/"}
    )
    assert response["Location"] == reverse("evidence:acknowledgement-list")


def test_key_owners_do_not_see_draft_versions(world, owner):
    from tests.conftest import login

    page = login(owner).get(world["policy"].get_absolute_url()).content.decode()
    assert "Version 1.0" in page and "Version 2.0" not in page
    assert "Submit for approval" not in page and "New version" not in page


def test_the_detail_page_shows_coverage_per_audience_and_who_is_missing(world, owner, other_owner, grc_client):
    acknowledgement_record(version=world["approved"], user=owner)
    page = grc_client.get(world["policy"].get_absolute_url()).content.decode()
    assert "key-owners" in page and "1 of 2" in page
    assert (other_owner.get_full_name() or other_owner.username) in page
    assert "New model family" in page and "due by" in page
    assert world["evaluation"].title in page
    assert "Change history" in page and "Approved by Security committee" in page


# --- Forms ---------------------------------------------------------------------------------------------


def test_grc_creates_a_policy_and_is_named_in_its_history(grc_client, grc_user):
    response = grc_client.post(
        reverse("evidence:policy-create"),
        {"title": "Cryptographic key policy", "kind": "policy", "owner": grc_user.pk, "areas": ["key-management"]},
    )
    policy = Policy.objects.get(title="Cryptographic key policy")
    assert response.status_code == 302 and response["Location"] == policy.get_absolute_url()
    assert policy.areas == ["key-management"] and policy.owner == grc_user
    assert policy.history.first().history_user == grc_user


@pytest.mark.parametrize(
    ("url_name", "data", "field_error"),
    [
        ("evidence:policy-create", {"title": "P", "kind": "policy", "description": PEM}, "PEM private key"),
        (
            "evidence:changeevent-create",
            {"kind": "system", "title": "T", "occurred_on": "2026-01-01", "description": PEM},
            "PEM private key",
        ),
        (
            "evidence:evaluation-create",
            {"kind": "internal-audit", "title": "A", "performed_on": "2026-01-01", "result": "effective", "scope": PEM},
            "PEM private key",
        ),
    ],
)
def test_forms_rerender_with_a_clear_message_for_key_material(grc_client, grc_user, url_name, data, field_error):
    data = {**data, "owner": grc_user.pk, "performed_by": grc_user.pk}
    response = grc_client.post(reverse(url_name), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert field_error in page and "never the key, secret or token itself" in page
    assert "Nothing was saved" in page
    assert "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" not in page.replace("\n", "")  # not echoed
    assert not Policy.objects.filter(title="P").exists() and not ChangeEvent.objects.exists()
    assert not EffectivenessEvaluation.objects.exists()


def test_the_version_form_keeps_an_approved_version_frozen(world, grc_client):
    approved = world["approved"]
    url = reverse("evidence:version-update", args=[approved.pk])
    response = grc_client.post(url, {"label": "1.0", "summary": "Rewritten.", "link": approved.link}, follow=True)
    assert "is approved and frozen" in response.content.decode()
    assert PolicyVersion.objects.get(pk=approved.pk).summary == "Version 1.0."
    assert grc_client.get(url)["Location"] == world["policy"].get_absolute_url()
    delete = grc_client.post(reverse("evidence:version-delete", args=[approved.pk]), follow=True)
    assert "only drafts can be deleted" in delete.content.decode()
    assert PolicyVersion.objects.filter(pk=approved.pk).exists()


def test_the_version_form_edits_a_draft_and_refuses_a_duplicate_label(world, grc_client):
    url = reverse("evidence:version-update", args=[world["draft"].pk])
    duplicate = grc_client.post(url, {"label": "1.0", "summary": "x", "link": "https://example.com/x"})
    assert duplicate.status_code == 200 and "already has a version with this label" in duplicate.content.decode()
    saved = grc_client.post(url, {"label": "2.0", "summary": "Adds AI keys.", "link": "https://example.com/2"})
    assert saved.status_code == 302
    assert PolicyVersion.objects.get(pk=world["draft"].pk).summary == "Adds AI keys."


def test_submit_approve_and_send_through_the_pages(
    world, grc_client, grc_user, owner, other_owner, django_capture_on_commit_callbacks
):
    version = world["draft"]
    grc_client.post(reverse("evidence:version-submit", args=[version.pk]))
    assert PolicyVersion.objects.get(pk=version.pk).status == VersionStatus.IN_APPROVAL
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    approve_url = reverse("evidence:version-approve", args=[version.pk])
    refused = grc_client.post(approve_url, {"governance_body": "CISO", "approver": grc_user.pk, "approved_on": future})
    assert refused.status_code == 200 and "cannot be in the future" in refused.content.decode()
    response = grc_client.post(
        approve_url,
        {
            "governance_body": "Security committee",
            "approver": grc_user.pk,
            "approved_on": timezone.localdate().isoformat(),
        },
        follow=True,
    )
    assert "Version 2.0 approved and in force. Version 1.0 is superseded." in response.content.decode()
    assert PolicyVersion.objects.get(pk=world["approved"].pk).status == VersionStatus.SUPERSEDED
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = grc_client.post(
            reverse("evidence:version-send", args=[version.pk]),
            {"audiences": [Group.objects.get(name="key-owners").pk], "message": "New AI keys section."},
            follow=True,
        )
    assert "Version 2.0 sent: 2 recipients will be e-mailed." in sent.content.decode()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, other_owner.email])


def test_the_approval_form_is_only_for_grc_and_a_version_in_approval(world, grc_client):
    response = grc_client.get(reverse("evidence:version-approve", args=[world["draft"].pk]), follow=True)
    assert "only a version submitted for approval can be approved" in response.content.decode()


def test_a_review_can_retire_a_policy_and_notes_refuse_key_material(world, grc_client, grc_user):
    url = reverse("evidence:review-create", args=[world["policy"].pk])
    page = grc_client.get(url).content.decode()
    assert "Open changes this review should address" in page and "New model family" in page
    refused = grc_client.post(
        url,
        {"reviewed_on": timezone.localdate().isoformat(), "reviewer": grc_user.pk, "outcome": "retired", "notes": PEM},
    )
    assert refused.status_code == 200 and "PEM private key" in refused.content.decode()
    assert not PolicyReview.objects.exists()
    done = grc_client.post(
        url,
        {
            "reviewed_on": timezone.localdate().isoformat(),
            "reviewer": grc_user.pk,
            "outcome": "retired",
            "notes": "Merged.",
        },
    )
    assert done.status_code == 302
    assert Policy.objects.get(pk=world["policy"].pk).retired_on == timezone.localdate()
    again = grc_client.post(
        url, {"reviewed_on": timezone.localdate().isoformat(), "reviewer": grc_user.pk, "outcome": "no-change"}
    )
    assert again.status_code == 200 and "retired" in again.content.decode()


def test_a_change_form_needs_an_affected_policy(grc_client):
    response = grc_client.post(
        reverse("evidence:changeevent-create"),
        {"kind": "regulatory", "title": "New law", "occurred_on": timezone.localdate().isoformat(), "description": "x"},
    )
    assert response.status_code == 200 and "Choose the affected policies" in response.content.decode()


def test_a_change_recorded_by_area_affects_the_tagged_policies(world, grc_client):
    response = grc_client.post(
        reverse("evidence:changeevent-create"),
        {
            "kind": "system",
            "title": "New HSM cluster",
            "occurred_on": timezone.localdate().isoformat(),
            "description": "Keys move to a new HSM.",
            "areas": ["key-purpose"],
        },
        follow=True,
    )
    event = ChangeEvent.objects.get(title="New HSM cluster")
    assert list(event.policies.all()) == [world["policy"]]
    assert f"due by {event.review_due_on.day} {event.review_due_on:%b %Y}" in response.content.decode()


def test_an_evaluation_that_is_not_effective_needs_findings(grc_client, grc_user):
    data = {
        "kind": "encryption-control-validation",
        "title": "Validation Q1",
        "performed_on": timezone.localdate().isoformat(),
        "result": "not-effective",
        "performed_by": grc_user.pk,
        "scope": "Production KMS key policies.",
    }
    response = grc_client.post(reverse("evidence:evaluation-create"), data)
    assert response.status_code == 200 and "Describe the findings" in response.content.decode()
    data["findings"] = "Three keys allow encrypt and sign."
    assert grc_client.post(reverse("evidence:evaluation-create"), data).status_code == 302


# --- Admin -------------------------------------------------------------------------------------------


def test_the_admin_cannot_change_or_delete_an_approved_version(world):
    from tests.conftest import login

    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = login(admin)
    approved = world["approved"]
    change_url = reverse("admin:evidence_policyversion_change", args=[approved.pk])
    assert client.get(change_url).status_code == 200  # read-only view
    assert client.post(change_url, {"label": "9.9", "summary": "Rewritten in the admin."}).status_code == 403
    assert (
        client.post(reverse("admin:evidence_policyversion_delete", args=[approved.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert client.get(reverse("admin:evidence_policyversion_add")).status_code == 403
    changelist = client.post(
        reverse("admin:evidence_policyversion_changelist"),
        {"action": "delete_selected", "_selected_action": [approved.pk], "post": "yes"},
    )
    assert changelist.status_code == 200  # the changelist again: the admin offers no delete action here
    stored = PolicyVersion.objects.get(pk=approved.pk)
    assert (stored.label, stored.summary, stored.status) == ("1.0", "Version 1.0.", VersionStatus.APPROVED)
    approval_url = reverse("admin:evidence_policyapproval_change", args=[approved.approval.pk])
    assert client.post(approval_url, {"governance_body": "Nobody"}).status_code == 403
    history = client.get(reverse("admin:evidence_policyversion_history", args=[approved.pk]))
    assert history.status_code == 200
