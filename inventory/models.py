"""The key inventory: metadata about keys and secrets, never the keys themselves.

Every model keeps a history table (django-simple-history): who changed what, when.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from simple_history.models import HistoricalRecords

from cek.jobs.kinds import Fail, JobKind
from cek.jobs.models import JobFields
from cek.keymaterial import KeyMaterialValidator, validate_labels
from cek.roles import is_grc


class SsrmRole(models.TextChoices):
    CSP = "CSP", "Cloud Service Provider (CSP)"
    MP = "MP", "Model Provider (MP)"
    OSP = "OSP", "Orchestrated Service Provider (OSP)"
    AP = "AP", "Application Provider (AP)"
    AIC = "AIC", "AI Customer (AIC)"


class SsrmLayer(models.TextChoices):
    PI = "pi", "Cloud/AI Processing Infrastructure"
    MODEL = "model", "Model"
    ORCHESTRATED = "orchestrated", "Orchestrated Services"
    APPLICATION = "application", "Application"


class ArchitecturalLayer(models.TextChoices):
    PHYSICAL = "physical-infrastructure", "Physical infrastructure"
    NETWORK = "network", "Network"
    COMPUTE = "compute", "Compute"
    STORAGE = "storage", "Storage"
    APPLICATION = "application", "Application"
    DATA = "data", "Data"


class LifecyclePhase(models.TextChoices):
    """AICM AI lifecycle phases. A service with no phase is not an AI workload."""

    PREPARATION = "preparation", "Preparation"
    DEVELOPMENT = "development", "Development"
    EVALUATION = "evaluation", "Evaluation"
    DEPLOYMENT = "deployment", "Deployment"
    DELIVERY = "delivery", "Delivery"
    RETIREMENT = "retirement", "Retirement"


class Environment(models.TextChoices):
    PRODUCTION = "production", "Production"
    STAGING = "staging", "Staging"
    DEVELOPMENT = "development", "Development"
    TEST = "test", "Test"


class CryptoFunction(models.TextChoices):
    ENCRYPTION = "encryption", "Encryption"
    KEY_WRAPPING = "key-wrapping", "Key wrapping"
    SIGNING = "signing", "Digital signature"
    MAC = "mac", "Message authentication (MAC)"
    AUTHENTICATION = "authentication", "Authentication"
    KEY_DERIVATION = "key-derivation", "Key derivation"
    KEY_AGREEMENT = "key-agreement", "Key agreement"
    TLS = "tls", "TLS"
    RBG = "rbg", "Random bit generation"


class Sp80057KeyType(models.TextChoices):
    """NIST SP 800-57 Part 1 Rev. 5 §5.1.1 key types (plus one bucket for non-cryptographic secrets)."""

    PRIVATE_SIGNATURE = "private-signature", "Private signature key"
    PUBLIC_SIGNATURE_VERIFICATION = "public-signature-verification", "Public signature-verification key"
    SYMMETRIC_AUTHENTICATION = "symmetric-authentication", "Symmetric authentication key"
    PRIVATE_AUTHENTICATION = "private-authentication", "Private authentication key"
    PUBLIC_AUTHENTICATION = "public-authentication", "Public authentication key"
    SYMMETRIC_DATA_ENCRYPTION = "symmetric-data-encryption", "Symmetric data-encryption key"
    SYMMETRIC_KEY_WRAPPING = "symmetric-key-wrapping", "Symmetric key-wrapping key"
    SYMMETRIC_RBG = "symmetric-rbg", "Symmetric random number generation key"
    SYMMETRIC_MASTER = "symmetric-master", "Symmetric master / key-derivation key"
    PRIVATE_KEY_TRANSPORT = "private-key-transport", "Private key-transport key"
    PUBLIC_KEY_TRANSPORT = "public-key-transport", "Public key-transport key"
    SYMMETRIC_KEY_AGREEMENT = "symmetric-key-agreement", "Symmetric key-agreement key"
    PRIVATE_STATIC_KEY_AGREEMENT = "private-static-key-agreement", "Private static key-agreement key"
    PUBLIC_STATIC_KEY_AGREEMENT = "public-static-key-agreement", "Public static key-agreement key"
    PRIVATE_EPHEMERAL_KEY_AGREEMENT = "private-ephemeral-key-agreement", "Private ephemeral key-agreement key"
    PUBLIC_EPHEMERAL_KEY_AGREEMENT = "public-ephemeral-key-agreement", "Public ephemeral key-agreement key"
    SYMMETRIC_AUTHORIZATION = "symmetric-authorization", "Symmetric authorization key"
    PRIVATE_AUTHORIZATION = "private-authorization", "Private authorization key"
    PUBLIC_AUTHORIZATION = "public-authorization", "Public authorization key"
    SECRET = "secret", "Secret (password, API token, credential)"


class KeyKind(models.TextChoices):
    SYMMETRIC_KEY = "symmetric-key", "Symmetric key"
    PRIVATE_KEY = "private-key", "Private key"
    CERTIFICATE_PRIVATE_KEY = "certificate-private-key", "Certificate private key"
    API_TOKEN = "api-token", "API token"
    PASSWORD = "password", "Password / credential"
    SHARED_SECRET = "shared-secret", "Shared secret (HMAC, webhook)"
    PUBLIC_KEY = "public-key", "Public key (tracked with its private half)"
    OTHER = "other", "Other secret"


class KeyState(models.TextChoices):
    """NIST SP 800-57 / CycloneDX key states."""

    PRE_ACTIVATION = "pre-activation", "Pre-activation"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    DEACTIVATED = "deactivated", "Deactivated"
    COMPROMISED = "compromised", "Compromised"
    DESTROYED = "destroyed", "Destroyed"


class Operation(models.TextChoices):
    """Cryptographic operations, the vocabulary of purposes, bindings, grants and usage logs."""

    ENCRYPT = "encrypt", "Encrypt"
    DECRYPT = "decrypt", "Decrypt"
    RE_ENCRYPT = "re-encrypt", "Re-encrypt"
    GENERATE_DATA_KEY = "generate-data-key", "Generate data key"
    WRAP = "wrap", "Wrap key"
    UNWRAP = "unwrap", "Unwrap key"
    SIGN = "sign", "Sign"
    VERIFY = "verify", "Verify"
    GENERATE_MAC = "generate-mac", "Generate MAC"
    VERIFY_MAC = "verify-mac", "Verify MAC"
    DERIVE = "derive", "Derive key"
    AGREE = "agree", "Key agreement"
    AUTHENTICATE = "authenticate", "Authenticate"
    GENERATE_RANDOM = "generate-random", "Generate random"


class StoreKind(models.TextChoices):
    AWS_KMS = "aws-kms", "AWS KMS"
    GCP_KMS = "gcp-kms", "Google Cloud KMS"
    AZURE_KV = "azure-kv", "Azure Key Vault"
    VAULT_TRANSIT = "vault-transit", "HashiCorp Vault transit"
    VAULT_KV = "vault-kv", "HashiCorp Vault KV"
    HSM = "hsm", "Hardware security module"
    K8S_SECRETS = "k8s-secrets", "Kubernetes secrets"
    OTHER = "other", "Other"


class PrincipalType(models.TextChoices):
    PERSON = "person", "Person"
    SERVICE = "service", "Service / workload"
    ROLE = "role", "Role / group"


@deconstructible
class ChoiceListValidator:
    """A JSON list field holds only values from a fixed vocabulary."""

    def __init__(self, allowed: list[str], field: str) -> None:
        self.allowed, self.field = list(allowed), field

    def __call__(self, value) -> None:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValidationError(f"{self.field} must be a list of values.", code="not_a_list")
        unknown = sorted(set(value) - set(self.allowed))
        if unknown:
            raise ValidationError(
                f"{self.field}: {', '.join(unknown)} not recognised; expected some of: {', '.join(self.allowed)}.",
                code="unknown_value",
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ChoiceListValidator) and (self.allowed, self.field) == (other.allowed, other.field)


def validate_choice_list(choices: type[models.TextChoices], field: str) -> ChoiceListValidator:
    return ChoiceListValidator(list(choices.values), field)


free_text = KeyMaterialValidator()


def days_after(start: dt.date, days: int) -> dt.date | None:
    """``start`` plus ``days``, or None when that is past the calendar's end (a period of millions of days never
    ends in practice; the arithmetic must not raise on it)."""
    try:
        return start + dt.timedelta(days=days)
    except OverflowError:
        return None


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Party(TimeStamped):
    """An organisation in the AI supply chain, with its SSRM roles. Exactly one party is "us"."""

    name = models.CharField(max_length=200, unique=True, validators=[free_text])
    roles = models.JSONField(default=list, validators=[validate_choice_list(SsrmRole, "roles")])
    is_us = models.BooleanField("this is us", default=False)
    description = models.TextField(blank=True, validators=[free_text])
    contact = models.CharField(max_length=200, blank=True, validators=[free_text])
    history = HistoricalRecords()

    class Meta:
        ordering = ["-is_us", "name"]
        verbose_name_plural = "parties"
        constraints = [
            models.UniqueConstraint(fields=["is_us"], condition=models.Q(is_us=True), name="one_party_is_us")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:party-detail", args=[self.pk])

    @property
    def role_labels(self) -> list[str]:
        return [SsrmRole(role).label for role in self.roles if role in SsrmRole.values]


class SsrmAssignment(TimeStamped):
    """Who carries CEK-11 at one SSRM layer, in which role, as agreed in contracts."""

    layer = models.CharField(max_length=20, choices=SsrmLayer.choices)
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(max_length=5, choices=SsrmRole.choices)
    responsibility = models.TextField(blank=True, validators=[free_text])
    history = HistoricalRecords()

    class Meta:
        ordering = ["layer", "party__name"]
        constraints = [models.UniqueConstraint(fields=["layer", "party", "role"], name="ssrm_assignment_unique")]

    def __str__(self) -> str:
        return f"{self.get_layer_display()}: {self.party} as {self.role}"

    def get_absolute_url(self) -> str:
        return reverse("inventory:ssrm")


class Tenant(TimeStamped):
    name = models.CharField(max_length=200, validators=[free_text])
    slug = models.SlugField(max_length=100, unique=True, validators=[free_text])
    party = models.ForeignKey(
        Party, on_delete=models.PROTECT, null=True, blank=True, related_name="tenants", help_text="Customer party."
    )
    description = models.TextField(blank=True, validators=[free_text])
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:tenant-detail", args=[self.pk])


class Service(TimeStamped):
    """A workload that uses keys."""

    name = models.CharField(max_length=200, validators=[free_text])
    slug = models.SlugField(max_length=100, unique=True, validators=[free_text])
    description = models.TextField(blank=True, validators=[free_text])
    environment = models.CharField(max_length=20, choices=Environment.choices, default=Environment.PRODUCTION)
    architectural_layer = models.CharField(
        max_length=30, choices=ArchitecturalLayer.choices, default=ArchitecturalLayer.APPLICATION
    )
    ssrm_layer = models.CharField("SSRM layer", max_length=20, choices=SsrmLayer.choices, default=SsrmLayer.APPLICATION)
    lifecycle_phase = models.CharField(
        "AI lifecycle phase",
        max_length=20,
        choices=LifecyclePhase.choices,
        blank=True,
        help_text="Leave empty for a workload that is not part of an AI system.",
    )
    operating_party = models.ForeignKey(Party, on_delete=models.PROTECT, null=True, blank=True, related_name="services")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="owned_services"
    )
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["ssrm_layer"]), models.Index(fields=["lifecycle_phase"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:service-detail", args=[self.pk])

    @property
    def is_ai(self) -> bool:
        return bool(self.lifecycle_phase)


class KeyStore(TimeStamped):
    """Where keys live: a KMS account/region/project, a vault, an HSM, a cluster."""

    name = models.CharField(max_length=200, unique=True, validators=[free_text])
    kind = models.CharField(max_length=20, choices=StoreKind.choices)
    account = models.CharField(
        max_length=200, blank=True, validators=[free_text], help_text="Account, subscription, project or cluster."
    )
    region = models.CharField(max_length=100, blank=True, validators=[free_text])
    operating_party = models.ForeignKey(
        Party, on_delete=models.PROTECT, null=True, blank=True, related_name="key_stores"
    )
    purpose_tag_key = models.CharField(
        max_length=100,
        default="purpose",
        validators=[free_text],
        help_text="Label/tag that carries a key's purpose on this platform.",
    )
    owner_tag_key = models.CharField(
        max_length=100,
        default="owner",
        validators=[free_text],
        help_text="Label/tag naming a key's owner (a username or e-mail address); imports match it to users.",
    )
    service_tag_key = models.CharField(
        max_length=100,
        default="service",
        validators=[free_text],
        help_text="Label/tag naming the services that use a key (slugs, separated by commas).",
    )
    tenant_tag_key = models.CharField(
        max_length=100,
        default="tenant",
        validators=[free_text],
        help_text="Label/tag naming a key's tenant (a tenant slug).",
    )
    last_full_import_at = models.DateTimeField(
        "last full import",
        null=True,
        blank=True,
        editable=False,
        help_text="When an import last listed every key of this store (keys it did not list are marked not seen).",
    )
    inventory_confirmed_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When GRC last confirmed that the inventory lists every key this store holds (for stores "
        "that are not imported).",
    )
    inventory_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    description = models.TextField(blank=True, validators=[free_text])
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:keystore-detail", args=[self.pk])


class Purpose(TimeStamped):
    """One allowed purpose of a key: data, not an enum, so GRC can extend the catalog."""

    slug = models.SlugField(max_length=80, unique=True, validators=[free_text])
    name = models.CharField(max_length=200, validators=[free_text])
    description = models.TextField(blank=True, validators=[free_text])
    function = models.CharField("cryptographic function", max_length=20, choices=CryptoFunction.choices)
    key_type = models.CharField("NIST SP 800-57 key type", max_length=40, choices=Sp80057KeyType.choices)
    allowed_kinds = models.JSONField(
        default=list, blank=True, validators=[validate_choice_list(KeyKind, "allowed kinds")]
    )
    allowed_operations = models.JSONField(
        default=list, validators=[validate_choice_list(Operation, "allowed operations")]
    )
    max_cryptoperiod_days = models.PositiveIntegerField(
        "maximum cryptoperiod (days)",
        null=True,
        blank=True,
        help_text="Default from NIST SP 800-57 Part 1 Table 1; empty when the standard gives none.",
    )
    is_ai_specific = models.BooleanField("AI-specific", default=False)
    is_active = models.BooleanField(default=True, help_text="Retired purposes cannot be given to new keys.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["function"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:purpose-detail", args=[self.pk])


class Key(TimeStamped):
    """A key or secret, described by metadata only.

    It has exactly one purpose, with one exception: a key an import found on a platform without a purpose
    that could be derived is "purpose unassigned" (``purpose`` is None) until GRC maps it. That state counts
    against the control, forms and the API never produce it, and a database constraint keeps an unassigned
    key from carrying a justification, approver or review date (there is no mapping to justify)."""

    name = models.CharField(max_length=200, validators=[free_text])
    kind = models.CharField(max_length=30, choices=KeyKind.choices, default=KeyKind.SYMMETRIC_KEY)
    algorithm = models.CharField(
        max_length=60, blank=True, validators=[free_text], help_text="E.g. AES-256-GCM, ECDSA P-256."
    )
    size_bits = models.PositiveIntegerField(null=True, blank=True)
    # The composite indexes of Meta start with store, purpose and tenant: no single-column index of their own.
    store = models.ForeignKey(KeyStore, on_delete=models.PROTECT, related_name="keys", db_index=False)
    external_id = models.CharField(
        max_length=500, validators=[free_text], help_text="The key's id in its store (ARN, resource name, path)."
    )
    platform_usage = models.CharField(
        max_length=60,
        blank=True,
        validators=[free_text],
        help_text="The store's native usage, e.g. AWS KeyUsage ENCRYPT_DECRYPT.",
    )
    platform_managed = models.BooleanField(
        "managed by the platform",
        default=False,
        help_text="The platform creates and operates the key itself (e.g. an AWS-managed KMS key).",
    )
    platform_details = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_labels],
        help_text="The platform's own facts about the key, as imported (origin, protection level, ...).",
    )
    not_seen_since = models.DateField(
        null=True,
        blank=True,
        editable=False,
        help_text="Set when a full import of the key's store no longer listed the key; cleared when it is seen again.",
    )
    description = models.TextField(blank=True, validators=[free_text])
    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, null=True, blank=True, related_name="keys", db_index=False
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="owned_keys"
    )
    backup_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="backed_up_keys"
    )
    custodian = models.ForeignKey(
        Party,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="custodied_keys",
        help_text="The party that holds and operates the key.",
    )
    ssrm_layer = models.CharField("SSRM layer", max_length=20, choices=SsrmLayer.choices, default=SsrmLayer.APPLICATION)
    state = models.CharField(max_length=20, choices=KeyState.choices, default=KeyState.ACTIVE)
    created_on = models.DateField("created (in store)", null=True, blank=True)
    activated_on = models.DateField(null=True, blank=True)
    last_rotated_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    rotation_period_days = models.PositiveIntegerField(null=True, blank=True)
    cryptoperiod_days = models.PositiveIntegerField(
        "cryptoperiod override (days)",
        null=True,
        blank=True,
        help_text="Leave empty to use the purpose's maximum cryptoperiod.",
    )
    cryptoperiod_ends_on = models.DateField(
        null=True,
        blank=True,
        editable=False,
        help_text="Derived: start of the current period plus the cryptoperiod. Kept by inventory.services.",
    )
    labels = models.JSONField(default=dict, blank=True, validators=[validate_labels], help_text="KMS tags / labels.")
    exposed_to = models.ManyToManyField(Party, blank=True, related_name="exposed_keys")
    exposure_scope = models.TextField(blank=True, validators=[free_text])
    exposure_contract = models.CharField(
        "exposure contract reference", max_length=200, blank=True, validators=[free_text]
    )
    purpose = models.ForeignKey(
        Purpose, on_delete=models.PROTECT, null=True, blank=True, related_name="keys", db_index=False
    )
    purpose_justification = models.TextField(blank=True, validators=[free_text])
    purpose_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="approved_key_purposes"
    )
    purpose_reviewed_on = models.DateField("purpose mapping last reviewed", null=True, blank=True)
    history = HistoricalRecords(m2m_fields=[exposed_to])

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="key_unique_external_id_per_store"),
            models.CheckConstraint(
                condition=models.Q(purpose__isnull=False)
                | models.Q(purpose_justification="", purpose_approver__isnull=True, purpose_reviewed_on__isnull=True),
                name="key_unassigned_purpose_has_no_mapping",
                violation_error_message="A key without a purpose cannot have a purpose justification, approver or "
                "review date.",
            ),
        ]
        indexes = [
            # The list sorts by name: each filter the page offers gets (filter, name, id) so a filtered page is an
            # index range scan, not a sort of every matching row.
            models.Index(fields=["name", "id"]),
            models.Index(fields=["state", "name", "id"]),
            models.Index(fields=["store", "name", "id"]),
            models.Index(fields=["purpose", "name", "id"]),
            models.Index(fields=["tenant", "name", "id"]),
            models.Index(fields=["kind"]),
            models.Index(fields=["ssrm_layer"]),
            models.Index(fields=["state", "cryptoperiod_ends_on"]),
            models.Index(fields=["last_rotated_on"]),
            models.Index(fields=["updated_at"]),
            models.Index(fields=["store", "not_seen_since"]),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:key-detail", args=[self.pk])

    @property
    def purpose_unassigned(self) -> bool:
        return self.purpose_id is None

    @property
    def period_start(self) -> dt.date | None:
        return self.last_rotated_on or self.activated_on or self.created_on

    @property
    def effective_cryptoperiod_days(self) -> int | None:
        if self.cryptoperiod_days:
            return self.cryptoperiod_days
        return self.purpose.max_cryptoperiod_days if self.purpose_id is not None else None

    def compute_cryptoperiod_end(self) -> dt.date | None:
        start, days = self.period_start, self.effective_cryptoperiod_days
        if start is None or days is None:
            return None
        return days_after(start, days)

    @property
    def is_cryptoperiod_overdue(self) -> bool:
        return (
            self.state == KeyState.ACTIVE
            and self.cryptoperiod_ends_on is not None
            and self.cryptoperiod_ends_on < timezone.localdate()
        )

    @property
    def is_overdue_for_rotation(self) -> bool:
        start = self.last_rotated_on or self.activated_on or self.created_on
        if self.state != KeyState.ACTIVE or not self.rotation_period_days or start is None:
            return False
        due = days_after(start, self.rotation_period_days)
        return due is not None and due < timezone.localdate()

    def is_owned_by(self, user) -> bool:
        return user.pk is not None and user.pk in (self.owner_id, self.backup_owner_id)


class Binding(TimeStamped):
    """A service (and optionally a tenant) that uses a key, for what purpose, as which principal."""

    key = models.ForeignKey(Key, on_delete=models.CASCADE, related_name="bindings")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="bindings")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, null=True, blank=True, related_name="bindings")
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="bindings")
    principal = models.CharField(
        max_length=300, blank=True, validators=[free_text], help_text="Role, service account or ARN."
    )
    operations = models.JSONField(default=list, blank=True, validators=[validate_choice_list(Operation, "operations")])
    notes = models.TextField(blank=True, validators=[free_text])
    history = HistoricalRecords()

    class Meta:
        ordering = ["key__name", "service__name", "id"]

    def __str__(self) -> str:
        return f"{self.service} uses {self.key} for {self.purpose}"

    def get_absolute_url(self) -> str:
        return reverse("inventory:binding-detail", args=[self.pk])


class AccessGrant(TimeStamped):
    """Who may use a key, for which operations, approved by whom, until when."""

    key = models.ForeignKey(Key, on_delete=models.CASCADE, related_name="grants")
    principal_type = models.CharField(max_length=10, choices=PrincipalType.choices, default=PrincipalType.SERVICE)
    principal = models.CharField(
        max_length=300, validators=[free_text], help_text="A specific principal; no wildcards."
    )
    operations = models.JSONField(default=list, validators=[validate_choice_list(Operation, "operations")])
    justification = models.TextField(blank=True, validators=[free_text])
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="approved_grants"
    )
    approved_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["key__name", "principal", "id"]
        indexes = [models.Index(fields=["expires_on"])]

    def __str__(self) -> str:
        return f"{self.principal} on {self.key}"

    def get_absolute_url(self) -> str:
        return reverse("inventory:grant-detail", args=[self.pk])

    @property
    def is_expired(self) -> bool:
        return self.expires_on is not None and self.expires_on < timezone.localdate()

    @property
    def is_wildcard(self) -> bool:
        return "*" in self.principal


def import_upload_path(instance: KeyImport, filename: str) -> str:
    return f"imports/{instance.created_at:%Y/%m}/{instance.sha256[:16]}-{instance.pk}.dat"


class KeyImport(JobFields):
    """One import of an inventory file: who, when, which file (name, SHA-256), what it did.

    The uploaded file is kept (it is metadata, and it was checked for key material before it was kept) so
    that the preview the user saw is exactly what is applied. A file refused for key material or unsafe text
    is never written anywhere: its record keeps the name, size, SHA-256 and the refusal (row, field, kind and
    reason of each finding, never a value).

    Applying a large file is a background job (``cek.jobs``): "applying" while a worker writes it in one
    transaction, so its progress goes to the cache only (``started_at``: when applying started).
    """

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        APPLYING = "applying", "Applying"
        APPLIED = "applied", "Applied"
        FAILED = "failed", "Failed"
        DISCARDED = "discarded", "Discarded"
        REFUSED = "refused", "Refused"

    class RefusalKind(models.TextChoices):
        KEY_MATERIAL = "key_material", "Key material"
        UNSAFE_TEXT = "unsafe_text", "Unsafe text"

    format = models.CharField(max_length=30)
    store = models.ForeignKey(
        KeyStore,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="imports",
        help_text="The store the file belongs to (platform exports), chosen at upload or matched from the file.",
    )
    full = models.BooleanField(
        "full import",
        default=False,
        help_text="The file lists every key of the store: keys it does not list are marked not seen since the import.",
    )
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    file = models.FileField(upload_to=import_upload_path, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PREVIEWED)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(
        default=list, blank=True, help_text="Conflicts and unknown references found in the file (they do not block it)."
    )
    unknowns = models.JSONField(
        default=dict, blank=True, help_text="Owners, services and tenants named by tags that match nothing here."
    )
    refusal = models.JSONField(
        default=list,
        blank=True,
        help_text="Why the file was refused, one entry per finding: row, field, kind and reason (never the value).",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="key_imports")
    created_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="applied_key_imports"
    )

    job = JobKind(
        name="import",
        task="inventory.tasks.apply_key_import",
        running=(Status.APPLYING,),
        succeeded=(Status.APPLIED,),
        failed=(Status.FAILED, Status.REFUSED),
        cancelled=(Status.DISCARDED,),
        stale_setting="CEK_IMPORT_STALE_MINUTES",
        since="started_at",
        # Nothing of it was committed: apply writes in one transaction.
        when_running_stalls=Fail(
            "The worker applying this import stopped reporting for over {minutes} minutes. Nothing was written; "
            "retry the import."
        ),
        may_view=is_grc,
        may_retry=lambda user, record: is_grc(user) and record.status == KeyImport.Status.FAILED and bool(record.file),
        status_route="inventory:import-status",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["-created_at"])]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def format_label(self) -> str:
        """The format's name as the upload page shows it ("AWS KMS", "CycloneDX CBOM"), not its code."""
        from inventory.importers import REGISTRY  # the importers import these models

        importer = REGISTRY.get(self.format)
        return importer.label if importer is not None else self.format

    @property
    def refusal_summary(self) -> str:
        """ "Key material: row 3 (description), a PEM private key block; ..." for the history page."""
        parts = []
        for item in self.refusal[:5]:
            where = f"row {item['row']}" if item.get("row") is not None else ""
            if item.get("field"):
                where = f"{where} ({item['field']})" if where else item["field"]
            kind = dict(self.RefusalKind.choices).get(item.get("kind", ""), "Refused")
            parts.append(f"{kind}: {where + ', ' if where else ''}{item.get('reason', '')}")
        more = len(self.refusal) - 5
        return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
