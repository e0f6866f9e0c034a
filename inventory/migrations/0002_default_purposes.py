"""Seed the default purpose catalog.

Cryptoperiods follow NIST SP 800-57 Part 1 Rev. 5 Table 1 (upper bound of the originator-usage period,
in days; the standard calls them rough orders of magnitude). Where the table gives no figure (RBG keys:
per SP 800-90; public signature-verification keys: "several years") the field is left empty. Purposes for
passwords and API tokens are not SP 800-57 key types; they default to one year. GRC can edit all of it.
"""

from __future__ import annotations

from django.db import migrations

Y = 365
ENC = ["encrypt", "decrypt", "re-encrypt", "generate-data-key"]

# slug, name, function, SP 800-57 key type, allowed kinds, allowed operations, max days, AI-specific, description
PURPOSES = [
    ("data-encryption", "Data encryption", "encryption", "symmetric-data-encryption", ["symmetric-key"], ENC, 2 * Y, False,
     "Symmetric key that encrypts data at rest or in transit (volumes, buckets, databases)."),
    ("key-wrapping", "Key wrapping", "key-wrapping", "symmetric-key-wrapping", ["symmetric-key"],
     ["wrap", "unwrap", "encrypt", "decrypt", "generate-data-key"], 2 * Y, False,
     "Symmetric key-encryption key that protects other keys (envelope encryption root)."),
    ("digital-signature", "Digital signature", "signing", "private-signature", ["private-key", "certificate-private-key"],
     ["sign"], 3 * Y, False, "Private key that signs documents, releases or messages (SP 800-57: 1-3 years)."),
    ("signature-verification", "Signature verification", "signing", "public-signature-verification", ["public-key"],
     ["verify"], None, False, "Public key that verifies signatures; SP 800-57 suggests several years, by key size."),
    ("message-authentication", "Message authentication (MAC)", "mac", "symmetric-authentication",
     ["symmetric-key", "shared-secret"], ["generate-mac", "verify-mac"], 2 * Y, False,
     "Symmetric key that computes or verifies HMAC/CMAC tags."),
    ("entity-authentication", "Entity authentication", "authentication", "private-authentication",
     ["private-key", "certificate-private-key"], ["sign", "authenticate"], 2 * Y, False,
     "Private key that proves identity (client certificates, mutual TLS, SSH)."),
    ("authentication-verification", "Authentication verification", "authentication", "public-authentication",
     ["public-key"], ["verify", "authenticate"], 2 * Y, False, "Public key that verifies an entity's authentication."),
    ("random-bit-generation", "Random bit generation", "rbg", "symmetric-rbg", ["symmetric-key"],
     ["generate-random"], None, False, "Seed or key of a deterministic random bit generator (cryptoperiod per SP 800-90)."),
    ("key-derivation", "Key derivation (master key)", "key-derivation", "symmetric-master", ["symmetric-key"],
     ["derive"], Y, False, "Symmetric master key from which other keys are derived (SP 800-57: about 1 year)."),
    ("key-transport", "Key transport", "key-wrapping", "private-key-transport", ["private-key"],
     ["decrypt", "unwrap"], 2 * Y, False, "Private key that decrypts keys sent to its owner (RSA key transport)."),
    ("key-transport-public", "Key transport (public)", "key-wrapping", "public-key-transport", ["public-key"],
     ["encrypt", "wrap"], 2 * Y, False, "Public key used to encrypt keys for transport."),
    ("key-agreement", "Key agreement (symmetric)", "key-agreement", "symmetric-key-agreement", ["symmetric-key"],
     ["agree", "derive"], 2 * Y, False, "Symmetric key used in a key-agreement scheme."),
    ("static-key-agreement", "Static key agreement", "key-agreement", "private-static-key-agreement", ["private-key"],
     ["agree"], 2 * Y, False, "Long-term private key of a key-agreement scheme (ECDH static)."),
    ("static-key-agreement-public", "Static key agreement (public)", "key-agreement", "public-static-key-agreement",
     ["public-key"], ["agree"], 2 * Y, False, "Long-term public key of a key-agreement scheme."),
    ("ephemeral-key-agreement", "Ephemeral key agreement", "key-agreement", "private-ephemeral-key-agreement",
     ["private-key"], ["agree"], 1, False, "Private key for one key-agreement transaction only."),
    ("ephemeral-key-agreement-public", "Ephemeral key agreement (public)", "key-agreement",
     "public-ephemeral-key-agreement", ["public-key"], ["agree"], 1, False, "Public half of a one-transaction key."),
    ("authorization", "Authorization (symmetric)", "authentication", "symmetric-authorization",
     ["symmetric-key", "shared-secret"], ["generate-mac", "verify-mac", "authenticate"], 2 * Y, False,
     "Symmetric key that grants or checks access privileges."),
    ("authorization-private", "Authorization (private)", "authentication", "private-authorization", ["private-key"],
     ["sign"], 2 * Y, False, "Private key that proves access privileges."),
    ("authorization-public", "Authorization (public)", "authentication", "public-authorization", ["public-key"],
     ["verify"], 2 * Y, False, "Public key that verifies access privileges."),
    ("tls-server", "TLS server identity", "tls", "private-authentication", ["certificate-private-key", "private-key"],
     ["sign", "authenticate", "decrypt"], 2 * Y, False,
     "Private key behind a TLS server certificate (certificate lifetimes are usually shorter)."),
    ("api-authentication", "API authentication", "authentication", "secret", ["api-token", "shared-secret"],
     ["authenticate"], Y, False, "Token or client secret that authenticates a caller to an API."),
    ("service-credential", "Service credential", "authentication", "secret", ["password"], ["authenticate"], Y, False,
     "Password or credential a workload uses to log in to a database, broker or other service."),
    ("webhook-signing", "Webhook signing", "mac", "symmetric-authentication", ["shared-secret", "symmetric-key"],
     ["generate-mac", "verify-mac"], 2 * Y, False, "Shared secret that signs or verifies webhook payloads."),
    ("token-signing", "Token signing", "signing", "private-signature", ["private-key"], ["sign"], 2 * Y, False,
     "Private key that signs session or access tokens (JWT)."),
    ("evidence-signing", "Evidence signing", "signing", "private-signature", ["private-key"], ["sign"], 3 * Y, False,
     "Private key that signs evidence-pack manifests produced by this application."),
    # AI-specific purposes (AICM CEK-11 auditing guideline 6 and the role-specific themes).
    ("model-artifact-signing", "Model artifact signing", "signing", "private-signature", ["private-key"], ["sign"],
     3 * Y, True, "Signs model weights, containers and other artifacts released to the registry."),
    ("output-signing", "Model output signing", "signing", "private-signature", ["private-key"], ["sign"], 3 * Y, True,
     "Signs model outputs so consumers can verify their origin."),
    ("inference-log-encryption", "Inference-log encryption", "encryption", "symmetric-data-encryption",
     ["symmetric-key"], ENC, 2 * Y, True, "Encrypts prompts, completions and inference logs at rest."),
    ("training-data-encryption", "Training-data encryption", "encryption", "symmetric-data-encryption",
     ["symmetric-key"], ENC, 2 * Y, True, "Encrypts training and fine-tuning data sets."),
    ("evaluation-data-encryption", "Evaluation-data encryption", "encryption", "symmetric-data-encryption",
     ["symmetric-key"], ENC, 2 * Y, True, "Encrypts evaluation and red-team data sets and results."),
    ("model-weights-encryption", "Model-weights encryption", "encryption", "symmetric-data-encryption",
     ["symmetric-key"], ENC, 2 * Y, True, "Encrypts model weights and checkpoints at rest."),
    ("vector-store-encryption", "Embedding / vector-store encryption", "encryption", "symmetric-data-encryption",
     ["symmetric-key"], ENC, 2 * Y, True, "Encrypts embeddings and retrieval indexes."),
    ("model-registry-authentication", "Model registry / container authentication", "authentication",
     "private-authentication", ["private-key", "api-token", "password"], ["authenticate", "sign"], 2 * Y, True,
     "Authenticates workloads to the model registry or model container runtime."),
    ("llm-api-authentication", "LLM API authentication", "authentication", "secret", ["api-token"], ["authenticate"],
     Y, True, "API key or token that authenticates calls to a model provider's inference API."),
]


def seed(apps, schema_editor):
    Purpose = apps.get_model("inventory", "Purpose")
    for slug, name, function, key_type, kinds, ops, days, ai, description in PURPOSES:
        Purpose.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name, "function": function, "key_type": key_type, "allowed_kinds": kinds,
                "allowed_operations": ops, "max_cryptoperiod_days": days, "is_ai_specific": ai,
                "description": description,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("inventory", "Purpose").objects.filter(slug__in=[p[0] for p in PURPOSES], keys__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
