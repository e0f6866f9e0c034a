"""The key-material validator: what it rejects, what it accepts, what its messages say, and how fast it is.

Samples are generated at run time (``secrets``, ``os.urandom``, ``base64``), so no test data in the
repository looks like a real secret and every run checks fresh keys.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import string
import time
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError

from cek.keymaterial import (
    KeyMaterialValidator,
    check_text,
    find_key_material,
    message_for,
    scan_fields,
    validate_labels,
)
from tests.corpus.adversarial import ADVERSARIAL

ALNUM = string.ascii_letters + string.digits


def random_text(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def b64url(raw: bytes, *, padded: bool = False) -> str:
    text = base64.urlsafe_b64encode(raw).decode()
    return text if padded else text.rstrip("=")


def wrap(text: str, width: int = 64) -> str:
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


def pkcs8_der(size: int = 1218) -> bytes:
    """Plausible PKCS#8 DER: SEQUENCE, version 0, rsaEncryption AlgorithmIdentifier, then key bytes."""
    head = b"\x02\x01\x00\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00\x04\x82"
    body = head + (size - 4 - len(head) - 2).to_bytes(2, "big") + os.urandom(size - 4 - len(head) - 2)
    return b"\x30\x82" + len(body).to_bytes(2, "big") + body


def pem(label: str, raw: bytes | None = None) -> str:
    body = wrap(b64(raw if raw is not None else os.urandom(1218)))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


def pgp_private_key_block() -> str:
    body = wrap(b64(os.urandom(900)))
    checksum = b64(os.urandom(3))
    return f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{body}\n={checksum}\n-----END PGP PRIVATE KEY BLOCK-----\n"


def jwt() -> str:
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"sub": "svc-inference", "iat": 1718000000, "aud": "kms"}).encode())
    return f"{header}.{payload}.{b64url(os.urandom(32))}"


def aws_secret() -> str:
    return random_text(ALNUM + "/+", 40)


def gcp_service_account_json() -> str:
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "ml-platform-prod",
            "private_key_id": os.urandom(20).hex(),
            "private_key": pem("PRIVATE KEY", pkcs8_der()),
            "client_email": "inference@ml-platform-prod.iam.gserviceaccount.com",
            "client_id": "".join(secrets.choice(string.digits) for _ in range(21)),
        },
        indent=2,
    )


# Each case: (id, builder) where the builder returns (text to check, the material inside it). Messages must
# not contain any 12-character window of the material.
Case = Callable[[], tuple[str, str]]


def alone(build: Callable[[], str]) -> Case:
    def case() -> tuple[str, str]:
        text = build()
        return text, text

    return case


def inside(template: str, build: Callable[[], str]) -> Case:
    def case() -> tuple[str, str]:
        material = build()
        return template.format(material), material

    return case


