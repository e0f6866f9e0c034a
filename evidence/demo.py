"""Demo policies for ``manage.py seed_demo``: a policy set at the demo company with a history and a few
deliberate gaps, written through the features' services (``evidence.<feature>.services``) like everything
else, idempotently (a policy that exists by title is left as it is).

- "Cryptographic key management policy": version 1.0 approved 14 months ago and superseded by 2.0 eleven
  months ago; sent to the key owners, acknowledged by olivia only (coverage 1 of 2); reviewed two months
  ago; a significant model change recorded ten days ago makes its next review due within the set days.
- "Key purpose and separation procedure": approved 13 months ago and never reviewed since: **overdue**.
  Sent to the key owners and the auditors; nobody acknowledged it yet.
- "AI model signing key procedure": its first version is in approval (no version in force yet).
- An internal audit three months ago, partially effective, with findings; an encryption control
  validation last month, effective.

Call :func:`demo_policies_seed` after the inventory demo (it needs the demo accounts, which it creates
when missing).

:func:`demo_campaigns_seed` adds two attestation campaigns over the demo inventory (it needs the demo key
stores, and creates nothing without them):

- "Quarterly key owner attestation" (every active key): closed. omar reported a discrepancy on eval-results (its
  purpose label disagrees with the inventory), which opened a finding; every other addressed key was confirmed;
  the key with no owner (orphan-webhook-secret) stays "not answered". Its results digest is recorded. It is the
  last closed campaign CCM-3 reads, so every other active key counts as attested.
- "Vault secrets attestation" (store vault-kv): launched, due in three weeks; olivia confirmed one key,
  the rest are pending.

:func:`demo_iac_seed` records two IaC scans (``evidence.iac``), each by running the real gate on a small directory
of ``.tf`` files written for it, so AG-8 is computed in the demo's check run: "northwind/platform-infra" passes
(one tagged key per purpose); "northwind/ml-serving" gives one key to training-data encryption and inference-log
encryption, which the gate reports (``iac-multi-purpose``) and which becomes a finding. AG-8 is then 1 of 2
repositories, a fail, until that repository is fixed and scanned again.

:func:`demo_usage_seed` ingests two weeks of key usage through the real ingestion (``usage_ingest_path``, format
``usage-csv``), generated for the hand-made keys in use and the app's own signing key: each called by the principal
of its binding with operations of its purpose, so that every store is watched and AG-9 is computed. One deliberate
misuse (``inventory.demo.PROBLEMS``): a data-science notebook role with no grant or binding decrypts Globex Retail's
inference logs. customer-export's Encrypt calls fail (its AWS key is for signing), which is the evidence of its
platform-usage problem, not another misuse.

:func:`demo_signing_key_seed` gives the app's own evidence-signing key (recorded by
``evidence.packs.signing.signing_key_inventory_ensure``) owners and has GRC confirm its store complete, as GRC would
after the app registered it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cek.demo import demo_users_ensure
from evidence.answers.services import answer_generate, answer_publish
from evidence.campaigns.services import (
    attestation_confirm,
    attestation_confirm_all,
    attestation_report_discrepancy,
    campaign_close,
    campaign_create,
    campaign_keys,
    campaign_launch,
    campaign_launch_run,
)
from evidence.checks.services import check_run_start
from evidence.documents.uploads import document_inspect
from evidence.models import (
    Attestation,
    AttestationStatus,
    Campaign,
    CampaignStatus,
    ChangeEvent,
    ChangeKind,
    EffectivenessEvaluation,
    EvaluationKind,
    EvaluationResult,
    Policy,
    PolicyKind,
    PolicyVersion,
    ReviewOutcome,
)
from evidence.policies.services import (
    acknowledgement_record,
    communication_send,
    policy_create,
    policy_version_approve,
    policy_version_save,
    policy_version_submit,
)
from evidence.reviews.schedule import add_months
from evidence.reviews.services import change_event_save, evaluation_save, policy_review_record
from inventory.models import KeyStore

KEY_POLICY = "Cryptographic key management policy"
PURPOSE_PROCEDURE = "Key purpose and separation procedure"
SIGNING_PROCEDURE = "AI model signing key procedure"
CLOSED_CAMPAIGN = "Quarterly key owner attestation"
RUNNING_CAMPAIGN = "Vault secrets attestation"
DISCREPANCY_KEY = "eval-results"
DISCREPANCY_COMMENT = (
    "The key's purpose label says training-data-encryption but it encrypts evaluation results; the label or "
    "the record is wrong."
)

# The policy set's deliberate gaps (as the docstring says; tests/evidence/test_demo.py checks them): shown on the
# dashboard and the policy pages, never a finding (CCM-1 counts the key-management policy, which is in force).
POLICY_GAPS: tuple[str, ...] = (
    f"'{PURPOSE_PROCEDURE}': review overdue (approved 13 months ago, never reviewed)",
    f"'{SIGNING_PROCEDURE}': its first version is still in approval",
    f"'{KEY_POLICY}' 2.0: acknowledged by 1 of the 2 key owners",
)

_KEY_POLICY_TEXT = """# Cryptographic key management policy

