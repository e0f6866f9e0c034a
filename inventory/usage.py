"""What a key's native platform usage allows: the cryptographic functions a purpose may have for a key whose
store says it is, for example, ``SIGN_VERIFY``.

``Key.platform_usage`` holds the platform's own words, as the importers read them: AWS ``KeyUsage``, GCP
``purpose``, the Azure ``keyOps`` list, the operations a Vault transit key supports. Several words are
separated by commas. This table is the one place that says which purposes they are compatible with; the
import preview and the AG-1 check both ask it.
"""

from __future__ import annotations

from inventory.models import CryptoFunction as F

_ENCRYPTION = frozenset({F.ENCRYPTION, F.KEY_WRAPPING, F.KEY_DERIVATION, F.TLS})
_SIGNING = frozenset({F.SIGNING, F.AUTHENTICATION, F.TLS})
_MAC = frozenset({F.MAC, F.AUTHENTICATION, F.KEY_DERIVATION})
_AGREEMENT = frozenset({F.KEY_AGREEMENT, F.TLS})

# Lower-cased platform word -> the functions it allows.
USAGE_FUNCTIONS: dict[str, frozenset[str]] = {
    # AWS KMS KeyUsage and GCP Cloud KMS CryptoKey purpose
    "encrypt_decrypt": _ENCRYPTION,
    "raw_encrypt_decrypt": _ENCRYPTION,
    "asymmetric_decrypt": _ENCRYPTION,
    "sign_verify": _SIGNING,
    "asymmetric_sign": _SIGNING,
    "generate_verify_mac": _MAC,
    "mac": _MAC,
    "key_agreement": _AGREEMENT,
    "key_encapsulation": frozenset({F.KEY_WRAPPING, F.KEY_AGREEMENT, F.TLS}),
    "encapsulate_decapsulate": frozenset({F.KEY_WRAPPING, F.KEY_AGREEMENT, F.TLS}),  # AWS ML-KEM keys
    # Azure Key Vault keyOps and HashiCorp Vault transit capabilities
    "encrypt": _ENCRYPTION,
    "decrypt": _ENCRYPTION,
    "wrapkey": frozenset({F.KEY_WRAPPING}),
    "unwrapkey": frozenset({F.KEY_WRAPPING}),
    "sign": _SIGNING,
    "verify": _SIGNING,
    "import": frozenset(),
    "export": frozenset(),
    "release": frozenset(),
    "derive": frozenset({F.KEY_DERIVATION}),
    "hmac": _MAC,
    "cmac": _MAC,
}


def usage_words(platform_usage: str) -> list[str]:
    return [word.strip() for word in platform_usage.replace(";", ",").split(",") if word.strip()]


def usage_functions(platform_usage: str) -> frozenset[str] | None:
    """The functions the platform usage allows, or None when it says nothing we know (empty, or only words
    not in the table): then no conflict can be shown."""
    known = [USAGE_FUNCTIONS[word.lower()] for word in usage_words(platform_usage) if word.lower() in USAGE_FUNCTIONS]
    if not known:
        return None
    return frozenset().union(*known)


def usage_conflict(platform_usage: str, function: str) -> str | None:
    """Why a purpose of ``function`` contradicts ``platform_usage``, or None when it does not (or cannot say)."""
    allowed = usage_functions(platform_usage)
    if allowed is None or function in allowed:
        return None
    names = ", ".join(sorted(F(value).label.lower() for value in allowed)) or "no cryptographic function"
    return f"the platform usage {platform_usage} allows {names}; the purpose is for {F(function).label.lower()}"