KEY_MATERIAL: list[tuple[str, Case]] = [
    ("pem-pkcs8-private-key", alone(lambda: pem("PRIVATE KEY", pkcs8_der()))),
    ("pem-rsa-private-key", alone(lambda: pem("RSA PRIVATE KEY"))),
    ("pem-ec-private-key", alone(lambda: pem("EC PRIVATE KEY", os.urandom(121)))),
    ("pem-encrypted-private-key", alone(lambda: pem("ENCRYPTED PRIVATE KEY"))),
    ("pem-openssh-private-key", alone(lambda: pem("OPENSSH PRIVATE KEY", b"openssh-key-v1\x00" + os.urandom(400)))),
    ("pgp-private-key-block", alone(pgp_private_key_block)),
    # Public keys and certificates pass (below), but a label is easy to change: a body that is not one is refused.
    ("pem-certificate-whose-body-is-not-a-certificate", alone(lambda: pem("CERTIFICATE", os.urandom(800)))),
    ("pem-public-key-whose-body-is-a-private-key", alone(lambda: pem("PUBLIC KEY", pkcs8_der()))),
    ("private-key-header-without-dashes", alone(lambda: "BEGIN RSA PRIVATE KEY " + b64(os.urandom(64)))),
    ("pkcs8-base64-single-line", alone(lambda: b64(pkcs8_der()))),
    ("pkcs8-base64-wrapped-lines", alone(lambda: wrap(b64(pkcs8_der())))),
    ("pkcs8-base64-wrapped-76", alone(lambda: wrap(b64(pkcs8_der(600)), 76))),
    ("ec-key-base64-single-line", alone(lambda: b64(b"\x30\x77\x02\x01\x01\x04\x20" + os.urandom(114)))),
    ("jwt", alone(jwt)),
    ("jwt-in-authorization-header", inside("Authorization: Bearer {}", jwt)),
    ("bearer-opaque-token", inside("curl -H 'Authorization: Bearer {}' https://api", lambda: b64url(os.urandom(24)))),
    ("aws-secret-access-key", alone(aws_secret)),
    ("aws-secret-access-key-assignment", inside("aws_secret_access_key = {}", aws_secret)),
    ("aws-secret-access-key-env", inside("export AWS_SECRET_ACCESS_KEY={}", aws_secret)),
    ("aws-secret-access-key-json", inside('{{"SecretAccessKey": "{}"}}', aws_secret)),
    ("gcp-service-account-json", alone(gcp_service_account_json)),
    ("hex-128", alone(lambda: os.urandom(16).hex())),
    ("hex-256", alone(lambda: os.urandom(32).hex())),
    ("hex-256-upper", alone(lambda: os.urandom(32).hex().upper())),
    ("hex-512", alone(lambda: os.urandom(64).hex())),
    ("hex-256-in-a-url-path", inside("https://kv.example.com/keys/{}", lambda: os.urandom(32).hex())),
    ("base64-128", alone(lambda: b64(os.urandom(16)))),
    ("base64-256", alone(lambda: b64(os.urandom(32)))),
    ("base64-512", alone(lambda: b64(os.urandom(64)))),
    ("base64url-128-padded", alone(lambda: b64url(os.urandom(16), padded=True))),
    ("base64url-256", alone(lambda: b64url(os.urandom(32)))),
    ("base64url-256-padded", alone(lambda: b64url(os.urandom(32), padded=True))),
    ("base64url-512", alone(lambda: b64url(os.urandom(64)))),
    ("base64-256-glued-to-a-path", inside("secret/app/{}", lambda: b64url(os.urandom(32)))),
    ("base64-encoded-pem", alone(lambda: b64(pem("PRIVATE KEY", os.urandom(200)).encode()))),
    ("base64-encoded-service-account", alone(lambda: b64(gcp_service_account_json().encode()))),
    ("github-classic-token", alone(lambda: "ghp_" + random_text(ALNUM, 36))),
    ("github-fine-grained-token", alone(lambda: "github_pat_" + random_text(ALNUM + "_", 82))),
    ("gitlab-token", alone(lambda: "glpat-" + random_text(ALNUM + "-_", 20))),
    (
        "slack-bot-token",
        alone(lambda: f"xoxb-{secrets.randbelow(10**12)}-{secrets.randbelow(10**12)}-" + random_text(ALNUM, 24)),
    ),
    (
        "slack-webhook-url",
        alone(
            lambda: "https://hooks.slack.com/services/T0"
            + random_text(ALNUM, 9)
            + "/B0"
            + random_text(ALNUM, 9)
            + "/"
            + random_text(ALNUM, 24)
        ),
    ),
    ("openai-project-key", alone(lambda: "sk-proj-" + b64url(os.urandom(96)))),
    ("openai-legacy-key", alone(lambda: "sk-" + random_text(ALNUM, 48))),
    ("anthropic-key", alone(lambda: "sk-ant-api03-" + b64url(os.urandom(70)))),
    ("stripe-secret-key", alone(lambda: "sk_live_" + random_text(ALNUM, 24))),
    ("google-api-key", alone(lambda: "AIza" + random_text(ALNUM + "-_", 35))),
    ("hugging-face-token", alone(lambda: "hf_" + random_text(string.ascii_letters, 34))),
    ("npm-token", alone(lambda: "npm_" + random_text(ALNUM, 36))),
    ("vault-service-token", alone(lambda: "hvs." + random_text(ALNUM + "_-", 90))),
    (
        "ssh-key-line-that-does-not-parse",
        alone(lambda: "ssh-rsa AAAAB3NzaC1yc2E" + b64(os.urandom(200)) + " ops@bastion"),
    ),
    ("password-assignment", inside("password={}", lambda: random_text(ALNUM + "!#%", 14))),
    ("password-env-assignment", inside("DB_PASSWORD={}", lambda: random_text(ALNUM, 12))),
    ("password-colon", inside("password: {}", lambda: random_text(ALNUM, 10) + "7")),
    ("passphrase-quoted", inside("passphrase = 'correct horse {}'", lambda: random_text(string.ascii_lowercase, 8))),
    (
        "client-secret-json",
        inside('{{"client_id": "inference", "client_secret": "{}"}}', lambda: random_text(ALNUM, 30)),
    ),
    ("api-key-yaml", inside("api_key: {}", lambda: random_text(ALNUM, 32))),
    ("url-with-password", inside("postgres://app:{}@db.internal:5432/features", lambda: random_text(ALNUM, 16))),
    (
        "azure-storage-connection-string",
        inside(
            "DefaultEndpointsProtocol=https;AccountName=mlprod;AccountKey={};EndpointSuffix=core.windows.net",
            lambda: b64(os.urandom(64)),
        ),
    ),
    (
        "s3-presigned-url",
        inside("https://b.s3.amazonaws.com/m.bin?X-Amz-Expires=60&X-Amz-Signature={}", lambda: os.urandom(32).hex()),
    ),
    (
        "key-in-the-middle-of-a-description",
        inside(
            "Rotated on 2024-05-01 after the incident. New key: {} -- owner ml-platform, ticket SEC-4821.",
            lambda: b64(os.urandom(32)),
        ),
    ),
    (
        "pem-in-the-middle-of-a-description",
        inside(
            "The wrapping key used by the batch job is below.\n{}\nIt is also in Vault.",
            lambda: pem("EC PRIVATE KEY", os.urandom(121)),
        ),
    ),
]