Version {label}. Owner: GRC. Applies to every key store, service and AI workload of {organisation}.

## 1. One purpose per key
Every cryptographic secret and private key is provisioned for exactly one purpose from the purpose catalog
(data encryption, key wrapping, signing, authentication, ...). A key is never reused for a second purpose,
service or tenant.

## 2. Recording
Each key is recorded in the key inventory with its purpose, owner, store and labels. The key itself is never
recorded anywhere but in its key store.

## 3. Approval and review
This policy is approved by the security committee and reviewed at least every 12 months, and after any
significant system, model or regulatory change.
"""

_PURPOSE_TEXT = """# Key purpose and separation procedure

1. Request a new key through the platform team, naming its single purpose and the service that uses it.
2. The platform team creates the key with the purpose label set and a key policy that allows only the
   operations of that purpose.
3. Infrastructure as code is checked in CI: a plan that gives one key to two services fails.
4. Key owners confirm their keys every quarter.
"""


def _markdown(name: str, text: str):
    return document_inspect(name=name, data=text.encode(), content_type="text/markdown")


def _version(policy: Policy, *, actor, label: str, summary: str, document=None, link: str = "") -> PolicyVersion:
    version = PolicyVersion(policy=policy, label=label, summary=summary, link=link)
    return policy_version_save(version=version, actor=actor, document=document)


def _approve(version: PolicyVersion, *, actor, approver, body: str, on: dt.date) -> None:
    policy_version_submit(version=version, actor=actor)
    policy_version_approve(
        version=version,
        actor=actor,
        governance_body=body,
        approver=approver,
        approved_on=on,
        reference=f"Minutes SC-{on:%Y-%m}",
    )


def demo_policies_seed(*, today: dt.date | None = None) -> Counter:
    """Create the demo policies, changes and evaluations that are missing; returns what was created."""
    today = today or timezone.localdate()
    users = {name: result.user for name, result in demo_users_ensure().items()}
    grace, olivia, omar = users["grace"], users["olivia"], users["omar"]
    key_owners = Group.objects.get(name="key-owners")
    auditors = Group.objects.get(name="auditors")
    organisation = settings.CEK_ORGANISATION
    created: Counter = Counter()

    with transaction.atomic():
        key_policy = Policy.objects.filter(title=KEY_POLICY).first()
        if key_policy is None:
            key_policy = policy_create(
                actor=grace,
                title=KEY_POLICY,
                kind=PolicyKind.POLICY,
                owner=grace,
                description="How the company provisions, records and governs cryptographic keys and secrets.",
                scope="All key stores (AWS KMS, Vault, HSM), services and AI workloads; all SSRM layers we operate.",
                areas=["key-management", "key-purpose", "encryption", "ai-models"],
            )
            first = _version(
                key_policy,
                actor=grace,
                label="1.0",
                summary="First issue.",
                document=_markdown(
                    "key-management-policy-1.0.md", _KEY_POLICY_TEXT.format(label="1.0", organisation=organisation)
                ),
            )
            _approve(first, actor=grace, approver=grace, body="Security committee", on=add_months(today, -14))
            second = _version(
                key_policy,
                actor=grace,
                label="2.0",
                summary="Adds AI workloads (model signing, inference-log encryption) to the scope.",
                document=_markdown(
                    "key-management-policy-2.0.md", _KEY_POLICY_TEXT.format(label="2.0", organisation=organisation)
                ),
            )
            _approve(
                second,
                actor=grace,
                approver=grace,
                body="Chief Information Security Officer (CISO)",
                on=add_months(today, -11),
            )
            communication_send(
                version=second,
                audiences=[key_owners],
                actor=grace,
                message="Version 2.0 brings AI workloads into scope. Please read it and acknowledge.",
            )
            acknowledgement_record(version=second, user=olivia)
            policy_review_record(
                policy=key_policy,
                actor=grace,
                reviewer=grace,
                reviewed_on=add_months(today, -2),
                outcome=ReviewOutcome.NO_CHANGE,
                notes="Checked against the key inventory and the AICM 1.1.0 text of CEK-11; no change needed.",
            )
            created["policies"] += 1

        procedure = Policy.objects.filter(title=PURPOSE_PROCEDURE).first()
        if procedure is None:
            procedure = policy_create(
                actor=grace,
                title=PURPOSE_PROCEDURE,
                kind=PolicyKind.PROCEDURE,
                owner=omar,
                description="Step by step: how a key gets exactly one purpose and keeps it.",
                scope="Platform team and every key owner.",
                areas=["key-purpose", "cloud"],
            )
            version = _version(
                procedure,
                actor=grace,
                label="1.0",
                summary="First issue.",
                document=_markdown("key-purpose-procedure-1.0.md", _PURPOSE_TEXT),
            )
            _approve(version, actor=grace, approver=grace, body="Security committee", on=add_months(today, -13))
            communication_send(version=version, audiences=[key_owners, auditors], actor=grace)
            created["policies"] += 1

        signing = Policy.objects.filter(title=SIGNING_PROCEDURE).first()
        if signing is None:
            signing = policy_create(
                actor=grace,
                title=SIGNING_PROCEDURE,
                kind=PolicyKind.PROCEDURE,
                owner=olivia,
                description="Signing released model weights and containers with a dedicated signing key.",
                scope="Model registry and release pipeline.",
                areas=["ai-models", "pki"],
            )
            version = _version(
                signing,
                actor=grace,
                label="0.9",
                summary="Draft for the security committee.",
                link="https://intranet.example.com/policies/ai-model-signing-0.9",
            )
            policy_version_submit(version=version, actor=grace)
            created["policies"] += 1

        change_title = "Adopted a second foundation model provider"
        if not ChangeEvent.objects.filter(title=change_title).exists():
            change_event_save(
                event=ChangeEvent(
                    kind=ChangeKind.MODEL,
                    title=change_title,
                    description="Inference now also runs on a second model provider's models; its API tokens and "
                    "the signing of its model artifacts need keys of their own.",
                    occurred_on=today - dt.timedelta(days=10),
                    areas=["ai-models"],
                ),
                actor=grace,
                policies=[key_policy],
            )
            created["changes"] += 1

        evaluations = [
            (
                "Internal audit of key purpose mapping",
                EvaluationKind.INTERNAL_AUDIT,
                add_months(today, -3),
                EvaluationResult.PARTIALLY_EFFECTIVE,
                "Two inference keys were bound to a second service; one purpose label disagreed with the inventory.",
            ),
            (
                "Validation of KMS key policies",
                EvaluationKind.ENCRYPTION_VALIDATION,
                add_months(today, -1),
                EvaluationResult.EFFECTIVE,
                "",
            ),
        ]
        for title, kind, performed_on, result, findings in evaluations:
            if EffectivenessEvaluation.objects.filter(title=title).exists():
                continue
            evaluation_save(
                evaluation=EffectivenessEvaluation(
                    kind=kind,
                    title=title,
                    performed_on=performed_on,
                    scope="Production key stores and the services that use their keys.",
                    result=result,
                    findings=findings,
                    performed_by=grace,
                    assessor="" if kind == EvaluationKind.INTERNAL_AUDIT else "Example Assurance LLP",
                ),
                actor=grace,
                policies=[key_policy, procedure],
            )
            created["evaluations"] += 1
    return created


def _launch(*, actor, name: str, store: KeyStore | None, due_on: dt.date) -> Campaign | None:
    """Draft and launch a campaign over ``store``'s active keys (every active key for None); None (and no draft)
    when there are none."""
    if not campaign_keys(Campaign(scope_store=store)).exists():
        return None
    campaign = campaign_create(actor=actor, name=name, due_on=due_on, store=store)
    campaign = campaign_launch(campaign=campaign, actor=actor)
    if campaign.status == CampaignStatus.LAUNCHING:
        # A large demo inventory goes over the inline limit: create the attestations here rather than leave
        # the demo waiting for a worker (the queued task then finds the campaign launched and does nothing).
        campaign_launch_run(campaign_id=campaign.pk)
        campaign.refresh_from_db()
    return campaign


def demo_campaigns_seed(*, today: dt.date | None = None) -> Counter:
    """Create the demo attestation campaigns that are missing (see the module doc); returns what was created.
    A campaign that exists by name is left as it is; without the demo key stores nothing is created."""
    today = today or timezone.localdate()
    users = {name: result.user for name, result in demo_users_ensure().items()}
    grace, olivia = users["grace"], users["olivia"]
    stores = {store.name: store for store in KeyStore.objects.filter(name__in=["aws-kms-ml", "vault-kv"])}
    created: Counter = Counter()

    with transaction.atomic():
        if "aws-kms-ml" in stores and not Campaign.objects.filter(name=CLOSED_CAMPAIGN).exists():
            campaign = _launch(actor=grace, name=CLOSED_CAMPAIGN, store=None, due_on=today)
            if campaign is not None:
                pending = Attestation.objects.filter(
                    campaign=campaign, status=AttestationStatus.PENDING, addressed_to__isnull=False
                ).select_related("addressed_to")
                reported = pending.filter(key__name=DISCREPANCY_KEY).first() or pending.order_by("key__name").first()
                if reported is not None:
                    attestation_report_discrepancy(
                        attestation=reported, actor=reported.addressed_to, comment=DISCREPANCY_COMMENT
                    )
                # Without the default ordering (campaign, key name, id), whose columns DISTINCT would count in:
                # one row per attestation, a million ids read back and sent again as parameters.
                addressees = pending.order_by().values("addressed_to").distinct()
                for user in get_user_model().objects.filter(pk__in=addressees).order_by("pk"):
                    attestation_confirm_all(actor=user, campaign=campaign)
                campaign_close(campaign=campaign, actor=grace)
                created["campaigns"] += 1

        if "vault-kv" in stores and not Campaign.objects.filter(name=RUNNING_CAMPAIGN).exists():
            campaign = _launch(
                actor=grace, name=RUNNING_CAMPAIGN, store=stores["vault-kv"], due_on=today + dt.timedelta(days=21)
            )
            if campaign is not None:
                first = Attestation.objects.filter(campaign=campaign, addressed_to=olivia).order_by("key__name").first()
                if first is not None:
                    attestation_confirm(attestations=[first.pk], actor=olivia)
                created["campaigns"] += 1
    return created


IAC_DEMO_REPOSITORIES: dict[str, tuple[str, str]] = {
    # repository: (commit, main.tf)
    "northwind/platform-infra": (
        "4e1c2a7b9d03f5e6a8b1c2d3e4f5a6b7c8d9e0f1",
        """
