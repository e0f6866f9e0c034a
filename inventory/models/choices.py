"""The inventory's vocabularies: SSRM roles and layers, AICM layers and phases, key kinds, states, operations."""

from __future__ import annotations

from django.db import models


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


# A key is *in use* while it is in its operational period: active, or suspended (SP 800-57 Part 1 §7: a suspended
# key must not apply protection but may still process protected data and be reactivated, so it keeps its one
# purpose, its owner and its grants). CEK-11 is evaluated over these keys; pre-activation keys are not in use yet,
# deactivated, compromised and destroyed keys no longer are. Every figure of keys "in use" counts these states, and
# is labelled ``IN_USE_LABEL`` wherever it is shown; a figure of "active" keys counts state ``active`` alone.
IN_USE_STATES: tuple[str, ...] = (KeyState.ACTIVE, KeyState.SUSPENDED)
IN_USE_LABEL = "in use (active or suspended)"


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