ORDINARY_TEXT = [
    "inference-log-encryption-key",
    "InferenceLogEncryptionKey2024Prod",
    "ModelWeightsSigningKeyV2",
    "CustomerManagedKeyForS3Bucket",
    "TransitEncryptionKeyForKafkaTopics",
    "ServiceAccountTokenCreatorRole",
    "HSMClusterEU1ProdBackupKey2025",
    "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",
    "arn:aws:kms:eu-west-1:111122223333:alias/inference-logs-prod",
    "alias/inference-logs-prod",
    "arn:aws:iam::111122223333:role/inference-service",
    "projects/p/locations/global/keyRings/r/cryptoKeys/k",
    "projects/ml-platform-prod/locations/europe-west4/keyRings/training/cryptoKeys/dataset-cmek/cryptoKeyVersions/3",
    "https://vault-name.vault.azure.net/keys/name/0123456789abcdef0123456789abcdef",
    "https://ml-prod-kv.vault.azure.net/keys/inference-signing/78deebed173b48e48f55abf87ed4cf71",
    "transit/keys/inference-log-2024",
    "secret/data/ml/feature-store/postgres",
    "1234abcd-12ab-34cd-56ef-1234567890ab",
    "Key id 0f3c9b1e-7d2a-4c55-9a8e-2b6f1d0c4e7a in tenant t-42",
    "Encrypts inference request logs for the EU tenants since 2024-03-01; rotated every 365 days.",
    "Created on 12 March 2024 by the ML platform team, reviewed 2025-01-15 (ticket SEC-4821).",
    "Key wraps the data keys of 3 feature stores (approx. 1,200,000 objects, 42 TB).",
    "Wrap/unwrap of DEKs for the vector database (pgvector), 1536-dim embeddings.",
    "model-weights-signing",
    "team-ml-platform",
    "ml-platform@example.com",
    "Jane Doe <jane.doe@example.com>",
    "https://confluence.example.com/display/SEC/Key+Management+Standard+v3",
    "s3://ml-training-data-eu/datasets/2024-05/",
    "gs://ml-models-eu/checkpoints/llama-3-8b-finetune-v7/",
    "serviceAccount:inference@ml-platform-prod.iam.gserviceaccount.com",
    "system:serviceaccount:inference:api-server",
    "AES-256-GCM",
    "ECDSA P-256 / SHA-256",
    "RSA_4096 with RSAES_OAEP_SHA_256",
    "ENCRYPT_DECRYPT",
    "SYMMETRIC_DEFAULT",
    "ecdsa-p256, ed25519, aes256-gcm96, chacha20-poly1305, hmac",
    "eu-west-1",
    "111122223333",
    "v2.14.0",
    "AKIAIOSFODNN7EXAMPLE",
    "Password: stored in Vault, never in this inventory.",
    "The API key is kept in AWS Secrets Manager (secret name: prod/inference/openai).",
    "token_url=https://login.example.com/oauth2/token",
    "secret_arn=arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf",
    "api_key=${OPENAI_API_KEY}",
    "password=<redacted>",
    "client_secret: ********",
    "password-rotation-days=90",
    "Rotation handled by KMS automatic rotation (RotationPeriodInDays=365).",
    "The secret rotation Lambda runs every 30 days.",
    "Kubernetes pod inference-server-7d9f8b6c4d-x2k9p in namespace ml-prod",
    "Contract ref: DPA-2024-07 section 4.2, vendor ScaleAI (MSA-2023-117)",
    "Owner: Data Protection Office (DPO), escalation via #sec-keys on Slack",
    "Model: meta-llama/Meta-Llama-3-8B-Instruct fine-tuned on 2024-06-01",
    "Base64-encoded DEKs are stored next to the ciphertext (envelope encryption).",
    "x-amz-server-side-encryption: aws:kms",
    "Bearer tokens are issued by the gateway, never stored here.",
]


