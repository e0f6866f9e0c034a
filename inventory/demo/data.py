"""The hand-made demo tables: the organisation (parties, SSRM assignments, tenants, services, key stores), the
hand-made keys with their bindings and grants, and the deliberate problems (see the package docstring)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from inventory.models import (
    ArchitecturalLayer,
    Environment,
    KeyKind,
    KeyState,
    KeyStore,
    LifecyclePhase,
    SsrmLayer,
    SsrmRole,
    StoreKind,
)

SEED_REASON = "Demo data (seed_demo)"
BULK_LABEL = ("seeded-by", "seed_demo")
DEFAULT_SEED = 2026
US = "Northwind AI Ltd"
# The principal the demo's usage logs show calling a key it has no grant or binding for (problem 13).
USAGE_INTRUDER = "arn:aws:iam::111122223333:role/analytics-notebook"


@dataclass(frozen=True)
class Problem:
    """One deliberate problem of the demo, and everything the checks raise for it: the guidelines it fails (or makes
    partial) in the demo's first check run, and its open findings as (rule, subject as the finding names it).

    This table is the one definition of what the demo gets wrong: ``seed_demo`` prints it (numbered, counted) and
    ``tests/evidence/test_demo.py`` asserts that after the seed and its check run the open findings and the
    guidelines that do not pass are exactly these, no more and no fewer."""

    code: str
    key: str  # the key the problem sits on (for ``iac``, the repository)
    description: str
    guidelines: tuple[str, ...]
    findings: tuple[tuple[str, str], ...]  # (rule, subject label) of each open finding it raises
    where: str = "key"  # "key": a hand-made key; "usage": usage logs of a hand-made key; "iac": an IaC repository

    @property
    def subject(self) -> str:
        return f"repository '{self.key}'" if self.where == "iac" else f"key '{self.key}'"


# The data tables below are kept one record per line (or per few lines) so they read as tables.
# fmt: off
PROBLEMS: tuple[Problem, ...] = (
    Problem("multi-purpose-binding", "registry-signer",
            "bound to two services for two purposes (registry authentication, artifact signing)",
            ("AG-3", "AG-6"), (("ag-3-single-purpose", "registry-signer"), ("ag-6-ai-isolation", "registry-signer"))),
    Problem("cross-tenant-ai-key", "prompt-archive-shared",
            "inference-log encryption key bound for two tenants (Acme Health, Globex Retail)",
            ("AG-6",), (("ag-6-ai-isolation", "prompt-archive-shared"),)),
    Problem("purpose-label-mismatch", "eval-results",
            "purpose label says training-data-encryption, recorded purpose is evaluation-data-encryption; its owner "
            "reported it in the closed attestation campaign",
            ("AG-3", "AG-7", "CCM-3"),
            (("ag-3-single-purpose", "eval-results"), ("ag-7-purpose-tag", "eval-results"),
             ("attestation-discrepancy", "eval-results"), ("ccm-3-lifecycle", "eval-results"))),
    Problem("missing-justification", "gpu-scratch", "no purpose justification",
            ("AG-2",), (("ag-2-mapping", "gpu-scratch"),)),
    Problem("stale-purpose-review", "vector-backup", "purpose mapping last reviewed 540 days ago",
            ("AG-2",), (("ag-2-mapping", "vector-backup"),)),
    Problem("cryptoperiod-overdue", "legacy-partner-token",
            "active, one-year cryptoperiod, activated 700 days ago, never rotated",
            ("CCM-3",), (("ccm-3-lifecycle", "legacy-partner-token"),)),
    Problem("active-key-without-owner", "orphan-webhook-secret",
            "active key with no owner or backup owner (so nobody could attest it either)",
            ("CCM-2", "CCM-3"), (("ccm-2-inventory", "orphan-webhook-secret"),
                                 ("ccm-3-lifecycle", "orphan-webhook-secret"))),
    Problem("wildcard-grant", "feature-store", "grant to the wildcard principal arn:aws:iam::444455556666:role/*",
            ("AG-5",), (("ag-5-access", "arn:aws:iam::444455556666:role/* on feature-store"),)),
    Problem("expired-grant", "batch-inference", "grant to a contractor that expired 30 days ago",
            ("AG-5",), (("ag-5-access", "j.doe@contractor.example on batch-inference"),)),
    Problem("grant-operations-outside-purpose", "embedding-cache",
            "its grant and binding allow generate-mac/verify-mac on an encryption key",
            ("AG-4",), (("ag-4-operations", "arn:aws:iam::111122223333:role/embedder on embedding-cache"),
                        ("ag-4-operations", "Vector store (RAG) uses embedding-cache"))),
    Problem("exposed-without-scope", "globex-integration-token",
            "exposed to Globex Retail without scope or contract reference",
            ("AG-10",), (("ag-10-exposure", "globex-integration-token"),)),
    Problem("platform-usage-mismatch", "customer-export",
            "AWS KeyUsage SIGN_VERIFY on a key recorded for data encryption (its Encrypt calls fail)",
            ("AG-1",), (("ag-1-purpose", "customer-export"),)),
    Problem("unknown-principal-in-usage-logs", "inference-logs-globex",
            f"the usage logs show {USAGE_INTRUDER} decrypting Globex Retail's inference logs without a grant "
            "or binding",
            ("AG-9",), (("usage-unknown-principal", "inference-logs-globex"),), where="usage"),
    Problem("iac-multi-purpose", "northwind/ml-serving",
            "the Terraform gives one KMS key to training data and inference logs",
            ("AG-8",), (("iac-multi-purpose", "aws_kms_key.ml_shared in northwind/ml-serving"),), where="iac"),
)
# fmt: on

# --- The hand-made organisation ---------------------------------------------------------------------

# fmt: off
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