resource "aws_kms_key" "platform_logs" {
  description         = "platform log encryption"
  enable_key_rotation = true
  tags = { purpose = "log-encryption", service = "platform" }
}

resource "aws_kms_key" "platform_data" {
  description         = "platform data at rest"
  enable_key_rotation = true
  tags = { purpose = "data-encryption", service = "platform" }
}

resource "aws_cloudwatch_log_group" "api" {
  name       = "/platform/api"
  kms_key_id = aws_kms_key.platform_logs.arn
  tags       = { service = "platform" }
}

resource "aws_ebs_volume" "cache" {
  availability_zone = "eu-west-1a"
  size              = 50
  kms_key_id        = aws_kms_key.platform_data.arn
  tags              = { service = "platform" }
}
""",
    ),
    "northwind/ml-serving": (
        "9b8a7c6d5e4f30211203f4e5d6c7b8a9f0e1d2c3",
        """
resource "aws_kms_key" "ml_shared" {
  description         = "ML data and logs (one key for both: the gate rejects it)"
  enable_key_rotation = true
  tags = { purpose = "data-encryption", service = "inference" }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "training" {
  bucket = "training-data"
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.ml_shared.arn
    }
  }
}

resource "aws_cloudwatch_log_group" "inference" {
  name       = "/ml/inference"
  kms_key_id = aws_kms_key.ml_shared.arn
  tags       = { service = "inference" }
}
""",
    ),
}


def demo_iac_seed() -> Counter:
    """Two recorded IaC scans, one passing and one with a violation (see the module docstring), recorded by grace
    through ``iac_scan_record`` after the real gate read each repository's ``.tf`` files. Nothing is done when a
    scan was recorded in the last ``IAC_RESCAN_DAYS`` days, or without the demo inventory's "us" party."""
    import tempfile
    from pathlib import Path

    from evidence.iac.models import IacScan
    from evidence.iac.services import check_path, iac_scan_record
    from inventory.models import Party

    created: Counter = Counter()
    if not Party.objects.filter(is_us=True).exists():
        return created
    newest = IacScan.objects.order_by("-recorded_at").values_list("recorded_at", flat=True).first()
    # A demo started again weeks later has its repositories scanned again (the gate's scans are fresh for
    # CEK_IAC_FRESH_DAYS; a week's margin), so AG-8 keeps judging them rather than finding them stale.
    if newest is not None and newest > timezone.now() - dt.timedelta(days=IAC_RESCAN_DAYS):
        return created
    grace = demo_users_ensure()["grace"].user
    for repository, (commit, main_tf) in IAC_DEMO_REPOSITORIES.items():
        with tempfile.TemporaryDirectory(prefix="cek-demo-iac-") as folder:
            (Path(folder) / "main.tf").write_text(main_tf.lstrip(), encoding="utf-8")
            result = check_path(Path(folder))
        iac_scan_record(result=result, repository=repository, commit=commit, actor=grace)
        created["IaC scans"] += 1
    return created