def ordinary_generated() -> list[tuple[str, str]]:
    """Identifiers that carry hex or base64 on purpose: digests and fingerprints written as such."""
    return [
        ("sha256-fingerprint-with-colons", ":".join(f"{byte:02X}" for byte in os.urandom(32))),
        ("oci-image-digest", "registry.example.com/ml/inference@sha256:" + os.urandom(32).hex()),
        ("ssh-fingerprint", "SHA256:" + b64(os.urandom(32)).rstrip("=")),
        ("git-commit-url", "https://github.com/example/infra/commit/" + os.urandom(20).hex()),
        ("base64-of-an-english-sentence", b64(b"This key encrypts the training data at rest for the EU tenants.")),
    ]


@pytest.mark.parametrize("build", [case for _, case in KEY_MATERIAL], ids=[name for name, _ in KEY_MATERIAL])
def test_it_rejects_key_material_with_a_message_that_names_the_field_and_hides_the_value(build):
    text, material = build()

    assert find_key_material(text), "not recognised as key material"
    with pytest.raises(ValidationError) as excinfo:
        check_text(text, field="description")

    assert excinfo.value.code == "key_material"
    message = " ".join(excinfo.value.messages)
    assert message.startswith("description looks like it contains ")
    assert material not in message
    windows = {material[i : i + 12] for i in range(len(material) - 11)}
    assert not [window for window in windows if window in message]


@pytest.mark.parametrize("text", ORDINARY_TEXT, ids=range(len(ORDINARY_TEXT)))
def test_it_accepts_ordinary_text(text):
    assert find_key_material(text) is None
    check_text(text, field="description")
    KeyMaterialValidator()(text)


@pytest.mark.parametrize("name, text", ordinary_generated(), ids=[name for name, _ in ordinary_generated()])
def test_it_accepts_identifiers_digests_and_fingerprints_written_as_such(name, text):
    assert find_key_material(text) is None


