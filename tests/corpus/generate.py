"""Writes ``secrets.json`` and ``lookalikes.json``: the key-material corpus of issue 11.

Every value is synthetic, made in the public formats with fixed seeds (``random.Random``; private keys from
seeded scalars and seeded primes), so running this again writes the same files. None is a real credential.
Each entry is ``{"kind": family, "source": the format or shape it follows, "value": text}``.

    .venv/bin/python tests/corpus/generate.py
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import string
import uuid
from pathlib import Path
from types import SimpleNamespace

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.serialization import ssh as _ssh
from cryptography.x509.oid import NameOID

HERE = Path(__file__).parent
ALNUM = string.ascii_letters + string.digits
R = random.Random(20261205)


def rbytes(n: int) -> bytes:
    return R.randbytes(n)


def rtext(alphabet: str, n: int) -> str:
    return "".join(R.choice(alphabet) for _ in range(n))


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def b64url(raw: bytes, padded: bool = False) -> str:
    text = base64.urlsafe_b64encode(raw).decode()
    return text if padded else text.rstrip("=")


def wrap(text: str, width: int = 64) -> str:
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


def ruuid() -> str:
    return str(uuid.UUID(bytes=rbytes(16), version=4))


def rhex(n: int) -> str:
    return rbytes(n).hex()


# --- deterministic keys ---------------------------------------------------------------------------------


def _is_probable_prime(n: int) -> bool:
    if n < 2:
        return False
    for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(24):
        x = pow(R.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits: int) -> int:
    while True:
        candidate = R.getrandbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        if candidate % 65537 != 1 and _is_probable_prime(candidate):
            return candidate


def rsa_key(bits: int) -> rsa.RSAPrivateKey:
    p, q = _prime(bits // 2), _prime(bits // 2)
    e = 65537
    d = pow(e, -1, (p - 1) * (q - 1))
    public = rsa.RSAPublicNumbers(e, p * q)
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), public
    )
    return numbers.private_key()


def ec_key(curve: ec.EllipticCurve) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(R.getrandbits(curve.key_size - 8) + 1, curve)


# OpenSSH private keys carry a random check integer: draw it from the seeded generator too.
_ssh.os = SimpleNamespace(urandom=rbytes)  # type: ignore[attr-defined]

KEYS = {
    "rsa-2048": rsa_key(2048),
    "rsa-1024": rsa_key(1024),
    "ec-p256": ec_key(ec.SECP256R1()),
    "ec-p384": ec_key(ec.SECP384R1()),
    "ec-p521": ec_key(ec.SECP521R1()),
    "ec-secp256k1": ec_key(ec.SECP256K1()),
    "ed25519": ed25519.Ed25519PrivateKey.from_private_bytes(rbytes(32)),
    "ed448": ed448.Ed448PrivateKey.from_private_bytes(rbytes(57)),
    "x25519": x25519.X25519PrivateKey.from_private_bytes(rbytes(32)),
    "x448": x448.X448PrivateKey.from_private_bytes(rbytes(56)),
}
SIGNER = ed25519.Ed25519PrivateKey.from_private_bytes(rbytes(32))  # Ed25519 signatures are deterministic
NO = serialization.NoEncryption()
PEM, DER = serialization.Encoding.PEM, serialization.Encoding.DER
PKCS8, TRAD, OPENSSH = (
    serialization.PrivateFormat.PKCS8,
    serialization.PrivateFormat.TraditionalOpenSSL,
    serialization.PrivateFormat.OpenSSH,
)
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo


def der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + der_len(len(body)) + body


def encrypted_pkcs8(inner_len: int) -> bytes:
    """EncryptedPrivateKeyInfo with PBES2 (PBKDF2 + AES-256-CBC) and a random ciphertext."""
    pbkdf2 = tlv(
        0x30, tlv(0x06, bytes.fromhex("2a864886f70d01050c")) + tlv(0x30, tlv(0x04, rbytes(16)) + tlv(0x02, b"\x08\x00"))
    )
    aes = tlv(0x30, tlv(0x06, bytes.fromhex("608648016503040102")) + tlv(0x04, rbytes(16)))
    algorithm = tlv(0x30, tlv(0x06, bytes.fromhex("2a864886f70d01050d")) + tlv(0x30, pbkdf2 + aes))
    return tlv(0x30, algorithm + tlv(0x04, rbytes(inner_len)))


def sec1_short(curve_oid: str | None, scalar_len: int) -> bytes:
    body = tlv(0x02, b"\x01") + tlv(0x04, rbytes(scalar_len))
    if curve_oid:
        body += tlv(0xA0, tlv(0x06, bytes.fromhex(curve_oid)))
    return tlv(0x30, body)


def certificate(public_key, cn: str) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Example Issuing CA")]))
        .public_key(public_key)
        .serial_number(R.getrandbits(64))
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365))
        .sign(SIGNER, None)
    )


def csr(key, cn: str) -> x509.CertificateSigningRequest:
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .sign(key, None)
    )


def jwk_private(name: str, key) -> dict:
    if name.startswith("rsa"):
        n = key.private_numbers()
        pub = n.public_numbers

        def i(v: int) -> str:
            return b64url(v.to_bytes((v.bit_length() + 7) // 8, "big"))

        return {
            "kty": "RSA",
            "n": i(pub.n),
            "e": i(pub.e),
            "d": i(n.d),
            "p": i(n.p),
            "q": i(n.q),
            "dp": i(n.dmp1),
            "dq": i(n.dmq1),
            "qi": i(n.iqmp),
        }
    if name.startswith("ec"):
        n = key.private_numbers()
        size = (key.curve.key_size + 7) // 8
        crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521", "secp256k1": "secp256k1"}[
            key.curve.name
        ]
        return {
            "kty": "EC",
            "crv": crv,
            "x": b64url(n.public_numbers.x.to_bytes(size, "big")),
            "y": b64url(n.public_numbers.y.to_bytes(size, "big")),
            "d": b64url(n.private_value.to_bytes(size, "big")),
        }
    crv = {"ed25519": "Ed25519", "ed448": "Ed448", "x25519": "X25519", "x448": "X448"}[name]
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, NO)
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": crv, "x": b64url(pub), "d": b64url(raw)}


def public_jwk(private: dict) -> dict:
    return {k: v for k, v in private.items() if k in ("kty", "crv", "n", "e", "x", "y")}


# --- secrets --------------------------------------------------------------------------------------------


def secrets() -> list[dict[str, str]]:
    out: list[dict[str, str]] = []

    def add(kind: str, source: str, value: str) -> None:
        out.append({"kind": kind, "source": source, "value": value})

    for name, key in KEYS.items():
        pkcs8_der = key.private_bytes(DER, PKCS8, NO)
        add("pem", f"PKCS#8 PEM, {name}", key.private_bytes(PEM, PKCS8, NO).decode())
        if name.startswith(("rsa", "ec")):
            label = "PKCS#1" if name.startswith("rsa") else "SEC1"
            add("pem", f"{label} PEM (traditional OpenSSL), {name}", key.private_bytes(PEM, TRAD, NO).decode())
            add(label.lower().replace("#", ""), f"{label} DER in base64, {name}", b64(key.private_bytes(DER, TRAD, NO)))
        if name.startswith(("rsa", "ec-p", "ed25519")):
            add("openssh", f"OpenSSH private key, {name}", key.private_bytes(PEM, OPENSSH, NO).decode())
        add("pkcs8", f"PKCS#8 DER in base64 (one line), {name}", b64(pkcs8_der))
        add("pkcs8", f"PKCS#8 DER in base64 wrapped at 76, {name}", wrap(b64(pkcs8_der), 76))
        add("pkcs8", f"PKCS#8 DER in base64url, {name}", b64url(pkcs8_der))
        add("pkcs8", f"PKCS#8 DER in hex, {name}", pkcs8_der.hex())
        add("prefix", f"first 100 base64 characters of PKCS#8, {name}", b64(pkcs8_der)[:100])
        add("prefix", f"first 64 base64 characters of PKCS#8, {name}", b64(pkcs8_der)[:64])
        add("jwk", f"JWK with private members, {name}", json.dumps(jwk_private(name, key)))
    # The issue's own examples: an Ed25519 PKCS#8 is 48 bytes, MC4CAQAwBQYDK2VwBCIEI...
    for _ in range(3):
        seed = ed25519.Ed25519PrivateKey.from_private_bytes(rbytes(32))
        add("pkcs8", "Ed25519 PKCS#8 (48 bytes, MC4CAQAw...)", b64(seed.private_bytes(DER, PKCS8, NO)))
    for oid, size, note in (
        (None, 32, "SEC1 P-256 without parameters or public key (MCUCAQEEI...)"),
        ("2a8648ce3d030107", 32, "SEC1 P-256 with parameters, without public key (MDECAQEEI...)"),
        ("2b81040022", 48, "SEC1 P-384 with parameters, without public key"),
        (None, 66, "SEC1 P-521 without parameters or public key"),
        ("2b8104000a", 32, "SEC1 secp256k1 with parameters, without public key"),
    ):
        add("sec1", note, b64(sec1_short(oid, size)))
        add("sec1", note + ", in hex", sec1_short(oid, size).hex())
    for size in (1200, 200):
        raw = encrypted_pkcs8(size)
        add("pkcs8-encrypted", f"encrypted PKCS#8 (PBES2) DER in base64, {size}-byte ciphertext", b64(raw))
        add(
            "pem",
            f"encrypted PKCS#8 PEM, {size}-byte ciphertext",
            f"-----BEGIN ENCRYPTED PRIVATE KEY-----\n{wrap(b64(raw))}\n-----END ENCRYPTED PRIVATE KEY-----\n",
        )
    add(
        "pkcs12", "PKCS#12 key store (version 3) in base64", b64(tlv(0x30, tlv(0x02, b"\x03") + tlv(0x30, rbytes(900))))
    )
    rsa_pkcs8 = b64(KEYS["rsa-2048"].private_bytes(DER, PKCS8, NO))
    for start, length in ((300, 60), (600, 120), (1000, 44), (1200, 200)):
        add(
            "fragment",
            f"{length} characters from the middle of an RSA PKCS#8 key (offset {start})",
            rsa_pkcs8[start : start + length],
        )
    add(
        "pem",
        "PEM private key labelled as a certificate",
        f"-----BEGIN CERTIFICATE-----\n{wrap(rsa_pkcs8)}\n-----END CERTIFICATE-----\n",
    )
    pgp_body = wrap(b64(bytes([0x95]) + rbytes(700)))
    add(
        "pem",
        "PGP private key block",
        f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{pgp_body}\n={b64(rbytes(3))}\n-----END PGP PRIVATE KEY BLOCK-----\n",
    )
    add(
        "pem",
        "DSA private key PEM header",
        "-----BEGIN DSA PRIVATE KEY-----\n" + wrap(b64(rbytes(440))) + "\n-----END DSA PRIVATE KEY-----",
    )
    for version in (2, 3):
        add(
            "putty",
            f"PuTTY-User-Key-File-{version} (ssh-ed25519)",
            f"PuTTY-User-Key-File-{version}: ssh-ed25519\nEncryption: none\nComment: ops@bastion\nPublic-Lines: 2\n"
            f"{wrap(b64(rbytes(51)))}\nPrivate-Lines: 1\n{b64(rbytes(36))}\nPrivate-MAC: {rhex(32)}\n",
        )
    bech32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"
    for _ in range(4):
        add("age", "age X25519 identity (AGE-SECRET-KEY-1...)", "AGE-SECRET-KEY-1" + rtext(bech32, 58))
    add(
        "age",
        "age identity file",
        "# created: 2025-01-01T00:00:00Z\n# public key: age1"
        + rtext(bech32.lower(), 58)
        + "\nAGE-SECRET-KEY-1"
        + rtext(bech32, 58),
    )
    # JWK private members as fragments, and symmetric JWKs.
    add("jwk", "JWK oct key (k)", json.dumps({"kty": "oct", "k": b64url(rbytes(32)), "alg": "A256GCM"}))
    add(
        "jwk",
        "JWK oct HMAC key (k)",
        json.dumps({"kty": "oct", "k": b64url(rbytes(64)), "alg": "HS512", "kid": "hmac-1"}),
    )
    add("jwk", "JWKS with one private key", json.dumps({"keys": [jwk_private("ec-p256", KEYS["ec-p256"])]}))
    add("jwk", "JWK private member d alone", '"d": "' + b64url(rbytes(32)) + '"')
    add("jwk", "JWK private member p alone (RSA prime)", '"p": "' + b64url(rbytes(128)) + '"')
    # Symmetric keys and secrets printed in hex and base64, at every common length.
    for size in (16, 20, 24, 32, 48, 64):
        raw = rbytes(size)
        add("hex", f"{size * 8}-bit key, hex", raw.hex())
        add("hex", f"{size * 8}-bit key, HEX", rbytes(size).hex().upper())
        add("base64", f"{size * 8}-bit key, base64", b64(rbytes(size)))
        add("base64", f"{size * 8}-bit key, base64url padded", b64url(rbytes(size), padded=True))
        if size >= 24:
            add("base64", f"{size * 8}-bit key, base64url", b64url(rbytes(size)))
    for size in (17, 25, 40, 45, 70, 100):
        add("fragment", f"{size} random bytes in base64 (a fragment long enough for a key)", b64(rbytes(size)))
    add(
        "base64",
        "256-bit key in a sentence",
        f"Rotated 2024-05-01 after the incident. New key: {b64(rbytes(32))} (owner ml-platform).",
    )
    add("hex", "256-bit key in a key URL path", f"https://kv.example.com/keys/{rhex(32)}")
    # AWS.
    for _ in range(4):
        add("aws", "AWS secret access key", rtext(ALNUM + "/+", 40))
    for template in (
        "aws_access_key_id = AKIA{id}\naws_secret_access_key = {secret}",
        "AWS_ACCESS_KEY_ID=AKIA{id} AWS_SECRET_ACCESS_KEY={secret}",
        '{{"AccessKeyId": "AKIA{id}", "SecretAccessKey": "{secret}"}}',
        "Access key ID,Secret access key\nAKIA{id},{secret}",
        "[default]\naws_access_key_id=ASIA{id}\naws_secret_access_key={secret}\n",
    ):
        add(
            "aws",
            "AWS access key id paired with its secret",
            template.format(id=rtext(string.ascii_uppercase + "234567", 16), secret=rtext(ALNUM + "/+", 40)),
        )
    for prefix in ("IQoJb3JpZ2luX2VjE", "FwoGZXIvYXdzE"):
        add("aws", f"AWS session token ({prefix[:8]}...)", prefix + rtext(ALNUM + "/+", 340) + "==")
    add("aws", "aws_session_token assignment", "aws_session_token = IQoJb3JpZ2luX2VjE" + rtext(ALNUM + "/+", 300))
    add("aws", "S3 presigned URL", f"https://b.s3.amazonaws.com/m.bin?X-Amz-Expires=60&X-Amz-Signature={rhex(32)}")
    # GCP.
    gcp_key = KEYS["rsa-2048"].private_bytes(PEM, PKCS8, NO).decode()
    sa = {
        "type": "service_account",
        "project_id": "ml-platform-prod",
        "private_key_id": rhex(20),
        "private_key": gcp_key,
        "client_email": "inference@ml-platform-prod.iam.gserviceaccount.com",
        "client_id": rtext(string.digits, 21),
    }
    add("gcp", "GCP service-account key file", json.dumps(sa, indent=2))
    add("gcp", "GCP service-account key file, base64", b64(json.dumps(sa).encode()))
    add("gcp", "GCP private_key member alone", '"private_key": ' + json.dumps(gcp_key))
    for _ in range(3):
        add("gcp", "Google API key", "AIza" + rtext(ALNUM + "-_", 35))
    add("gcp", "Google OAuth client secret", "GOCSPX-" + rtext(ALNUM + "-_", 28))
    add(
        "gcp",
        "GCS signed URL",
        f"https://storage.googleapis.com/b/o?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature={rhex(256)}",
    )
    # Azure.
    add(
        "azure",
        "Azure Storage connection string",
        f"DefaultEndpointsProtocol=https;AccountName=mlprod;AccountKey={b64(rbytes(64))};EndpointSuffix=core.windows.net",
    )
    add(
        "azure",
        "Azure Service Bus connection string",
        f"Endpoint=sb://ml-bus.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={b64(rbytes(32))}",
    )
    add(
        "azure",
        "Azure Event Hubs connection string",
        f"Endpoint=sb://eh.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey={b64(rbytes(32))};EntityPath=logs",
    )
    add(
        "azure",
        "Azure Cosmos DB connection string",
        f"AccountEndpoint=https://ml.documents.azure.com:443/;AccountKey={b64(rbytes(64))};",
    )
    add("azure", "Azure storage account key alone (88 characters)", b64(rbytes(64)))
    sig = base64.b64encode(rbytes(32)).decode().replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    add(
        "azure",
        "Azure SAS token",
        f"sv=2022-11-02&ss=b&srt=sco&sp=rwdlacupiytfx&se=2026-01-01T00:00:00Z&st=2025-01-01T00:00:00Z&spr=https&sig={sig}",
    )
    add("azure", "Azure SAS token with ?", f"?sv=2022-11-02&ss=b&srt=co&sp=r&se=2026-01-01&sig={sig}")
    add(
        "azure",
        "Azure blob SAS URL",
        f"https://mlprod.blob.core.windows.net/models/w.bin?sp=r&st=2025-01-01&se=2025-02-01&spr=https&sv=2022-11-02&sr=b&sig={sig}",
    )
    entra = string.ascii_letters + string.digits + "_~.-"
    for _ in range(6):
        add(
            "azure",
            "Entra ID (Azure AD) client secret (xxx8Q~..., 40 characters)",
            rtext(ALNUM, 3) + str(R.randrange(10)) + "Q~" + rtext(entra, 34),
        )
    add(
        "azure",
        "Entra ID client secret in an assignment",
        "AZURE_CLIENT_SECRET=" + rtext(ALNUM, 3) + "8Q~" + rtext(entra, 34),
    )
    # Database connection strings with passwords.
    pw = lambda: rtext(ALNUM, 16)  # noqa: E731
    for template in (
        "postgres://app:{pw}@db.internal:5432/features",
        "postgresql://svc_ml:{pw}@10.0.3.4/ml?sslmode=require",
        "mysql://root:{pw}@mysql.internal:3306/app",
        "mongodb+srv://ml:{pw}@cluster0.abcde.mongodb.net/?retryWrites=true",
        "redis://:{pw}@cache.internal:6379/0",
        "amqp://worker:{pw}@rabbit.internal:5672/",
        "jdbc:postgresql://db.internal:5432/app?user=app&password={pw}",
        "Server=tcp:ml.database.windows.net,1433;Database=ml;User ID=app;Password={pw};Encrypt=true;",
        "Data Source=db01;Initial Catalog=ml;User Id=sa;Pwd={pw};",
    ):
        add(
            "connection-string", template.split(":")[0] + " connection string with a password", template.format(pw=pw())
        )
    # Vendor tokens.
    for prefix in ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"):
        add("github", f"GitHub token {prefix}", prefix + rtext(ALNUM, 36))
    add("github", "GitHub fine-grained token", "github_pat_" + rtext(ALNUM, 22) + "_" + rtext(ALNUM, 59))
    for prefix in ("glpat-", "gldt-", "glrt-", "glptt-", "GR1348941"):
        add("gitlab", f"GitLab token {prefix}", prefix + rtext(ALNUM + "-_", 20))
    add("slack", "Slack bot token", f"xoxb-{R.randrange(10**12)}-{R.randrange(10**12)}-" + rtext(ALNUM, 24))
    add(
        "slack",
        "Slack user token",
        f"xoxp-{R.randrange(10**12)}-{R.randrange(10**12)}-{R.randrange(10**12)}-" + rhex(16),
    )
    add(
        "slack",
        "Slack app-level token",
        f"xapp-1-A{rtext(string.ascii_uppercase + string.digits, 10)}-{R.randrange(10**13)}-" + rhex(32),
    )
    add(
        "slack",
        "Slack webhook URL",
        "https://hooks.slack.com/services/T0" + rtext(ALNUM, 9) + "/B0" + rtext(ALNUM, 9) + "/" + rtext(ALNUM, 24),
    )
    for prefix in ("sk_live_", "sk_test_", "rk_live_", "whsec_"):
        add("stripe", f"Stripe {prefix}", prefix + rtext(ALNUM, 32))
    add("openai", "OpenAI project key", "sk-proj-" + b64url(rbytes(96)))
    add("openai", "OpenAI service-account key", "sk-svcacct-" + b64url(rbytes(96)))
    add("openai", "OpenAI admin key", "sk-admin-" + b64url(rbytes(60)))
    add("openai", "OpenAI legacy key", "sk-" + rtext(ALNUM, 20) + "T3BlbkFJ" + rtext(ALNUM, 20))
    add("anthropic", "Anthropic API key", "sk-ant-api03-" + b64url(rbytes(70)) + "AA")
    add("anthropic", "Anthropic admin key", "sk-ant-admin01-" + b64url(rbytes(70)) + "AA")
    add("huggingface", "Hugging Face token", "hf_" + rtext(string.ascii_letters, 34))
    add("huggingface", "Hugging Face organisation token", "api_org_" + rtext(string.ascii_letters, 34))
    add("groq", "Groq API key", "gsk_" + rtext(ALNUM, 52))
    add("cohere", "Cohere API key (40 characters, no prefix)", rtext(ALNUM, 40))
    add("cohere", "Cohere API key assignment", "COHERE_API_KEY=" + rtext(ALNUM, 40))
    add("mistral", "Mistral API key (32 characters, no prefix)", rtext(ALNUM, 32))
    add("replicate", "Replicate API token", "r8_" + rtext(ALNUM, 37))
    add("perplexity", "Perplexity API key", "pplx-" + rtext(ALNUM, 48))
    add("xai", "xAI API key", "xai-" + rtext(ALNUM, 80))
    add("deepseek", "DeepSeek API key", "sk-" + rhex(16))
    add("npm", "npm token", "npm_" + rtext(ALNUM, 36))
    add("pypi", "PyPI token", "pypi-AgEIcHlwaS5vcmc" + rtext(ALNUM + "-_", 60))
    add("sendgrid", "SendGrid API key", "SG." + rtext(ALNUM + "-_", 22) + "." + rtext(ALNUM + "-_", 43))
    add("vault", "HashiCorp Vault service token", "hvs." + rtext(ALNUM + "_-", 90))
    add("twilio", "Twilio API key secret", "SK" + rhex(16))
    add("databricks", "Databricks token", "dapi" + rhex(16))
    # JWTs and bearer tokens.
    for alg, payload in (
        ("HS256", {"sub": "svc-inference", "iat": 1718000000}),
        ("RS256", {"iss": "https://login.example.com", "aud": "kms", "exp": 1900000000}),
    ):
        header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
        token = f"{header}.{b64url(json.dumps(payload).encode())}.{b64url(rbytes(32 if alg == 'HS256' else 256))}"
        add("jwt", f"JWT {alg}", token)
        add("jwt", f"JWT {alg} in an Authorization header", f"Authorization: Bearer {token}")
    add("bearer", "opaque bearer token", "curl -H 'Authorization: Bearer " + b64url(rbytes(24)) + "' https://api")
    # Credential assignments.
    add("assignment", "password=", "password=" + rtext(ALNUM + "!#%", 14))
    add("assignment", "DB_PASSWORD env", "DB_PASSWORD=" + rtext(ALNUM, 12))
    add("assignment", "client_secret JSON", '{"client_id": "inference", "client_secret": "' + rtext(ALNUM, 30) + '"}')
    add("assignment", "api_key YAML", "api_key: " + rtext(ALNUM, 32))
    return out


# --- look-alikes ----------------------------------------------------------------------------------------

WORDS = """inference training model weights signing encryption logs tenant feature store vector embeddings
batch stream audit backup archive customer payments ledger export import gateway router cache session
metrics tracing billing invoices prompts datasets checkpoints registry artifacts pipeline scheduler
""".split()
REGIONS = ["eu-west-1", "us-east-1", "ap-southeast-2", "eu-central-1", "us-west-2"]


def name(parts: int = 3, sep: str = "-") -> str:
    return sep.join(R.choice(WORDS) for _ in range(parts))


def camel(parts: int = 4) -> str:
    return "".join(R.choice(WORDS).capitalize() for _ in range(parts)) + str(R.randrange(2020, 2027))


def account() -> str:
    return "".join(R.choice(string.digits) for _ in range(12))


def lookalikes() -> list[dict[str, str]]:
    out: list[dict[str, str]] = []

    def add(kind: str, source: str, value: str) -> None:
        out.append({"kind": kind, "source": source, "value": value})

    for _ in range(20):
        add("arn", "AWS KMS key ARN", f"arn:aws:kms:{R.choice(REGIONS)}:{account()}:key/{ruuid()}")
        add("arn", "AWS KMS multi-Region key ARN", f"arn:aws:kms:{R.choice(REGIONS)}:{account()}:key/mrk-{rhex(16)}")
        add("arn", "AWS KMS alias ARN", f"arn:aws:kms:{R.choice(REGIONS)}:{account()}:alias/{name()}")
        add(
            "arn",
            "Secrets Manager secret ARN",
            f"arn:aws:secretsmanager:{R.choice(REGIONS)}:{account()}:secret:prod/{name(2)}-{rtext(ALNUM, 6)}",
        )
        add("arn", "ACM certificate ARN", f"arn:aws:acm:{R.choice(REGIONS)}:{account()}:certificate/{ruuid()}")
    for _ in range(10):
        add("arn", "IAM role ARN", f"arn:aws:iam::{account()}:role/{name(2)}")
        add(
            "arn",
            "CloudHSM cluster ARN",
            f"arn:aws:cloudhsm:{R.choice(REGIONS)}:{account()}:cluster/cluster-{rtext(string.ascii_lowercase + string.digits, 11)}",
        )
        add("kms-id", "AWS KMS key id", ruuid())
        add("kms-id", "AWS KMS multi-Region key id", f"mrk-{rhex(16)}")
        add("kms-id", "AWS access key id alone (an identifier)", "AKIA" + rtext(string.ascii_uppercase + "234567", 16))
    for _ in range(20):
        vault = name(2)
        add(
            "azure",
            "Azure Key Vault key URL with version",
            f"https://{vault}.vault.azure.net/keys/{name(2)}/{rhex(16)}",
        )
        add(
            "azure",
            "Azure Key Vault kid in JSON",
            json.dumps({"kid": f"https://{vault}.vault.azure.net/keys/{name(2)}/{rhex(16)}"}),
        )
        add("azure", "Managed HSM key URL", f"https://{vault}.managedhsm.azure.net/keys/{name(2)}/{rhex(16)}")
        add(
            "azure",
            "Azure resource id",
            f"/subscriptions/{ruuid()}/resourceGroups/rg-{name(2)}/providers/Microsoft.KeyVault/vaults/{vault}",
        )
        add(
            "azure",
            "Azure Key Vault secret id (the reference, not the value)",
            f"https://{vault}.vault.azure.net/secrets/{name(2)}/{rhex(16)}",
        )
    for _ in range(20):
        project = name(2)
        add(
            "gcp",
            "GCP CryptoKey resource name",
            f"projects/{project}/locations/{R.choice(['global', 'europe-west4', 'us-central1'])}/keyRings/{name(1)}/cryptoKeys/{name(2)}",
        )
        add(
            "gcp",
            "GCP CryptoKeyVersion resource name",
            f"projects/{project}/locations/global/keyRings/{name(1)}/cryptoKeys/{name(2)}/cryptoKeyVersions/{R.randrange(1, 40)}",
        )
        add("gcp", "GCP service account", f"serviceAccount:{name(1)}@{project}.iam.gserviceaccount.com")
    for _ in range(15):
        digest = rbytes(32)
        add(
            "fingerprint",
            "SHA-256 fingerprint, colon hex (openssl x509 -fingerprint)",
            "SHA256 Fingerprint=" + ":".join(f"{b:02X}" for b in digest),
        )
        add("fingerprint", "SHA-256 fingerprint, colon hex", ":".join(f"{b:02x}" for b in rbytes(32)))
        add("fingerprint", "sha256:<hex> digest", "sha256:" + rhex(32))
        add("fingerprint", "SSH fingerprint SHA256:<base64>", "SHA256:" + b64(rbytes(32)).rstrip("="))
        add("fingerprint", "labelled hex fingerprint", "fingerprint: " + rhex(32))
        add("fingerprint", "JWK x5t#S256 thumbprint", json.dumps({"x5t#S256": b64url(rbytes(32))}))
        add("fingerprint", "HPKP pin", f'pin-sha256="{b64(rbytes(32))}"')
        add("fingerprint", "OCI image digest", f"registry.example.com/ml/{name(1)}@sha256:{rhex(32)}")
    for _ in range(20):
        add("linehash", "lineHash= (Quantum Safe Explorer / cbomkit occurrence)", f"lineHash={rhex(32)}")
        add("bom-ref", "CycloneDX bom-ref, UUID", ruuid())
        add("bom-ref", "CycloneDX bom-ref, urn:uuid", f"urn:uuid:{ruuid()}")
        add("bom-ref", "CycloneDX bom-ref, hash-like (sha256:)", f"crypto/key/{name(1)}@sha256:{rhex(32)}")
        add(
            "bom-ref",
            "CycloneDX bom-ref, algorithm path",
            f"crypto/algorithm/{R.choice(['aes-256-gcm', 'rsa-2048', 'ecdsa-p256', 'ml-kem-768', 'sha-256'])}@{R.choice(['2.16.840.1.101.3.4.1.46', '1.2.840.113549.1.1.1', '1.2.840.10045.4.3.2'])}",
        )
        add(
            "bom-ref",
            "CycloneDX occurrence location with line hash",
            f"src/main/java/com/example/{camel(2)}.java#L{R.randrange(1, 900)} lineHash={rhex(32)}",
        )
    for _ in range(12):
        add("cert-file", "CA file named after a hash", f"ca-{rhex(8)}.pem")
        add("cert-file", "CA file named after a 128-bit hash", f"/etc/pki/ca-trust/ca-{rhex(16)}.pem")
        add("cert-file", "OpenSSL subject-hash link", f"/etc/ssl/certs/{rhex(4)}.{R.randrange(0, 3)}")
        add("cert-file", "certificate named after its SHA-256", f"{rhex(32)}.crt")
    for cn in (
        "GeoTrust_Global_CA.pem",
        "DigiCert_Global_Root_G2.pem",
        "ISRG_Root_X1.pem",
        "/etc/ssl/certs/ca-certificates.crt",
        "Amazon_Root_CA_1.pem",
        "/usr/share/ca-certificates/mozilla/Baltimore_CyberTrust_Root.crt",
    ):
        add("cert-file", "CA bundle file name", cn)
    # Public keys in every form.
    for name_, key in KEYS.items():
        public = key.public_key()
        spki = public.public_bytes(DER, SPKI)
        add("public-key", f"PEM public key, {name_}", public.public_bytes(PEM, SPKI).decode())
        add("public-key", f"base64 SubjectPublicKeyInfo, {name_}", b64(spki))
        add("public-key", f"hex SubjectPublicKeyInfo, {name_}", spki.hex())
        add("public-key", f"first 100 base64 characters of a SubjectPublicKeyInfo, {name_}", b64(spki)[:100])
        if not name_.startswith("x"):
            add(
                "certificate",
                f"PEM certificate, {name_} key",
                certificate(public, f"{name_}.example.com").public_bytes(PEM).decode(),
            )
            add(
                "certificate",
                f"base64 DER certificate, {name_} key",
                b64(certificate(public, f"{name_}.example.com").public_bytes(DER)),
            )
        if name_.startswith(("rsa", "ec-p", "ed25519")):
            line = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
            add("ssh-public-key", f"OpenSSH public key line, {name_}", f"{line} ops@bastion")
            add("ssh-public-key", f"base64 SSH public key blob, {name_}", line.split()[1])
            add(
                "ssh-public-key",
                f"authorized_keys line with options, {name_}",
                f'from="10.0.0.0/8",no-pty {line} deploy@ci',
            )
        if name_.startswith(("rsa", "ec", "ed", "x")):
            add(
                "jwk",
                f"public JWK, {name_}",
                json.dumps(public_jwk(jwk_private(name_, key)) | {"kid": name(2), "use": "sig"}),
            )
    add(
        "public-key",
        "PKCS#1 RSA public key PEM",
        KEYS["rsa-2048"].public_key().public_bytes(PEM, serialization.PublicFormat.PKCS1).decode(),
    )
    add(
        "jwk",
        "public JWKS",
        json.dumps({"keys": [public_jwk(jwk_private(n, KEYS[n])) for n in ("rsa-2048", "ec-p256", "ed25519")]}),
    )
    add(
        "certificate",
        "certificate request PEM",
        csr(KEYS["ed25519"], "inference.example.com").public_bytes(PEM).decode(),
    )
    add(
        "certificate",
        "certificate chain (two PEM certificates)",
        "".join(certificate(KEYS[n].public_key(), n).public_bytes(PEM).decode() for n in ("ec-p256", "rsa-2048")),
    )
    add(
        "public-key",
        "EC parameters PEM",
        "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----",
    )
    for _ in range(15):
        add("uuid", "UUID", ruuid())
        add("uuid", "UUID in text", f"Key id {ruuid()} in tenant t-{R.randrange(100)}")
        add("git", "git commit URL", f"https://github.com/example/{name(1)}/commit/{rhex(20)}")
        add("git", "git tree URL", f"https://gitlab.example.com/ml/{name(1)}/-/tree/{rhex(20)}/src")
    for _ in range(30):
        add("name", "long camel-case name", camel(R.randrange(3, 6)))
        add("name", "long kebab-case name", name(R.randrange(3, 7)))
    for _ in range(10):
        add("name", "long snake-case constant", name(R.randrange(3, 6), "_").upper())
        add("vault", "Vault transit key path", f"transit/keys/{name(2)}")
        add("vault", "Vault KV path", f"secret/data/{name(1)}/{name(2)}")
        add("vault", "Vault reference in text", f"The password is in Vault at kv/{name(1)}/{name(2)}, never here.")
    for text in (
        "Encrypts inference request logs for the EU tenants since 2024-03-01; rotated every 365 days.",
        "Password: stored in Vault, never in this inventory.",
        "The API key is kept in AWS Secrets Manager (secret name: prod/inference/openai).",
        "token_url=https://login.example.com/oauth2/token",
        "api_key=${OPENAI_API_KEY}",
        "client_secret: ********",
        "password-rotation-days=90",
        "Base64-encoded DEKs are stored next to the ciphertext (envelope encryption).",
        "Bearer tokens are issued by the gateway, never stored here.",
        "pkcs11:token=nw-sign-01;object=model-artifact-signing;type=private",
        "ECDSA P-256 / SHA-256",
        "RSA_4096 with RSAES_OAEP_SHA_256",
        "AES-256-GCM",
        "ml-platform@example.com",
        "Model: meta-llama/Meta-Llama-3-8B-Instruct fine-tuned on 2024-06-01",
        "sk-learn pipeline for the fraud model (scikit-learn 1.5)",
        "age1 recipient keys only; identities are on the HSM",
        "The Entra ID app registration holds no client secret (federated credentials).",
        "x-amz-server-side-encryption: aws:kms",
        "Signed with key 0x7A3F (GPG), fingerprint in the wiki",
    ):
        add("text", "ordinary text", text)
    # Class names from real CBOMs' evidence locations (cbomkit's Keycloak scans): acronyms and short parts.
    for text in (
        "BCFIPSEcdhEsAlgorithmProvider",
        "EcdhEsAlgorithmProvider",
        "crypto/fips1402/src/main/java/org/keycloak/crypto/fips/BCFIPSEcdhEsAlgorithmProvider.java",
        "JWKSHttpUtilsProviderFactory",
        "AesCbcHmacShaContentEncryptionProvider",
    ):
        add("name", "class name from a CBOM evidence location", text)
    return out


def main() -> None:
    for file_name, entries in (("secrets.json", secrets()), ("lookalikes.json", lookalikes())):
        (HERE / file_name).write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n")
        print(f"{file_name}: {len(entries)} entries")


if __name__ == "__main__":
    main()