IAC_RESCAN_DAYS = 7  # a demo started again after this many days has its repositories scanned again
USAGE_DAYS = 14  # days of usage the demo's log covers (yesterday and before): fresh, and shorter than dormancy
USAGE_FILE = "northwind-key-usage.csv"


def _platform_operation(kind: str, operation: str) -> str:
    """The name a platform's audit log gives ``operation`` (an ``inventory.models.Operation`` value)."""
    from inventory.models import StoreKind

    camel = "".join(word.capitalize() for word in operation.split("-"))
    if kind == StoreKind.AWS_KMS or kind == StoreKind.HSM:
        return camel
    if kind == StoreKind.GCP_KMS:
        return "AsymmetricSign" if operation == "sign" else camel
    if kind == StoreKind.AZURE_KV:
        return f"Key{camel}"
    if kind == StoreKind.VAULT_TRANSIT:
        return "transit/" + {"generate-mac": "hmac", "generate-data-key": "datakey"}.get(operation, operation)
    if kind == StoreKind.VAULT_KV:
        return "read"  # a KV secret is read; the log does not say what it is then used for
    if kind == StoreKind.K8S_SECRETS:
        return "get"
    return operation


def demo_usage_rows(*, today: dt.date) -> list[dict[str, str]]:
    """The demo's usage log (``usage-csv`` rows, see the module docstring) for the keys as they are now: the
    hand-made keys in use and the app's signing key, ``USAGE_DAYS`` days up to yesterday. Deterministic for a day."""
    import random

    from evidence.packs import signing
    from inventory.demo import KEYS, PROBLEMS, USAGE_INTRUDER
    from inventory.models import IN_USE_STATES, Key

    names = [spec.name for spec in KEYS] + [signing.INVENTORY_KEY_NAME]
    misused = {problem.key for problem in PROBLEMS if problem.where == "usage"}
    keys = (
        Key.objects.filter(name__in=names, state__in=IN_USE_STATES, platform_managed=False)
        .select_related("store", "purpose")
        .prefetch_related("bindings")
        .order_by("store__name", "name")
    )
    rows: list[dict[str, str]] = []
    for key in keys:
        rng = random.Random(f"{key.store.name}/{key.name}")  # demo figures, not security
        bindings = sorted(key.bindings.all(), key=lambda binding: binding.pk)
        principal = bindings[0].principal if bindings else "cek-evidence-app (worker)"
        allowed = list(key.purpose.allowed_operations or []) if key.purpose_id else []
        operations = allowed[:2] or ["encrypt"]
        failing = key.platform_usage == "SIGN_VERIFY" and key.purpose_id and key.purpose.function == "encryption"
        for offset in range(USAGE_DAYS, 0, -1):
            day = today - dt.timedelta(days=offset)
            for operation in operations:
                if failing and operation != "encrypt":
                    continue
                count = rng.randint(20, 600)
                rows.append(
                    {
                        "store": key.store.name,
                        "key": key.external_id,
                        "principal": principal,
                        "principal_type": "role",
                        "operation": _platform_operation(key.store.kind, "encrypt" if failing else operation),
                        "day": day.isoformat(),
                        "count": str(count),
                        # customer-export's AWS key is for signing: every Encrypt call of the export job fails.
                        "errors": str(count if failing else 0),
                        "error_code": "InvalidKeyUsageException" if failing else "",
                    }
                )
            if key.name in misused and offset <= 3:
                # The deliberate misuse: a notebook role with no grant or binding reads a tenant's prompt logs.
                count = rng.randint(10, 40)
                rows.append(
                    {
                        "store": key.store.name,
                        "key": key.external_id,
                        "principal": USAGE_INTRUDER,
                        "principal_type": "role",
                        "operation": "Decrypt",
                        "day": day.isoformat(),
                        "count": str(count),
                        "errors": "0",
                        "error_code": "",
                    }
                )
    return rows