def public_keys() -> list[tuple[str, str]]:
    """Public keys and certificates are not secrets (issue 11): PEM, DER in base64, OpenSSH and JWK forms pass.
    Until issue 11 the PEM and SSH forms were refused like private keys."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "inference-signing")])
    now = __import__("datetime").datetime(2025, 1, 1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now.replace(year=2026))
        .sign(key, hashes.SHA256())
    )
    numbers = public.public_numbers()
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(numbers.x.to_bytes(32, "big")),
        "y": b64url(numbers.y.to_bytes(32, "big")),
        "kid": "inference-signing",
    }
    spki = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ssh = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    )
    return [
        ("pem-certificate", cert.public_bytes(serialization.Encoding.PEM).decode()),
        (
            "pem-public-key",
            public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        ),
        ("base64-spki", b64(spki)),
        ("ssh-public-key", ssh.decode() + " ops@bastion"),
        ("public-jwk", json.dumps(jwk)),
    ]


@pytest.mark.parametrize("name, text", public_keys(), ids=[name for name, _ in public_keys()])
def test_public_keys_and_certificates_are_not_secrets(name, text):
    assert find_key_material(text) is None


def test_a_jwk_with_its_private_member_is_refused():
    jwk = dict(json.loads(public_keys()[-1][1]), d=b64url(os.urandom(32)))
    assert find_key_material(json.dumps(jwk)) == "a JSON Web Key with its private member 'd'"


def test_a_bare_64_hex_string_is_rejected_but_a_32_hex_version_in_a_key_url_is_not():
    version = os.urandom(16).hex()
    assert find_key_material(f"https://ml-prod-kv.vault.azure.net/keys/signing/{version}") is None
    assert find_key_material(version)
    assert find_key_material(os.urandom(32).hex())
    assert find_key_material(f"https://ml-prod-kv.vault.azure.net/keys/signing/{os.urandom(32).hex()}")


def test_base64_that_decodes_to_text_is_judged_by_that_text():
    assert find_key_material(b64(b"Rotated by the platform team every year.")) is None
    assert find_key_material(b64(b"password=" + secrets.token_urlsafe(12).encode()))


def test_no_false_negatives_on_200_random_256_bit_keys_in_hex_base64_and_base64url():
    missed = []
    for _ in range(200):
        raw = os.urandom(32)
        for encoding, text in (("hex", raw.hex()), ("base64", b64(raw)), ("base64url", b64url(raw))):
            if not find_key_material(text):
                missed.append(encoding)
    assert missed == []


def test_unpadded_base64url_128_bit_keys_are_caught_all_but_a_few_times_in_ten_thousand():
    # 22 characters leave little room to tell a random key from a word-like name: the measured miss rate is
    # about 2 in 10^4 (see the module docstring); 2,000 samples with 20 misses allowed never flakes.
    missed = sum(find_key_material(b64url(os.urandom(16))) is None for _ in range(2000))
    assert missed <= 20


def test_no_false_positives_on_the_ordinary_corpus():
    flagged = {text: find_key_material(text) for text in ORDINARY_TEXT if find_key_material(text)}
    assert flagged == {}
    assert len(ORDINARY_TEXT) >= 60


def test_the_model_field_validator_says_this_value_and_deconstructs_without_arguments():
    with pytest.raises(ValidationError) as excinfo:
        KeyMaterialValidator()(b64(os.urandom(32)))
    assert excinfo.value.code == "key_material"
    assert excinfo.value.messages[0].startswith("This value looks like it contains a base64-encoded 256-bit secret")
    assert KeyMaterialValidator().deconstruct() == ("cek.keymaterial.KeyMaterialValidator", (), {})
    assert KeyMaterialValidator() == KeyMaterialValidator()


def test_message_for_states_the_field_the_reason_and_what_to_do():
    message = message_for("column 'description'", "a JSON Web Token")
    assert message.startswith("column 'description' looks like it contains a JSON Web Token.")
    assert "metadata" in message


def test_none_and_non_strings_are_handled():
    assert find_key_material(None) is None
    assert find_key_material(1234567890) is None
    assert find_key_material(int(os.urandom(16).hex(), 16)) is None  # a decimal number is not hex


# --- labels ----------------------------------------------------------------------------------------------


def test_ordinary_labels_are_accepted():
    validate_labels(
        {
            "team": "team-ml-platform",
            "purpose": "data-encryption",
            "env": "prod",
            "cost-center": "CC-1234",
            "secret-name": "prod/db-password",
            "contains-secrets": "true",
            "rotation-days": 365,
            "ai-workload": True,
        }
    )


def test_a_secret_in_a_label_value_is_rejected_and_names_the_label_not_the_value():
    key = b64url(os.urandom(32))
    with pytest.raises(ValidationError) as excinfo:
        validate_labels({"team": "ml", "note": f"backup key {key}"})
    message = " ".join(excinfo.value.messages)
    assert "Label 'note' looks like it contains a base64-encoded 256-bit secret" in message
    assert key[:12] not in message


def test_a_secret_in_a_label_name_is_rejected_without_echoing_the_name():
    key = os.urandom(32).hex()
    with pytest.raises(ValidationError) as excinfo:
        validate_labels({key: "x"})
    message = " ".join(excinfo.value.messages)
    assert message.startswith("A label name looks like it contains a 256-bit hexadecimal string")
    assert key[:12] not in message


def test_a_label_named_like_a_password_may_not_carry_one():
    password = random_text(ALNUM, 14)
    with pytest.raises(ValidationError) as excinfo:
        validate_labels({"db_password": password})
    message = " ".join(excinfo.value.messages)
    assert "Label 'db_password' looks like it contains a credential" in message
    assert password not in message


@pytest.mark.parametrize(
    "labels",
    [
        pytest.param({"x" * 129: "v"}, id="long-name"),
        pytest.param({"note": None}, id="none-value"),
        pytest.param({("-----BEGIN PRIVATE KEY-----" + "A" * 200): "v"}, id="long-pem-name"),
    ],
)
def test_label_shape_errors_never_echo_a_suspicious_name(labels):
    with pytest.raises(ValidationError) as excinfo:
        validate_labels(labels)
    message = " ".join(excinfo.value.messages)
    assert "BEGIN PRIVATE" not in message
    assert "x" * 61 not in message


def test_labels_must_be_a_mapping():
    with pytest.raises(ValidationError, match="mapping"):
        validate_labels(["team", "ml"])


# --- scan_fields -----------------------------------------------------------------------------------------


def test_scan_fields_reports_each_offending_field_by_name_and_never_the_value():
    private_key = pem("PRIVATE KEY", pkcs8_der())
    token = jwt()
    row = {
        "name": "inference-log-key",
        "external_id": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "description": f"see below\n{private_key}",
        "purpose_justification": token,
        "labels": {"team": "ml", "api": token},
    }
    problems = scan_fields(row)
    assert set(problems) == {"description", "purpose_justification", "labels"}
    assert problems["description"].startswith("'description' looks like it contains a PEM private key block")
    assert problems["purpose_justification"].startswith(
        "'purpose_justification' looks like it contains a JSON Web Token"
    )
    assert "Label 'api'" in problems["labels"]
    everything = " ".join(problems.values())
    assert token[:12] not in everything and private_key[40:52] not in everything


def test_scan_fields_only_checks_the_fields_it_is_given():
    row = {"name": "ok-name", "description": b64(os.urandom(32))}
    assert scan_fields(row, ["name"]) == {}
    assert set(scan_fields(row, ["name", "description", "missing"])) == {"description"}


def test_scan_fields_flags_a_column_named_like_a_secret_unless_it_is_a_placeholder_or_a_reference():
    problems = scan_fields(
        {
            "password": random_text(ALNUM, 12),
            "client_secret": "${CLIENT_SECRET}",
            "secret_arn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf",
            "token": "none",
        }
    )
    assert set(problems) == {"password"}
    assert problems["password"].startswith("'password' looks like it contains a credential")


# --- performance -----------------------------------------------------------------------------------------
# Times against a target are measured by benchmarks/keymaterial_speed.py (a megabyte of each input below in under
# a second, a typical field in microseconds); a test asserts behaviour, so here: the work grows linearly with the
# input. A pattern that backtracks grows with the square of the input: 10x the text, about 100x the work.


def _cpu_seconds(text: str) -> float:
    """The least CPU time of three checks of ``text`` (the least is the one the machine's other jobs disturbed least;
    CPU time, not wall time, so waiting for a core does not count)."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        find_key_material(text)
        best = min(best, time.process_time() - started)
    return best


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_checking_adversarial_input_grows_linearly_with_its_size(name):
    build = ADVERSARIAL[name]
    small, large = build(100_000), build(1_000_000)
    small_seconds, large_seconds = _cpu_seconds(small), _cpu_seconds(large)
    # 10x the input: linear work is about 10x; allow 30x for the clock's granularity on a tiny small time (a
    # floor of 5 ms), quadratic work would be about 100x.
    ratio = large_seconds / max(small_seconds, 0.005)
    assert ratio < 30, (
        f"{name}: 100 kB {small_seconds * 1000:.1f} ms, 1 MB {large_seconds * 1000:.1f} ms ({ratio:.0f}x)"
    )


