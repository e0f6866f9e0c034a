"""Realistic demo inventory of an AI company, for ``manage.py seed_demo`` and ``benchmarks/inventory.py``.

The company: **Northwind AI Ltd** ("us"; Application Provider and Orchestrated Service Provider) runs on
**Nimbus Cloud** (CSP), builds on **Helix Models Inc**'s models (MP) and sells to two AI customers, **Acme
Health** and **Globex Retail** (AIC), each a tenant. SSRM assignments follow the CEK-11 catalog (PI: CSP+MP;
Model: MP; Orchestrated: MP+OSP; Application: OSP+AP). Eleven services, eight key stores and about thirty
hand-made keys with bindings and grants; the demo users of ``manage.py demo_users`` own the keys.

The hand-made set is written through ``inventory.services`` (validated, history attributed to no user with the
change reason :data:`SEED_REASON`). Everything is looked up by its natural key first, so running the builder
again creates nothing and writes no history.

Deliberate problems, for the checks to find (each in its own key, see :data:`PROBLEMS`):

1. ``multi-purpose-binding``: key ``registry-signer`` is bound to the model registry for model-registry
   authentication and to the CI signing service for model-artifact signing.
2. ``cross-tenant-ai-key``: key ``prompt-archive-shared`` (inference-log encryption, an AI purpose) is bound
   for both tenants, Acme Health and Globex Retail.
3. ``purpose-label-mismatch``: key ``eval-results`` has the purpose evaluation-data encryption but its
   ``purpose`` label says ``training-data-encryption``.
4. ``missing-justification``: key ``gpu-scratch`` has no purpose justification.
5. ``stale-purpose-review``: the purpose mapping of key ``vector-backup`` was last reviewed 540 days ago.
6. ``cryptoperiod-overdue``: active key ``legacy-partner-token`` (API authentication, one-year maximum) was
   activated 700 days ago and never rotated.
7. ``active-key-without-owner``: active key ``orphan-webhook-secret`` has neither owner nor backup owner.
8. ``wildcard-grant``: key ``feature-store`` grants ``arn:aws:iam::444455556666:role/*``.
9. ``expired-grant``: key ``batch-inference`` has a grant to a contractor that expired 30 days ago.
10. ``grant-operations-outside-purpose``: key ``embedding-cache`` (an encryption purpose) grants
    ``generate-mac`` and ``verify-mac``.
11. ``exposed-without-scope``: key ``globex-integration-token`` is exposed to Globex Retail with neither
    scope nor contract reference.
12. ``platform-usage-mismatch``: key ``customer-export`` has AWS KeyUsage ``SIGN_VERIFY`` but is recorded for
    data encryption.

Bulk keys (``keys=N``) are for volume: spread over stores, purposes, owners, tenants and states (mostly
active), with unique external ids per store and the derived ``cryptoperiod_ends_on`` set. They are inserted in
batches of 2,000 rows with one "+" history row each, so that 100,000 keys take well under a minute on SQLite
and PostgreSQL (why not ``bulk_create``: see :func:`demo_bulk_keys_ensure`). They carry the label
``seeded-by=seed_demo`` and no bindings or grants (as a fresh import from a KMS would). Like a real
inventory, a few percent of them are overdue, unowned or have a stale review. Their index is part of their
name and id, and the random stream is drawn for every index, so ``--keys 500`` twice adds nothing and
``--keys 500`` then ``--keys 1000`` gives the same data as ``--keys 1000`` once (with the same seed).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Value
from django.utils import timezone

from cek.management.commands.demo_users import demo_users_ensure
from inventory.models import (
    AccessGrant,
    ArchitecturalLayer,
    Binding,
    Environment,
    Key,
    KeyKind,
    KeyState,
    KeyStore,
    LifecyclePhase,
    Party,
    Purpose,
    Service,
    SsrmAssignment,
    SsrmLayer,
    SsrmRole,
    StoreKind,
    Tenant,
)
from inventory.services import key_save, object_save, party_save

SEED_REASON = "Demo data (seed_demo)"
BULK_LABEL = ("seeded-by", "seed_demo")
DEFAULT_SEED = 2026
US = "Northwind AI Ltd"


@dataclass(frozen=True)
class Problem:
    code: str
    key: str  # the hand-made key's name
    guideline: str
    description: str


# The data tables below are kept one record per line (or per few lines) so they read as tables.
# fmt: off
PROBLEMS: tuple[Problem, ...] = (
    Problem("multi-purpose-binding", "registry-signer", "AG-3",
            "bound to two services for two purposes (registry authentication, artifact signing)"),
    Problem("cross-tenant-ai-key", "prompt-archive-shared", "AG-6",
            "inference-log encryption key bound for two tenants (Acme Health, Globex Retail)"),
    Problem("purpose-label-mismatch", "eval-results", "AG-7",
            "purpose label says training-data-encryption, recorded purpose is evaluation-data-encryption"),
    Problem("missing-justification", "gpu-scratch", "AG-2", "no purpose justification"),
    Problem("stale-purpose-review", "vector-backup", "AG-2", "purpose mapping last reviewed 540 days ago"),
    Problem("cryptoperiod-overdue", "legacy-partner-token", "CCM-3",
            "active, one-year cryptoperiod, activated 700 days ago, never rotated"),
    Problem("active-key-without-owner", "orphan-webhook-secret", "CCM-3", "active key with no owner or backup owner"),
    Problem("wildcard-grant", "feature-store", "AG-5", "grant to the wildcard principal arn:aws:iam::444455556666:role/*"),
    Problem("expired-grant", "batch-inference", "AG-5", "grant to a contractor that expired 30 days ago"),
    Problem("grant-operations-outside-purpose", "embedding-cache", "AG-4",
            "grant allows generate-mac/verify-mac on an encryption key"),
    Problem("exposed-without-scope", "globex-integration-token", "AG-10",
            "exposed to Globex Retail without scope or contract reference"),
    Problem("platform-usage-mismatch", "customer-export", "AG-4",
            "AWS KeyUsage SIGN_VERIFY on a key recorded for data encryption"),
)

# --- The hand-made organisation ---------------------------------------------------------------------

PARTIES = [
    # name, roles, is_us, description
    (US, ["AP", "OSP"], True, "Us: builds AI applications and orchestrates model services for customers."),
    ("Nimbus Cloud", ["CSP"], False, "Cloud service provider: compute, storage, managed KMS and Kubernetes."),
    ("Helix Models Inc", ["MP"], False, "Model provider: foundation models, fine-tuning and the model registry."),
    ("Acme Health", ["AIC"], False, "AI customer (tenant acme-health): clinical note summarisation."),
    ("Globex Retail", ["AIC"], False, "AI customer (tenant globex-retail): product search and support chat."),
]
ASSIGNMENTS = [
    # layer, party, role, responsibility (as in the CEK-11 SSRM: PI CSP+MP, Model MP, Orchestrated MP+OSP, App OSP+AP)
    (SsrmLayer.PI, "Nimbus Cloud", SsrmRole.CSP, "Operates KMS, HSM and storage encryption of the platform."),
    (SsrmLayer.PI, "Helix Models Inc", SsrmRole.MP, "Purpose-bound keys for GPU clusters and training storage."),
    (SsrmLayer.MODEL, "Helix Models Inc", SsrmRole.MP, "Model-weight encryption and artifact signing keys."),
    (SsrmLayer.ORCHESTRATED, "Helix Models Inc", SsrmRole.MP, "Registry credentials and inference API keys."),
    (SsrmLayer.ORCHESTRATED, US, SsrmRole.OSP, "Inference gateway, vector store and prompt-log keys per tenant."),
    (SsrmLayer.APPLICATION, US, SsrmRole.OSP, "Keys of the customer API and its integrations."),
    (SsrmLayer.APPLICATION, US, SsrmRole.AP, "Web application session, webhook and billing secrets."),
]
TENANTS = [("acme-health", "Acme Health", "Acme Health"), ("globex-retail", "Globex Retail", "Globex Retail")]

E, A, L, P = Environment, ArchitecturalLayer, SsrmLayer, LifecyclePhase
SERVICES = [
    # slug, name, environment, architectural layer, SSRM layer, AI lifecycle phase, operating party, owner
    ("inference-gateway", "Inference gateway", E.PRODUCTION, A.COMPUTE, L.ORCHESTRATED, P.DELIVERY, US, "olivia"),
    ("training-pipeline", "Fine-tuning pipeline", E.PRODUCTION, A.COMPUTE, L.MODEL, P.DEVELOPMENT, "Helix Models Inc", "omar"),
    ("model-registry", "Model registry", E.PRODUCTION, A.STORAGE, L.MODEL, P.DEPLOYMENT, "Helix Models Inc", "omar"),
    ("evaluation-harness", "Evaluation harness", E.STAGING, A.COMPUTE, L.ORCHESTRATED, P.EVALUATION, US, "omar"),
    ("vector-store", "Vector store (RAG)", E.PRODUCTION, A.DATA, L.ORCHESTRATED, P.DELIVERY, US, "olivia"),
    ("prompt-log-archive", "Prompt log archive", E.PRODUCTION, A.STORAGE, L.ORCHESTRATED, P.RETIREMENT, US, "olivia"),
    ("training-data-lake", "Training data lake", E.PRODUCTION, A.STORAGE, L.PI, P.PREPARATION, "Nimbus Cloud", "omar"),
    ("customer-api", "Customer API", E.PRODUCTION, A.APPLICATION, L.APPLICATION, P.DELIVERY, US, "olivia"),
    ("web-app", "Customer web app", E.PRODUCTION, A.APPLICATION, L.APPLICATION, P.DELIVERY, US, "olivia"),
    ("billing", "Billing", E.PRODUCTION, A.APPLICATION, L.APPLICATION, "", US, "omar"),
    ("ci-signing", "CI signing service", E.PRODUCTION, A.COMPUTE, L.ORCHESTRATED, P.DEPLOYMENT, US, "omar"),
]
STORES = [
    # name, kind, account / project / vault / cluster, region, operating party, description
    ("aws-kms-prod", StoreKind.AWS_KMS, "111122223333", "eu-west-1", "Nimbus Cloud", "Production account."),
    ("aws-kms-ml", StoreKind.AWS_KMS, "444455556666", "us-east-1", "Nimbus Cloud", "Machine-learning account."),
    ("gcp-kms-helix", StoreKind.GCP_KMS, "helix-models-prod", "europe-west4", "Helix Models Inc", "Helix's project."),
    ("azure-kv-customers", StoreKind.AZURE_KV, "nw-customers-kv", "westeurope", "Nimbus Cloud", "Managed HSM pool."),
    ("vault-transit", StoreKind.VAULT_TRANSIT, "vault.northwind.internal", "eu-west-1", US, "Transit engine."),
    ("vault-kv", StoreKind.VAULT_KV, "vault.northwind.internal", "eu-west-1", US, "KV v2 secrets engine."),
    ("hsm-signing", StoreKind.HSM, "luna-nw-sign-01", "london-dc2", US, "Network HSM for release signing."),
    ("k8s-inference", StoreKind.K8S_SECRETS, "nimbus-prod-cluster", "eu-west-1", US, "Namespace 'inference'."),
]
# fmt: on


def external_id(store: KeyStore, name: str, aws_key_id: uuid.UUID | None = None) -> str:
    """A realistic id for ``name`` in ``store``: an ARN (with ``aws_key_id``, else a UUID derived from the
    name), a GCP resource name, a vault path..."""
    if store.kind == StoreKind.AWS_KMS:
        key_id = aws_key_id or uuid.uuid5(uuid.NAMESPACE_URL, f"{store.name}/{name}")
        return f"arn:aws:kms:{store.region}:{store.account}:key/{key_id}"
    if store.kind == StoreKind.GCP_KMS:
        return f"projects/{store.account}/locations/{store.region}/keyRings/models/cryptoKeys/{name}"
    if store.kind == StoreKind.AZURE_KV:
        return f"https://{store.account}.vault.azure.net/keys/{name}"
    if store.kind == StoreKind.VAULT_TRANSIT:
        return f"transit/keys/{name}"
    if store.kind == StoreKind.VAULT_KV:
        return f"secret/data/northwind/{name}"
    if store.kind == StoreKind.HSM:
        return f"pkcs11:object={name};type=private"
    return f"inference/{name}"


@dataclass(frozen=True)
class KeySpec:
    """One hand-made key, with its bindings (service, tenant, purpose) and grants."""

    name: str
    store: str
    purpose: str
    kind: str
    algorithm: str
    size: int | None
    usage: str
    service: str
    justification: str
    owner: str | None = "olivia"
    backup: str | None = "omar"
    tenant: str | None = None
    state: str = KeyState.ACTIVE
    age_days: int = 400  # days since creation and activation
    rotated_days_ago: int | None = 60
    rotation_days: int | None = 365
    reviewed_days_ago: int = 45
    custodian: str | None = None  # default: the store's operating party
    layer: str = SsrmLayer.ORCHESTRATED
    labels: dict[str, str] = field(default_factory=dict)  # overrides of the default labels
    # (service, tenant, purpose slug or None for the key's); None: one binding to ``service`` and ``tenant``
    bindings: tuple[tuple[str, str | None, str | None], ...] | None = None
    grants: tuple[tuple[str, str, tuple[str, ...], int | None], ...] = ()  # (type, principal, ops, expires in days)
    exposed_to: tuple[str, ...] = ()
    exposure_scope: str = ""
    exposure_contract: str = ""


SYM, PRIV, CERT = KeyKind.SYMMETRIC_KEY, KeyKind.PRIVATE_KEY, KeyKind.CERTIFICATE_PRIVATE_KEY
TOKEN, PWD, SHARED = KeyKind.API_TOKEN, KeyKind.PASSWORD, KeyKind.SHARED_SECRET
ROLE_PROD, ROLE_ML = "arn:aws:iam::111122223333:role/", "arn:aws:iam::444455556666:role/"
ENC_OPS = ("encrypt", "decrypt", "generate-data-key")

# fmt: off
KEYS: tuple[KeySpec, ...] = (
    # Clean keys: one purpose, one service, one tenant, owners, fresh review, specific unexpired grants.
    KeySpec("inference-logs-acme", "aws-kms-prod", "inference-log-encryption", SYM, "SYMMETRIC_DEFAULT", 256,
            "ENCRYPT_DECRYPT", "inference-gateway", "Encrypts Acme Health's prompts and completions at rest.",
            tenant="acme-health", grants=(("service", ROLE_PROD + "inference-gateway", ENC_OPS, None),)),
    KeySpec("inference-logs-globex", "aws-kms-prod", "inference-log-encryption", SYM, "SYMMETRIC_DEFAULT", 256,
            "ENCRYPT_DECRYPT", "inference-gateway", "Encrypts Globex Retail's prompts and completions at rest.",
            tenant="globex-retail", grants=(("service", ROLE_PROD + "inference-gateway", ENC_OPS, None),)),
    KeySpec("training-data-lake", "aws-kms-ml", "training-data-encryption", SYM, "SYMMETRIC_DEFAULT", 256,
            "ENCRYPT_DECRYPT", "training-data-lake", "Encrypts curated training data sets in the data lake.",
            owner="omar", backup="olivia", layer=SsrmLayer.PI,
            grants=(("service", ROLE_ML + "data-lake-writer", ENC_OPS, None),)),
    KeySpec("model-weights", "gcp-kms-helix", "model-weights-encryption", SYM, "GOOGLE_SYMMETRIC_ENCRYPTION", 256,
            "ENCRYPT_DECRYPT", "training-pipeline", "Encrypts fine-tuned model weights and checkpoints.",
            owner="omar", backup="olivia", layer=SsrmLayer.MODEL, rotation_days=90, rotated_days_ago=20),
    KeySpec("model-artifact-signing", "hsm-signing", "model-artifact-signing", PRIV, "ECDSA P-384", 384,
            "CKA_SIGN", "ci-signing", "Signs model containers and weights released to the registry.",
            owner="omar", backup="olivia", rotation_days=None, rotated_days_ago=None, age_days=300,
            grants=(("service", "ci-signing@northwind", ("sign",), None),)),
    KeySpec("output-signing", "aws-kms-prod", "output-signing", PRIV, "ECC_NIST_P256", 256, "SIGN_VERIFY",
            "inference-gateway", "Signs model outputs so customers can verify they came from us.",
            rotation_days=None, rotated_days_ago=None, age_days=500),
    KeySpec("vector-store-acme", "azure-kv-customers", "vector-store-encryption", SYM, "oct-HSM AES-256", 256,
            "encrypt,decrypt,wrapKey,unwrapKey", "vector-store", "Encrypts Acme Health's embeddings.",
            tenant="acme-health"),
    KeySpec("prompt-archive-kek", "aws-kms-prod", "key-wrapping", SYM, "SYMMETRIC_DEFAULT", 256, "ENCRYPT_DECRYPT",
            "prompt-log-archive", "Wraps the data keys of archived prompt logs (envelope encryption root).",
            grants=(("service", ROLE_PROD + "prompt-archiver", ("wrap", "unwrap"), None),)),
    KeySpec("customer-api-tls", "k8s-inference", "tls-server", CERT, "ECDSA P-256", 256, "", "customer-api",
            "TLS server key of api.northwind.example.", layer=SsrmLayer.APPLICATION, rotation_days=90,
            rotated_days_ago=30),
    KeySpec("billing-db-credential", "vault-kv", "service-credential", PWD, "", None, "", "billing",
            "Billing service's login to its PostgreSQL database.", owner="omar", backup="olivia",
            layer=SsrmLayer.APPLICATION, rotation_days=90, rotated_days_ago=10),
    KeySpec("helix-api-token", "vault-kv", "llm-api-authentication", TOKEN, "", None, "", "inference-gateway",
            "Authenticates the gateway to Helix's inference API.", rotation_days=180, rotated_days_ago=50,
            grants=(("service", "vault:role/inference-gateway", ("authenticate",), None),)),
    KeySpec("payments-webhook", "vault-kv", "webhook-signing", SHARED, "HMAC-SHA256", 256, "", "billing",
            "Verifies payment provider webhooks.", owner="omar", backup="olivia", layer=SsrmLayer.APPLICATION),
    KeySpec("session-token-signing", "vault-transit", "token-signing", PRIV, "ed25519", 256, "", "web-app",
            "Signs web app session tokens (JWT).", layer=SsrmLayer.APPLICATION, rotation_days=180,
            rotated_days_ago=90),
    KeySpec("eval-datasets", "aws-kms-ml", "evaluation-data-encryption", SYM, "SYMMETRIC_DEFAULT", 256,
            "ENCRYPT_DECRYPT", "evaluation-harness", "Encrypts red-team and benchmark data sets.", owner="omar",
            backup="olivia"),
    KeySpec("registry-pull-token", "k8s-inference", "model-registry-authentication", TOKEN, "", None, "",
            "inference-gateway", "Lets the gateway pull model containers from the registry.", rotation_days=90,
            rotated_days_ago=25,
            grants=(("service", "system:serviceaccount:inference:gateway", ("authenticate",), None),)),
    KeySpec("acme-api-key", "vault-kv", "api-authentication", TOKEN, "", None, "", "customer-api",
            "Acme Health's key for the customer API.", tenant="acme-health", layer=SsrmLayer.APPLICATION,
            rotated_days_ago=100, exposed_to=("Acme Health",),
            exposure_scope="Calls to /v1/summaries for tenant acme-health only; no other endpoint or tenant.",
            exposure_contract="MSA-ACME-2025-014 section 7.2"),
    KeySpec("inference-logs-2024", "aws-kms-prod", "inference-log-encryption", SYM, "SYMMETRIC_DEFAULT", 256,
            "ENCRYPT_DECRYPT", "inference-gateway", "Former shared log key; kept to decrypt 2024 archives.",
            state=KeyState.DEACTIVATED, age_days=900, rotated_days_ago=None, bindings=()),
    KeySpec("pilot-signing", "vault-transit", "digital-signature", PRIV, "ecdsa-p256", 256, "", "ci-signing",
            "Signed pilot releases; destroyed after the pilot.", state=KeyState.DESTROYED, age_days=800,
            rotated_days_ago=None, rotation_days=None, bindings=()),
    KeySpec("globex-vector-next", "azure-kv-customers", "vector-store-encryption", SYM, "oct-HSM AES-256", 256,
            "encrypt,decrypt", "vector-store", "Globex Retail's next embedding key, created ahead of rotation.",
            tenant="globex-retail", state=KeyState.PRE_ACTIVATION, age_days=0, rotated_days_ago=None, bindings=()),

    # Deliberate problems (see the module docstring and PROBLEMS), one per key.
    KeySpec("registry-signer", "vault-transit", "model-registry-authentication", PRIV, "ecdsa-p256", 256, "",
            "model-registry", "Authenticates the registry to clients.", owner="omar", backup="olivia",
            bindings=(("model-registry", None, "model-registry-authentication"),
                      ("ci-signing", None, "model-artifact-signing"))),
    KeySpec("prompt-archive-shared", "aws-kms-prod", "inference-log-encryption", SYM, "SYMMETRIC_DEFAULT", 256,
            "ENCRYPT_DECRYPT", "prompt-log-archive", "Encrypts archived prompt logs.",
            bindings=(("prompt-log-archive", "acme-health", None), ("prompt-log-archive", "globex-retail", None))),
    KeySpec("eval-results", "aws-kms-ml", "evaluation-data-encryption", SYM, "SYMMETRIC_DEFAULT", 256,
            "ENCRYPT_DECRYPT", "evaluation-harness", "Encrypts evaluation results.", owner="omar", backup="olivia",
            labels={"purpose": "training-data-encryption"}),
    KeySpec("gpu-scratch", "aws-kms-ml", "data-encryption", SYM, "SYMMETRIC_DEFAULT", 256, "ENCRYPT_DECRYPT",
            "training-pipeline", "", owner="omar", backup="olivia", layer=SsrmLayer.PI),
    KeySpec("vector-backup", "azure-kv-customers", "vector-store-encryption", SYM, "oct-HSM AES-256", 256,
            "encrypt,decrypt", "vector-store", "Encrypts vector-store backups.", reviewed_days_ago=540),
    KeySpec("legacy-partner-token", "vault-kv", "api-authentication", TOKEN, "", None, "", "customer-api",
            "Partner integration token.", age_days=700, rotated_days_ago=None, layer=SsrmLayer.APPLICATION),
    KeySpec("orphan-webhook-secret", "vault-kv", "webhook-signing", SHARED, "HMAC-SHA256", 256, "", "web-app",
            "Signs outgoing status webhooks.", owner=None, backup=None, layer=SsrmLayer.APPLICATION),
    KeySpec("feature-store", "aws-kms-ml", "training-data-encryption", SYM, "SYMMETRIC_DEFAULT", 256,
            "ENCRYPT_DECRYPT", "training-pipeline", "Encrypts the feature store.", owner="omar", backup="olivia",
            grants=(("role", ROLE_ML + "*", ("decrypt",), None),)),
    KeySpec("batch-inference", "aws-kms-prod", "inference-log-encryption", SYM, "SYMMETRIC_DEFAULT", 256,
            "ENCRYPT_DECRYPT", "inference-gateway", "Encrypts batch inference results.",
            grants=(("person", "j.doe@contractor.example", ("decrypt",), -30),)),
    KeySpec("embedding-cache", "aws-kms-prod", "vector-store-encryption", SYM, "SYMMETRIC_DEFAULT", 256,
            "ENCRYPT_DECRYPT", "vector-store", "Encrypts the embedding cache.",
            grants=(("service", ROLE_PROD + "embedder", ("encrypt", "decrypt", "generate-mac", "verify-mac"), None),)),
    KeySpec("globex-integration-token", "vault-kv", "api-authentication", TOKEN, "", None, "", "customer-api",
            "Globex Retail's integration token.", tenant="globex-retail", layer=SsrmLayer.APPLICATION,
            exposed_to=("Globex Retail",)),
    KeySpec("customer-export", "aws-kms-prod", "data-encryption", SYM, "ECC_NIST_P256", 256, "SIGN_VERIFY",
            "customer-api", "Encrypts customer data exports.", layer=SsrmLayer.APPLICATION),
)
# fmt: on


@dataclass
class SeedReport:
    created: Counter = field(default_factory=Counter)
    bulk_created: int = 0
    bulk_total: int = 0
    warnings: list[str] = field(default_factory=list)


def _existing(report: SeedReport, model: type[models.Model], lookup: dict[str, Any]) -> Any:
    """The object matching ``lookup``, or None after counting one to be created (the caller saves it)."""
    existing = model.objects.filter(**lookup).first()
    if existing is None:
        report.created[str(model._meta.verbose_name_plural)] += 1
    return existing


def demo_seed(*, keys: int = 0, seed: int = DEFAULT_SEED, actor=None) -> SeedReport:
    """Create the demo organisation, its hand-made keys and ``keys`` bulk keys; idempotent (see module doc)."""
    report = SeedReport()
    users = {name: result.user for name, result in demo_users_ensure().items()}
    with transaction.atomic():
        _seed_organisation(report, users, actor)
        _seed_keys(report, users, actor)
    if keys:
        report.bulk_created, report.bulk_total = demo_bulk_keys_ensure(total=keys, seed=seed, users=users)
    else:
        report.bulk_total = bulk_keys().count()
    return report


def _seed_organisation(report: SeedReport, users: dict, actor) -> None:
    other_us = Party.objects.filter(is_us=True).exclude(name=US).first()
    if other_us is not None:
        report.warnings.append(f"'{other_us}' is already marked as us; {US} was left without the mark.")
    for name, roles, is_us, description in PARTIES:
        if _existing(report, Party, {"name": name}) is None:
            party = Party(name=name, roles=roles, is_us=is_us and other_us is None, description=description)
            party_save(party=party, actor=actor)
    parties = {p.name: p for p in Party.objects.filter(name__in=[p[0] for p in PARTIES])}
    for layer, party, role, text in ASSIGNMENTS:
        lookup = {"layer": layer, "party": parties[party], "role": role}
        if _existing(report, SsrmAssignment, lookup) is None:
            object_save(instance=SsrmAssignment(**lookup, responsibility=text), actor=actor, reason=SEED_REASON)
    for slug, name, party in TENANTS:
        if _existing(report, Tenant, {"slug": slug}) is None:
            tenant = Tenant(slug=slug, name=name, party=parties[party], description=f"{name}'s workloads.")
            object_save(instance=tenant, actor=actor, reason=SEED_REASON)
    for slug, name, env, arch, layer, phase, party, owner in SERVICES:
        if _existing(report, Service, {"slug": slug}) is None:
            service = Service(
                slug=slug,
                name=name,
                environment=env,
                architectural_layer=arch,
                ssrm_layer=layer,
                lifecycle_phase=phase,
                operating_party=parties[party],
                owner=users[owner],
            )
            object_save(instance=service, actor=actor, reason=SEED_REASON)
    for name, kind, account, region, party, description in STORES:
        if _existing(report, KeyStore, {"name": name}) is None:
            store = KeyStore(
                name=name,
                kind=kind,
                account=account,
                region=region,
                operating_party=parties[party],
                description=description,
            )
            object_save(instance=store, actor=actor, reason=SEED_REASON)


def principal_for(store: KeyStore, service: str) -> str:
    """The workload identity a service would use against ``store``."""
    return {
        StoreKind.AWS_KMS: f"arn:aws:iam::{store.account}:role/{service}",
        StoreKind.GCP_KMS: f"{service}@{store.account}.iam.gserviceaccount.com",
        StoreKind.AZURE_KV: f"mi-{service}",
        StoreKind.VAULT_TRANSIT: f"vault:role/{service}",
        StoreKind.VAULT_KV: f"vault:role/{service}",
        StoreKind.K8S_SECRETS: f"system:serviceaccount:inference:{service}",
    }.get(store.kind, f"{service}@northwind")


def _seed_keys(report: SeedReport, users: dict, actor) -> None:
    today = timezone.localdate()
    refs = {
        "parties": {p.name: p for p in Party.objects.filter(name__in=[p[0] for p in PARTIES])},
        "services": {s.slug: s for s in Service.objects.filter(slug__in=[s[0] for s in SERVICES])},
        "tenants": {t.slug: t for t in Tenant.objects.filter(slug__in=[t[0] for t in TENANTS])},
        "purposes": {p.slug: p for p in Purpose.objects.all()},
        "users": users,
    }
    stores = {
        s.name: s for s in KeyStore.objects.select_related("operating_party").filter(name__in=[s[0] for s in STORES])
    }
    services, tenants, purposes = refs["services"], refs["tenants"], refs["purposes"]
    for spec in KEYS:
        store = stores[spec.store]
        ext_id = external_id(store, spec.name)
        key = _existing(report, Key, {"store": store, "external_id": ext_id})
        if key is None:
            key = _build_key(spec, store, ext_id, refs, today, actor)
        service_grant = next((g for g in spec.grants if g[0] == "service"), None)
        for service, tenant, purpose_slug in (
            spec.bindings if spec.bindings is not None else ((spec.service, spec.tenant, None),)
        ):
            purpose = purposes[purpose_slug or spec.purpose]
            lookup = {"key": key, "service": services[service], "tenant": tenants.get(tenant or ""), "purpose": purpose}
            if _existing(report, Binding, lookup) is None:
                binding = Binding(
                    **lookup,
                    principal=service_grant[1] if service_grant else principal_for(store, service),
                    operations=list(service_grant[2]) if service_grant else list(purpose.allowed_operations),
                )
                object_save(instance=binding, actor=actor, reason=SEED_REASON)
        for principal_type, principal, ops, expires_in in spec.grants:
            if _existing(report, AccessGrant, {"key": key, "principal": principal}) is None:
                grant = AccessGrant(
                    key=key,
                    principal_type=principal_type,
                    principal=principal,
                    operations=list(ops),
                    justification=f"{services[spec.service].name} uses the key for {key.purpose.name.lower()}.",
                    approver=users["grace"],
                    approved_on=today - dt.timedelta(days=120),
                    expires_on=today + dt.timedelta(days=expires_in) if expires_in is not None else None,
                )
                object_save(instance=grant, actor=actor, reason=SEED_REASON)


def _build_key(spec: KeySpec, store: KeyStore, ext_id: str, refs: dict, today: dt.date, actor) -> Key:
    parties, users = refs["parties"], refs["users"]
    created = today - dt.timedelta(days=spec.age_days)
    labels = {
        store.purpose_tag_key: spec.purpose,
        "service": spec.service,
        "env": refs["services"][spec.service].environment,
    }
    if spec.owner:
        labels["owner"] = spec.owner
    labels.update(spec.labels)
    key = Key(
        name=spec.name,
        kind=spec.kind,
        algorithm=spec.algorithm,
        size_bits=spec.size,
        store=store,
        external_id=ext_id,
        platform_usage=spec.usage,
        tenant=refs["tenants"].get(spec.tenant or ""),
        owner=users.get(spec.owner or ""),
        backup_owner=users.get(spec.backup or ""),
        custodian=parties.get(spec.custodian or "") or store.operating_party,
        ssrm_layer=spec.layer,
        state=spec.state,
        created_on=created,
        activated_on=None if spec.state == KeyState.PRE_ACTIVATION else created,
        last_rotated_on=today - dt.timedelta(days=spec.rotated_days_ago) if spec.rotated_days_ago else None,
        rotation_period_days=spec.rotation_days,
        labels=labels,
        exposure_scope=spec.exposure_scope,
        exposure_contract=spec.exposure_contract,
        purpose=refs["purposes"][spec.purpose],
        purpose_justification=spec.justification,
        purpose_approver=users["grace"],
        purpose_reviewed_on=today - dt.timedelta(days=spec.reviewed_days_ago),
    )
    return key_save(key=key, actor=actor, exposed_to=[parties[p] for p in spec.exposed_to], reason=SEED_REASON)


# --- Bulk keys ----------------------------------------------------------------------------------------

# fmt: off
BULK_TEMPLATES: dict[str, list[tuple]] = {
    # purpose, kind, algorithm, size, platform usage, rotation days, name prefix, service, SSRM layer, weight
    StoreKind.AWS_KMS: [
        ("inference-log-encryption", SYM, "SYMMETRIC_DEFAULT", 256, "ENCRYPT_DECRYPT", 365, "inference-logs", "inference-gateway", L.ORCHESTRATED, 30),
        ("training-data-encryption", SYM, "SYMMETRIC_DEFAULT", 256, "ENCRYPT_DECRYPT", 365, "training-data", "training-data-lake", L.PI, 20),
        ("data-encryption", SYM, "SYMMETRIC_DEFAULT", 256, "ENCRYPT_DECRYPT", 365, "app-data", "customer-api", L.APPLICATION, 25),
        ("key-wrapping", SYM, "SYMMETRIC_DEFAULT", 256, "ENCRYPT_DECRYPT", 365, "kek", "prompt-log-archive", L.ORCHESTRATED, 8),
        ("message-authentication", SYM, "HMAC_256", 256, "GENERATE_VERIFY_MAC", 365, "mac", "web-app", L.APPLICATION, 6),
        ("output-signing", PRIV, "ECC_NIST_P256", 256, "SIGN_VERIFY", None, "output-signing", "inference-gateway", L.ORCHESTRATED, 5),
        ("token-signing", PRIV, "RSA_3072", 3072, "SIGN_VERIFY", None, "token-signing", "web-app", L.APPLICATION, 3),
    ],
    StoreKind.GCP_KMS: [
        ("model-weights-encryption", SYM, "GOOGLE_SYMMETRIC_ENCRYPTION", 256, "ENCRYPT_DECRYPT", 90, "weights", "training-pipeline", L.MODEL, 10),
        ("model-artifact-signing", PRIV, "EC_SIGN_P256_SHA256", 256, "ASYMMETRIC_SIGN", None, "artifact-signing", "model-registry", L.MODEL, 3),
        ("evaluation-data-encryption", SYM, "GOOGLE_SYMMETRIC_ENCRYPTION", 256, "ENCRYPT_DECRYPT", 90, "eval-data", "evaluation-harness", L.ORCHESTRATED, 4),
    ],
    StoreKind.AZURE_KV: [
        ("vector-store-encryption", SYM, "oct-HSM AES-256", 256, "encrypt,decrypt,wrapKey,unwrapKey", 365, "vectors", "vector-store", L.ORCHESTRATED, 10),
        ("digital-signature", PRIV, "EC-HSM P-256", 256, "sign,verify", None, "doc-signing", "billing", L.APPLICATION, 2),
    ],
    StoreKind.VAULT_TRANSIT: [
        ("data-encryption", SYM, "aes256-gcm96", 256, "", 180, "transit-data", "billing", L.APPLICATION, 6),
        ("token-signing", PRIV, "ed25519", 256, "", None, "session-signing", "web-app", L.APPLICATION, 2),
    ],
    StoreKind.VAULT_KV: [
        ("api-authentication", TOKEN, "", None, "", 180, "api-key", "customer-api", L.APPLICATION, 10),
        ("llm-api-authentication", TOKEN, "", None, "", 90, "llm-token", "inference-gateway", L.ORCHESTRATED, 4),
        ("service-credential", PWD, "", None, "", 90, "db-credential", "billing", L.APPLICATION, 5),
        ("webhook-signing", SHARED, "HMAC-SHA256", 256, "", 365, "webhook", "web-app", L.APPLICATION, 3),
    ],
    StoreKind.HSM: [
        ("model-artifact-signing", PRIV, "ECDSA P-384", 384, "CKA_SIGN", None, "release-signing", "ci-signing", L.ORCHESTRATED, 1),
    ],
    StoreKind.K8S_SECRETS: [
        ("tls-server", CERT, "ECDSA P-256", 256, "", 90, "tls", "customer-api", L.APPLICATION, 6),
        ("model-registry-authentication", TOKEN, "", None, "", 90, "registry-pull", "inference-gateway", L.ORCHESTRATED, 3),
    ],
}
STORE_WEIGHTS = {"aws-kms-prod": 30, "aws-kms-ml": 18, "gcp-kms-helix": 12, "azure-kv-customers": 8,
                 "vault-transit": 8, "vault-kv": 12, "hsm-signing": 2, "k8s-inference": 10}
STATE_WEIGHTS = {KeyState.ACTIVE: 86, KeyState.DEACTIVATED: 6, KeyState.PRE_ACTIVATION: 3, KeyState.SUSPENDED: 2,
                 KeyState.DESTROYED: 2, KeyState.COMPROMISED: 1}
# fmt: on
BULK_BATCH = 2000


def bulk_keys() -> models.QuerySet[Key]:
    """The keys made by :func:`demo_bulk_keys_ensure` (they carry the label ``seeded-by=seed_demo``)."""
    return Key.objects.filter(**{f"labels__{BULK_LABEL[0]}": BULK_LABEL[1]})


def demo_bulk_keys_ensure(
    *,
    total: int,
    seed: int = DEFAULT_SEED,
    users: dict | None = None,
    batch_size: int = BULK_BATCH,
    history: bool = True,
) -> tuple[int, int]:
    """Make sure ``total`` bulk keys exist; returns (created now, total bulk keys). Needs the hand-made set.

    Draws the random stream for every index (so the data depends only on the seed and the index) and
    inserts the missing indices in batches, then one history row per new key (unless ``history`` is off),
    all in one transaction.

    Why not ``bulk_create`` / ``bulk_create_with_history``: measured on the 2-CPU development box, Django
    spends about 0.5-1 ms per row compiling a bulk INSERT of this 33-column model (per-value
    ``get_db_prep_save``), and SQLite's 999-parameter limit cuts batches to 30 rows; 100,000 keys took 121 s
    with history, about 90 s without: over the one-minute budget. So the rows are built as tuples from the
    model's own field list (every concrete column, defaults for the ones the generator does not set, values
    adapted by the backend's ``adapt_*_value``) and written in batches of ``batch_size`` with the cursor's
    ``executemany`` on SQLite and ``COPY`` on PostgreSQL (23 s and 28 s for 100,000 keys with history, on a
    loaded box); the history rows are copied inside the database (``INSERT INTO <history> SELECT ... FROM
    inventory_key``), the same "+" rows that simple-history's ``bulk_history_create`` writes. No model
    ``save()``, signal or validator runs: the templates below are fixed, valid data, and the tests check the
    generated rows (field validators incl. the key-material check, kinds fit purposes, unique ids, derived
    cryptoperiod end equal to ``Key.compute_cryptoperiod_end()``).
    """
    existing = bulk_keys().count()
    if existing >= total:
        return 0, existing
    if users is None:
        users = {name: result.user for name, result in demo_users_ensure().items()}
    stores = list(KeyStore.objects.select_related("operating_party").filter(name__in=list(STORE_WEIGHTS)))
    if len(stores) != len(STORE_WEIGHTS):
        raise RuntimeError("The demo key stores are missing; run demo_seed() (manage.py seed_demo) first.")
    stores.sort(key=lambda s: list(STORE_WEIGHTS).index(s.name))
    tenants = [*Tenant.objects.filter(slug__in=[t[0] for t in TENANTS]).order_by("slug"), None, None]
    services = dict(Service.objects.filter(slug__in=[s[0] for s in SERVICES]).values_list("slug", "environment"))
    purposes = {p.slug: p for p in Purpose.objects.all()}
    owners = [users["olivia"], users["omar"]]
    approver_id = users["grace"].pk
    store_cum = _cumulative([STORE_WEIGHTS[s.name] for s in stores])
    templates = {s.pk: BULK_TEMPLATES[s.kind] for s in stores}
    template_cum = {pk: _cumulative([t[-1] for t in items]) for pk, items in templates.items()}
    states, state_cum = list(STATE_WEIGHTS), _cumulative(list(STATE_WEIGHTS.values()))
    rng, today, now = random.Random(seed), timezone.localdate(), timezone.now()
    writer = _RowWriter()
    created = 0
    with transaction.atomic():
        first_new_id = (Key.objects.aggregate(top=models.Max("pk"))["top"] or 0) + 1
        for index in range(total):
            store = rng.choices(stores, cum_weights=store_cum)[0]
            purpose_slug, kind, algorithm, size, usage, rotation, prefix, service, layer, _ = rng.choices(
                templates[store.pk], cum_weights=template_cum[store.pk]
            )[0]
            tenant = rng.choice(tenants)
            owner_index = rng.randrange(2)
            state = rng.choices(states, cum_weights=state_cum)[0]
            age = rng.randint(1, 1400)
            noise = rng.random()  # a few percent unowned, overdue or with a stale review, as in real inventories
            review_age = rng.randint(400, 700) if noise < 0.03 else rng.randint(0, 330)
            rotated_age = rng.randint(0, rotation) if rotation else 0
            aws_key_bits = rng.getrandbits(128)
            entered, touched = rng.random(), rng.random()  # when the record was entered and last edited
            if index < existing:
                continue
            purpose = purposes[purpose_slug]
            max_days = purpose.max_cryptoperiod_days
            if not rotation and max_days and noise >= 0.07:
                age = 1 + age % max(max_days - 30, 1)  # keys never rotated are replaced in time (mostly)
            name = f"{prefix}-{tenant.slug if tenant else 'shared'}-{index:06d}"
            owner = None if 0.03 <= noise < 0.04 else owners[owner_index]
            created_on = today - dt.timedelta(days=age)
            activated_on = None if state == KeyState.PRE_ACTIVATION else created_on
            last_rotated_on = None
            if rotation and activated_on and age > rotation:
                overdue = 0.04 <= noise < 0.07
                days_ago = rotation + 30 + rotated_age if overdue else rotated_age
                last_rotated_on = today - dt.timedelta(days=min(age, days_ago))
            # Key.compute_cryptoperiod_end() for a key without a cryptoperiod override:
            period_start = last_rotated_on or activated_on or created_on
            labels = {store.purpose_tag_key: purpose_slug, "service": service, "env": services[service]}
            if owner:
                labels["owner"] = owner.username
            labels[BULK_LABEL[0]] = BULK_LABEL[1]
            created_at = now - dt.timedelta(days=entered * min(age, 400))
            updated_at = created_at + (now - created_at) * touched
            writer.add(
                name=name, kind=kind, algorithm=algorithm, size_bits=size, store_id=store.pk,
                external_id=external_id(store, name, uuid.UUID(int=aws_key_bits, version=4)),
                platform_usage=usage, tenant_id=tenant.pk if tenant else None, owner_id=owner.pk if owner else None,
                backup_owner_id=owners[1 - owner_index].pk if owner else None, custodian_id=store.operating_party_id,
                ssrm_layer=layer, state=state, created_on=created_on, activated_on=activated_on,
                last_rotated_on=last_rotated_on, rotation_period_days=rotation,
                cryptoperiod_ends_on=period_start + dt.timedelta(days=max_days) if max_days else None,
                labels=labels, purpose_id=purpose.pk, purpose_justification=f"{purpose.name} for {service}.",
                purpose_approver_id=approver_id, purpose_reviewed_on=today - dt.timedelta(days=review_age),
                created_at=created_at, updated_at=updated_at,
            )  # fmt: skip
            if len(writer.rows) >= batch_size:
                created += writer.flush()
        created += writer.flush()
        if history and created:
            _history_copy(first_new_id=first_new_id, when=now)
    return created, existing + created


def _cumulative(weights: list[int]) -> list[int]:
    total, out = 0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


class _RowWriter:
    """Buffers key rows as tuples in the order of ``Key``'s concrete columns and writes them with executemany."""

    def __init__(self) -> None:
        ops = connection.ops
        fields = [f for f in Key._meta.concrete_fields if not f.primary_key]
        adapters: dict[str, Callable[[Any], Any]] = {
            "DateField": ops.adapt_datefield_value,
            "DateTimeField": ops.adapt_datetimefield_value,
            "JSONField": lambda value: ops.adapt_json_value(value, None),
        }
        # (attname, the backend's adapter or None) per column, and defaults for the columns not given.
        self.columns = [(f.attname, adapters.get(f.get_internal_type())) for f in fields]
        self.defaults = {f.attname: f.get_default() for f in fields}
        self.rows: list[tuple] = []
        quote = ops.quote_name
        table, columns = quote(Key._meta.db_table), ", ".join(quote(f.column) for f in fields)
        # Identifiers come from the model's metadata (quoted); every value is a query parameter.
        self.insert_sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608
        self.copy_sql = f"COPY {table} ({columns}) FROM STDIN"

    def add(self, **values: Any) -> None:
        row = self.defaults | values
        self.rows.append(tuple([row[name] if adapt is None else adapt(row[name]) for name, adapt in self.columns]))

    def flush(self) -> int:
        """Write the buffered rows: PostgreSQL's COPY (one stream, no per-row statement), else executemany
        (SQLite runs it in-process)."""
        count = len(self.rows)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.copy(self.copy_sql) as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                cursor.executemany(self.insert_sql, self.rows)
        self.rows.clear()
        return count


def _history_copy(*, first_new_id: int, when: dt.datetime) -> None:
    """One "+" history row per bulk key from ``first_new_id`` on, copied inside the database."""
    history_model = Key.history.model
    fields = [f for f in Key._meta.concrete_fields]
    source = (
        bulk_keys()
        .filter(pk__gte=first_new_id)
        .order_by()
        .annotate(
            _when=Value(when, output_field=models.DateTimeField()),
            _reason=Value(SEED_REASON, output_field=models.CharField()),
            _type=Value("+", output_field=models.CharField()),
        )
        .values_list(*[f.attname for f in fields], "_when", "_reason", "_type")
    )
    select_sql, params = source.query.sql_with_params()
    target = [history_model._meta.get_field(f.name).column for f in fields]
    target += [
        history_model._meta.get_field(name).column for name in ("history_date", "history_change_reason", "history_type")
    ]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(history_model._meta.db_table)} ({', '.join(map(quote, target))}) {select_sql}", params
        )