def demo_usage_seed(*, today: dt.date | None = None) -> Counter:
    """Ingest the demo's usage log (:func:`demo_usage_rows`) through ``usage_ingest_path`` as grace, which also runs
    the misuse rules. When a log is already ingested, only the days after the last one it covers, up to yesterday
    (nothing when that is yesterday); nothing without the demo inventory's "us" party. Raises RuntimeError when the ingestion fails (the demo's own file must read)."""
    import csv
    import tempfile
    from pathlib import Path

    from evidence.usage.models import IngestionStatus, UsageAggregate, UsageIngestion
    from evidence.usage.services import usage_ingest_path
    from inventory.models import Party

    created: Counter = Counter()
    if not Party.objects.filter(is_us=True).exists():
        return created
    today = today or timezone.localdate()
    rows = demo_usage_rows(today=today)
    name = USAGE_FILE
    if UsageIngestion.objects.exists():
        # A demo started again days later: its log carries on from the last day it covers, so its usage stays as
        # fresh as on the first day (CEK_USAGE_FRESH_DAYS) and the demo keeps showing its problems and no others.
        last = UsageAggregate.objects.filter(source="usage-csv").order_by("-day").values_list("day", flat=True).first()
        if last is None or last >= today - dt.timedelta(days=1):
            return created
        rows = [row for row in rows if row["day"] > last.isoformat()]
        name = USAGE_FILE.replace(".csv", f"-{rows[0]['day']}-to-{rows[-1]['day']}.csv") if rows else name
    if not rows:
        return created
    grace = demo_users_ensure()["grace"].user
    with tempfile.TemporaryDirectory(prefix="cek-demo-usage-") as folder:
        path = Path(folder) / name
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        ingestion = usage_ingest_path(source="usage-csv", path=str(path), user=grace)
    if ingestion.status != IngestionStatus.SUCCEEDED:
        raise RuntimeError(f"The demo usage log was not ingested: {ingestion.last_error}")
    created["usage logs"] += 1
    return created