def test_the_linearity_check_catches_work_that_grows_with_the_square_of_the_input(monkeypatch):
    """The test above can fail: a detector that rescans the rest of the text from every tenth character (what a
    backtracking pattern does from every starting position) makes it fail."""

    def quadratic(text: str) -> None:
        for start in range(0, len(text), 10):
            text.find("\x00", start)

    monkeypatch.setitem(globals(), "find_key_material", quadratic)
    with pytest.raises(AssertionError, match="a-1MB"):
        test_checking_adversarial_input_grows_linearly_with_its_size("a-1MB")


def test_a_pkcs11_uri_naming_the_hsm_token_is_an_identifier_not_a_secret():
    from cek.keymaterial import find_key_material

    assert find_key_material("pkcs11:token=nw-sign-01;object=model-artifact-signing;type=private") is None
    assert find_key_material("token=nw-sign-01-abcdef") is not None
    assert find_key_material("pkcs11:token=nw-sign-01;pin-value=492817365") is not None


# --- public_key_fingerprint ------------------------------------------------------------------------------


def test_the_fingerprint_is_the_sha256_of_the_spki_whatever_the_form_of_the_public_key():
    import hashlib

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from cek.keymaterial import public_key_fingerprint

    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    spki = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    expected = ("ec-secp256r1", hashlib.sha256(spki).hexdigest())
    numbers = public.public_numbers()
    jwk = {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(numbers.x.to_bytes(32, "big")),
        "y": b64url(numbers.y.to_bytes(32, "big")),
    }
    forms = [
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        b64(spki),
        spki.hex(),
        public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode(),
        jwk,
        json.dumps(jwk),
    ]
    assert [public_key_fingerprint(form) for form in forms] == [expected] * len(forms)
    certificate = dict(public_keys())["pem-certificate"]
    kind, digest = public_key_fingerprint(certificate)
    assert kind == "ec-secp256r1" and len(digest) == 64


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(lambda: pem("PRIVATE KEY", pkcs8_der()), id="pem-private-key"),
        pytest.param(lambda: b64(pkcs8_der()), id="base64-pkcs8"),
        pytest.param(lambda: b64(os.urandom(32)), id="random-base64"),
        pytest.param(lambda: "not a key at all", id="text"),
        pytest.param(lambda: {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "d": "AA"}, id="private-jwk"),
        pytest.param(lambda: None, id="none"),
    ],
)
def test_the_fingerprint_is_none_for_anything_that_is_not_a_readable_public_key(value):
    from cek.keymaterial import public_key_fingerprint

    assert public_key_fingerprint(value()) is None


@pytest.mark.parametrize("value", ["%94T4dLzARAB5!", "%abc%xyz9!", "%Zq8!kLm2"])
def test_a_password_that_begins_with_a_percent_sign_is_still_a_password(value):
    """ "%" begins placeholders (%(password)s, %DB_PASSWORD%, %{PASSWORD}) and passwords alike: the random password
    case above failed whenever its first character was "%" (one run in twenty)."""
    assert find_key_material(f"password={value}")
    assert find_key_material(f"password: {value}")


@pytest.mark.parametrize("value", ["%(db_password)s", "%DB_PASSWORD%", "%{PASSWORD}", "%s"])
def test_percent_placeholders_are_not_passwords(value):
    assert find_key_material(f"password={value}") is None