def demo_signing_key_seed(key) -> None:
    """The app's own evidence-signing key (``key``, recorded by ``signing_key_inventory_ensure``) in the demo: owned
    by omar (who runs the release and signing services) with olivia as backup, and its store confirmed complete by
    grace. Keys and stores that already have them are left as they are."""
    from inventory.demo import SEED_REASON
    from inventory.services import key_save, keystore_confirm_inventory

    users = {name: result.user for name, result in demo_users_ensure().items()}
    if key.owner_id is None and key.backup_owner_id is None:
        key.owner, key.backup_owner = users["omar"], users["olivia"]
        key_save(key=key, actor=None, reason=SEED_REASON)
    store = key.store
    if store.inventory_confirmed_at is None and store.last_full_import_at is None:
        keystore_confirm_inventory(store=store, actor=users["grace"])


def demo_assessment_seed(*, refreshed: bool = False) -> Counter:
    """A first check run and the CEK-11.1 answer of the "us" party drafted from it and published when the fill
    rules allow (else left as a draft for GRC to complete), so the dashboard has something to show. When a check
    run already exists: nothing, or a new run when ``refreshed`` (the demo's usage log or IaC scans were brought up
    to date), so the dashboard judges what the demo holds today."""
    from evidence.models import CheckRun, RunTrigger
    from inventory.models import Party

    created: Counter = Counter()
    us = Party.objects.filter(is_us=True).first()
    if us is None:
        return created
    if CheckRun.objects.exists():
        if refreshed:
            check_run_start(trigger=RunTrigger.COMMAND, actor=demo_users_ensure()["grace"].user, background=False)
            created["check runs"] += 1
        return created
    grace = demo_users_ensure()["grace"].user
    run = check_run_start(trigger=RunTrigger.COMMAND, actor=grace, background=False)
    created["check runs"] += 1
    answer = answer_generate(party=us, actor=grace, run=run)
    created["CEK-11.1 answers"] += 1
    try:
        answer_publish(answer=answer, actor=grace)
    except ValidationError:
        pass  # the draft shows GRC what the fill rules still need
    return created
