"""The detection engine behind :mod:`cek.keymaterial` (its docstring states the rules and the decisions)."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from functools import lru_cache

from cek.keymaterial import publickeys

_MIN_LENGTH = 8  # "pwd=abcd": nothing shorter can hold a secret worth flagging


@dataclass(frozen=True)
class _Signature:
    needles: tuple[str, ...]  # the pattern runs only when one of these is in the text: most text has none
    pattern: re.Pattern[str]
    reason: str
    random_tail: bool = False  # group "tail" must also look random (the prefix is shared with words)


def _sig(needles: str, pattern: str, reason: str, *, random_tail: bool = False) -> _Signature:
    return _Signature(tuple(needles.split()), re.compile(pattern), reason, random_tail)


# Checked in order; the first match wins. Each pattern starts with a literal or a lookbehind, so the regex
# engine never rescans a long run from every position inside it.
_SIGNATURES: list[_Signature] = [
    _sig("BEGIN", r"-----BEGIN (?:[A-Z0-9]+ ){0,4}PRIVATE KEY(?: BLOCK)?-----", "a PEM private key block"),
    _sig("BEGIN", r"\bBEGIN (?:[A-Z0-9]+ ){0,4}PRIVATE KEY\b", "a private key (a PEM header without its dashes)"),
    _sig("PuTTY", r"PuTTY-User-Key-File-\d", "a PuTTY private key"),
    _sig("b3BlbnNzaC1rZXktdjE", r"b3BlbnNzaC1rZXktdjE", "an OpenSSH private key (its base64 body)"),
    _sig("AGE-SECRET-KEY-", r"AGE-SECRET-KEY-1[0-9A-Z]{20,}", "an age secret key"),
    _sig(
        '"type" "private_key',
        r'"type"\s*:\s*"service_account"|"private_key(?:_id)?"\s*:',
        "a Google Cloud service-account key file",
    ),
    _sig("eyJ", r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*", "a JSON Web Token"),
    _sig(
        "ghp_ gho_ ghu_ ghs_ ghr_ github_pat_",
        r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})",
        "a GitHub token",
    ),
    _sig(
        "glpat- gldt- glrt- glptt- glft- glimt- glagent- gloas- glcbt- glsoat- GR1348941",
        r"(?<![A-Za-z0-9_-])(?:gl(?:pat|dt|rt|ptt|ft|imt|agent|oas|cbt|soat)-|GR1348941)[A-Za-z0-9_-]{20,}",
        "a GitLab token",
    ),
    _sig("xox xapp-", r"(?<![A-Za-z0-9_-])(?:xox[abposre]|xapp)-[A-Za-z0-9-]{10,}", "a Slack token"),
    _sig(
        "hooks.slack.com",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{20,}",
        "a Slack webhook URL (its path is a secret)",
    ),
    _sig(
        "sk-",
        r"(?<![A-Za-z0-9_-])sk-(?:ant-|proj-|svcacct-|admin-|or-)?(?P<tail>[A-Za-z0-9_-]{20,})",
        "an API secret key (OpenAI/Anthropic style)",
        random_tail=True,
    ),
    _sig(
        "k_live_ k_test_ whsec_",
        r"(?<![A-Za-z0-9_])(?:[rs]k_(?:live|test)_|whsec_)[A-Za-z0-9]{16,}",
        "a Stripe secret key",
    ),
    _sig("AIza", r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}", "a Google API key"),
    _sig("GOCSPX-", r"(?<![A-Za-z0-9_-])GOCSPX-[A-Za-z0-9_-]{20,}", "a Google OAuth client secret"),
    _sig("hf_ api_org_", r"(?<![A-Za-z0-9_])(?:hf|api_org)_[A-Za-z0-9]{30,}", "a Hugging Face token"),
    _sig("gsk_", r"(?<![A-Za-z0-9_])gsk_[A-Za-z0-9]{40,}", "a Groq API key"),
    _sig("r8_", r"(?<![A-Za-z0-9_])r8_[A-Za-z0-9]{30,}", "a Replicate API token"),
    _sig("pplx-", r"(?<![A-Za-z0-9_-])pplx-[A-Za-z0-9]{40,}", "a Perplexity API key"),
    _sig("xai-", r"(?<![A-Za-z0-9_-])xai-[A-Za-z0-9]{60,}", "an xAI API key"),
    _sig("npm_", r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}", "an npm token"),
    _sig("pypi-AgE", r"(?<![A-Za-z0-9_-])pypi-AgE[A-Za-z0-9_-]{40,}", "a PyPI token"),
    _sig("SG.", r"(?<![A-Za-z0-9_.-])SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}", "a SendGrid API key"),
    _sig("hvs. hvb. hvr.", r"(?<![A-Za-z0-9_.-])hv[sbr]\.[A-Za-z0-9_-]{20,}", "a HashiCorp Vault token"),
    _sig(
        "IQoJb3JpZ2luX2 FwoGZXIvYXdz",
        r"(?<![A-Za-z0-9+/])(?:IQoJb3JpZ2luX2|FwoGZXIvYXdz)[A-Za-z0-9+/]{40,}",
        "an AWS session token",
    ),
    # An Entra ID (Azure AD) client secret: 3 characters, a digit, "Q~", then 31 to 34 characters.
    _sig(
        "Q~",
        r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])",
        "an Azure AD (Entra ID) client secret",
    ),
    _sig("earer", r"\b[Bb]earer[ \t]+(?P<tail>[A-Za-z0-9._~+/-]{16,})", "a bearer token", random_tail=True),
    _sig(
        "sig= SIG= Signature= SIGNATURE= signature= Security-Token= SECURITY-TOKEN= security-token=",
        r"(?i)(?:^|[?&])(?:sig|x-amz-signature|x-amz-security-token|x-goog-signature)=[^&\s]{16,}",
        "a signed URL or SAS token (its signature grants access)",
    ),
]
_ANY_NEEDLE = re.compile("|".join(sorted({re.escape(n) for sig in _SIGNATURES for n in sig.needles}, key=len)[::-1]))

# ---------------------------------------------------------------------------------------------------------
# Credential assignments: name = value, name: value, "name": "value".

_ASSIGNMENT = re.compile(r"(?<![A-Za-z0-9_.:/-])([A-Za-z0-9_.-]{2,128})[\"']?[ \t]*([:=])(?![=>/])[ \t]*([\"']?)")
_URL_PASSWORD = re.compile(r"://[^\s/:@]{0,256}:([^\s/@]{1,256})@")
_SECRET_HINT = re.compile(r"(?i)pass|pwd|secret|token|key|cred|pin")
_NAME_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_VALUE = re.compile(r"[^\s\"'`,;&)]{1,256}")
_LINE_END = re.compile(r"[.!?)\]]*[ \t]*(?:\r?\n|$)")

_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "apikey",
        "credential",
        "credentials",
        "pin",
    }
)
# "<word> key" names that always mean the secret itself (AccountKey is Azure Storage's).
_SECRET_KEY_QUALIFIERS = frozenset({"api", "private", "access", "secret", "account", "shared"})
# A last name part that makes the name about the secret, not the secret: secret_arn, token_url, ...
_ABOUT_THE_SECRET = frozenset(
    """id ids name names arn arns url urls uri path paths ref refs reference file files version versions type
    types length len size bits rotation rotated policy policies manager store stores vault endpoint expiry
    expires expiration created updated hint owner owners count age ttl format algorithm alg spec usage label
    labels kind header days hours period interval location source provider backend engine mount role roles
    scope scopes enabled required set present status state rules strength min max fingerprint kid issuer
    audience lifetime prefix""".split()
)
_DIGEST_PARTS = frozenset({"sha", "md", "hash", "digest", "fingerprint", "thumbprint", "checksum"})
_NOT_A_VALUE = frozenset(
    """none null nil n/a na empty redacted removed hidden masked unset unknown tbd todo required optional true
    false yes no stored managed rotated external vault auto generated random default disabled enabled omitted
    placeholder example see""".split()
)
_REFERENCE_PREFIXES = (
    "arn:", "alias/", "projects/", "secret/", "secrets/", "kv/", "vault:", "vault/", "http://", "https://",
    "s3://", "gs://", "op://", "ssm:", "env:", "file:", "ref:", "keyvault:", "azurekeyvault:", "/", "./",
)  # fmt: skip


# What a "%" begins in a placeholder: %(password)s, %DB_PASSWORD%, %{PASSWORD}, %s. A password may begin with "%" too.
_PERCENT_PLACEHOLDER = re.compile(r"%(?:\([A-Za-z_][\w.]*(?:\)[sdr])?|[A-Za-z_][\w.]*%|\{[^}]*\}?|[sd])")


def _is_placeholder(value: str) -> bool:
    """``$DB_PASSWORD``, ``<redacted>``, ``********``, ``none``, ``%DB_PASSWORD%``, or a pointer to where the secret
    lives."""
    lowered = value.lower().rstrip(".")
    return (
        len(lowered) < 4
        or lowered[0] in "$<{[(*"
        or (lowered[0] == "%" and _PERCENT_PLACEHOLDER.fullmatch(lowered) is not None)
        or len(set(lowered)) == 1
        or lowered in _NOT_A_VALUE
        or lowered.startswith(_REFERENCE_PREFIXES)
    )


@lru_cache(maxsize=1024)
def _names_a_secret(name: str) -> str | None:
    """The kind of secret a setting name names (``DB_PASSWORD``, ``clientSecret``), or None."""
    parts = [part.lower() for part in _NAME_PARTS.findall(name)]
    if not parts or parts[-1] in _ABOUT_THE_SECRET or parts[0] in {"is", "has", "no", "use", "allow"}:
        return None
    if _DIGEST_PARTS.intersection(parts):
        return None  # pin-sha256, keyHash, token_digest: a digest of the secret, not the secret
    joined = "".join(parts)
    if "secretaccesskey" in joined:
        return "an AWS secret access key"
    if any(part in _SECRET_WORDS for part in parts):
        return "a credential (a password, secret or token given a value)"
    if parts[-1] == "key" and len(parts) > 1 and parts[-2] in _SECRET_KEY_QUALIFIERS:
        return "a credential (a password, secret or token given a value)"
    return None


def _assignment_reason(name: str, value: str) -> str | None:
    """``name`` holds a secret and ``value`` is not a placeholder: a field or label called ``password``."""
    reason = _names_a_secret(name)
    if reason and not _is_placeholder(value.strip()):
        return reason
    return None


def _in_pkcs11_uri(text: str, position: int) -> bool:
    start = text.rfind("pkcs11:", 0, position)
    return start != -1 and not any(ch.isspace() for ch in text[start:position])


def _find_assignment(text: str) -> str | None:
    if "://" in text:
        for match in _URL_PASSWORD.finditer(text):
            if not _is_placeholder(match.group(1)):
                return "a URL with an embedded password"
    if ":" not in text and "=" not in text:
        return None
    for match in _ASSIGNMENT.finditer(text):
        name, quote, start = match.group(1), match.group(3), match.end()
        if quote:
            end = text.find(quote, start, start + 257)
            value = text[start:end] if end != -1 else ""
        else:
            found = _VALUE.match(text, start)
            value = found.group() if found else ""
        if len(value) < 4 or not _SECRET_HINT.search(name):
            continue
        if name.lower() == "token" and _in_pkcs11_uri(text, match.start()):
            continue  # RFC 7512: pkcs11:token=<label> names the HSM token (the PIN attribute is pin-value)
        reason = _names_a_secret(name)
        if not reason or _is_placeholder(value):
            continue
        if match.group(2) == ":" and not quote:
            # "Password: stored in Vault" is prose; "password: hunter2" and a last word are not.
            password_like = not value.isalpha() and not value.isdigit()
            if not password_like and not _LINE_END.match(text, start + len(value)):
                continue
        return reason
    return None


# ---------------------------------------------------------------------------------------------------------
# Identifiers and fingerprints that look like hex or base64 but are not material. When a token check fires,
# they are blanked out and the checks run again, so they cost nothing on the common path.

# Separate patterns: one alternation of them all is three times slower on a megabyte of base64.
_IDENTIFIERS = tuple(
    re.compile(pattern)
    for pattern in (
        r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![0-9A-Fa-f])",
        r"(?<![A-Za-z0-9])mrk-[0-9a-f]{32}(?![0-9a-f])",
        r"(?<=/)(?:[0-9A-Fa-f]{40}|[0-9A-Fa-f]{32})(?![A-Za-z0-9+=_-])",
        # A digest labelled with its algorithm (sha256:..., pin-sha256="...").
        r"(?i:(?<![A-Za-z0-9])(?:sha-?(?:1|224|256|384|512)|sha3-(?:224|256|384|512)|md5|blake2[bs]?|blake3)"
        r"[\"']?[:=][ \t]*[\"']?[A-Za-z0-9+/_-]{16,}={0,2})",
        # A Secrets Manager secret's name in its ARN: the name and the random 6-character suffix AWS adds.
        r"(?<=:secret:)[A-Za-z0-9/_+=.@-]{1,512}-[A-Za-z0-9]{6}(?![A-Za-z0-9])",
        # A certificate file named after its hash (ca-<hex>.pem, <subject hash>.0).
        r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{16,128}(?=\.(?:pem|crt|cer|der|p7b|p7c|csr|pub|crl|[0-9])\b)",
    )
)

# A value labelled as a fingerprint, hash, digest or thumbprint (lineHash=..., "x5t#S256": "...", Fingerprint:
# ...). Found from the separator, a rare character, and the label then read backwards: a case-insensitive
# label tried at every position of a megabyte of base64 would cost most of a second.
_LABELLED_VALUE = re.compile(r"[:=][ \t]*[\"']?[A-Za-z0-9+/_-]{16,}={0,2}")
_DIGEST_LABEL = re.compile(r"(?i)(?:fingerprint|thumbprint|hash|digest|checksum|etag|x5t(?:#s256)?)[\"']?[ \t]*\Z")


def _mask_labelled_digest(match: re.Match[str]) -> str:
    before = match.string[max(0, match.start() - 24) : match.start()]
    return " " if _DIGEST_LABEL.search(before) else match.group()


_HEX_RUN = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32,}(?![0-9A-Fa-f])")
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_B64_TOKEN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{20,}(?:={1,2}(?![A-Za-z0-9+/_=-]))?")
_WRAPPED_B64 = re.compile(
    r"(?<![A-Za-z0-9+/])(?:[A-Za-z0-9+/]{40,128}[ \t]*\r?\n[ \t]*)+[A-Za-z0-9+/]{4,128}={0,2}(?![A-Za-z0-9+/=])"
)
_WHITESPACE = re.compile(r"\s+")

# Decoded lengths of common symmetric keys and HMAC secrets: 128, 160, 192, 256, 384, 512 bits.
_KEY_BYTES = frozenset({16, 20, 24, 32, 48, 64})
_MIN_KEY_BYTES = 16  # a 128-bit key: random binary this long or longer may be one, or hold one
_BLOB_BYTES = 96  # at or above this, a binary blob is called a key blob (PKCS#8, DER) in the message
_RANDOMNESS_WINDOW = 512  # characters of a long token looked at to tell a word from random

# The 250 most frequent letter pairs in English text. Names are made of words, and words of these pairs;
# random base64 hits them by chance about a third of the time.
_COMMON_PAIRS = frozenset(
    """th he in er an re on at en nd ti es or te of ed is it al ar st to nt ng se ha as ou io le ve co me de
    hi ri ro ic ne ea ra ce li ch ll be ma si om ur ca el ta la ns di fo ho pe ec pr no ct us ac ot il tr ly
    nc et ut ss so rs un lo wa ge ie wh ee wi em ad ol rt po we na ul ni ts mo ow pa im mi ai sh ir su id os
    iv ia am fi ci vi pl ig tu ev ld ry mp fe bl ab gh ty op wo sa ay ex ke fr oo av ag if ap gr od bo sp rd
    do uc bu ei ov by rm ep tt oc fa ef cu rn sc gi da yo cr cl du ga qu ue ff ba ey ls va um pp ua up lu go
    ht ru ug ds lt pi rc rr eg au ck ew mu br bi pt ak pu ui rg ib tl ny ki rk ys ob mm fu ph og ms ye ud mb
    ip ub oi rl gu dr hr cc tw ft wn nu af hu nn eo vo rv nf xp gn sm fl iz ok nl my gl aw ju oa eq sy sl ps
    jo lf nv je nk kn gs dy hy ze ks xt bs ik dd cy rp sk xi oe oy ws lv dl rf eu dg wr xa yi nm eb rb tm xc
    eh tc gy ja hn yp za""".split()
)
_WORDLIKE_SHARE = 0.75  # random 32-byte base64 reaches it about once in a million, 16-byte once in 20,000


_NOT_TEXT = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@lru_cache(maxsize=4096)
def _is_short_word(lowered: str) -> bool:
    common = sum(lowered[i : i + 2] in _COMMON_PAIRS for i in range(len(lowered) - 1))
    return 3 * common >= 2 * (len(lowered) - 1)


def _is_word(part: str) -> bool:
    if part.isdigit():
        return len(part) >= 3  # years, account numbers, versions
    if len(part) < 3:
        return False
    if len(part) > 12:  # only short fragments are cached: a long one may be somebody's passphrase
        return _is_short_word.__wrapped__(part.lower())
    return _is_short_word(part.lower())


def _looks_random(token: str) -> bool:
    """Random keys mix upper case, lower case and digits in short, unpronounceable segments; names and
    identifiers (``InferenceLogEncryptionKey2024Prod``, ``keyRings/ml/cryptoKeys/x``) are mostly words."""
    sample = token[:_RANDOMNESS_WINDOW]
    if sample.lower() == sample or sample.upper() == sample:
        # A slug or an ALL_CAPS constant. Random base64 of 16 bytes or more lacks a case about once in 100,000.
        return False
    parts = _NAME_PARTS.findall(sample)
    letters = sum(map(len, parts))
    if letters < 16:
        return False
    wordy = sum(len(part) for part in parts if _is_word(part))
    return wordy < _WORDLIKE_SHARE * letters


_CAMEL_PART = re.compile(r"[A-Z]{2,}(?![a-z])|[A-Z][a-z]+|[a-z]{2,}")


def _is_camel_case_name(token: str) -> bool:
    """Letters only, in camel-case parts of two letters or more (acronyms included) averaging four or more
    letters, half of them in word-like parts: a type or class name. Random base64 switches case every other
    character or so: 2 of 10^6 random tokens of 17 to 47 bytes read this way (``secrets.token_urlsafe``), and
    only lengths that are no common key size get here."""
    if not token.isalpha():
        return False
    parts = _CAMEL_PART.findall(token)
    if sum(map(len, parts)) != len(token) or len(token) < 4 * len(parts):
        return False
    return 2 * sum(len(part) for part in parts if _is_word(part)) >= len(token)


def _decode_b64(token: str) -> bytes | None:
    core = token.rstrip("=")
    if len(core) % 4 == 1:
        core = core[:-1]  # a fragment cut at any length still decodes up to its last whole byte
    if "-" in core or "_" in core:
        if "+" in core or "/" in core:
            return None  # mixes the two alphabets: not base64
        altchars: bytes | None = b"-_"
    else:
        altchars = None
    try:
        return base64.b64decode(core + "=" * (-len(core) % 4), altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None


def _readable_text(raw: bytes) -> str | None:
    if len(raw) < _MIN_LENGTH or _NOT_TEXT.search(raw):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.isascii() or text.isprintable() or text.replace("\n", "").isprintable() else None


def _judge_structure(raw: bytes) -> str | None:
    """PUBLIC, a private-key reason, or None, for binary that is DER or an SSH blob (whole or a prefix)."""
    if raw[:1] == b"\x30":
        return publickeys.classify_der(raw)
    if raw[:3] == b"\x00\x00\x00" or raw[:1] == b"o":
        return publickeys.classify_ssh_blob(raw)
    return None


_PUBLIC = "public"  # _judge_b64's verdict for a public key or certificate: neither it nor its pieces are judged


def _judge_b64(token: str, depth: int, *, piece: bool = False) -> str | None:
    """Why a base64 token is key material, :data:`_PUBLIC`, or None. A ``piece`` cut from a longer token (a
    path, a name) is refused only at a key's exact length or as a long blob: a name's last part is often a
    short random suffix (``prod/db-AbCdEf``)."""
    raw = _decode_b64(token)
    if raw is None:
        return None
    text = _readable_text(raw)
    if text is not None:
        # Encoded text is judged by what it says: a base64'd PEM or service-account file is still one.
        inner = _find(text, depth + 1) if depth < 1 else None
        return f"base64-encoded text holding {inner}" if inner else None
    if len(raw) < _MIN_KEY_BYTES:
        return None
    structure = _judge_structure(raw)
    if structure == publickeys.PUBLIC:
        return _PUBLIC
    if structure:
        return f"{structure}, base64-encoded"
    if not token.endswith("=") and not _looks_random(token):
        return None
    if len(raw) in _KEY_BYTES:
        return f"a base64-encoded {len(raw) * 8}-bit secret"
    if len(raw) >= _BLOB_BYTES:
        return "a base64-encoded key blob"
    if piece:
        return None
    if len(token) == 40 and "-" not in token and "_" not in token:
        return "an AWS secret access key"  # 40 characters of [A-Za-z0-9/+]: its shape, checked before the length
    if _is_camel_case_name(token):
        return None  # BCFIPSEcdhEsAlgorithmProvider: a class name, at no key's length
    return f"{len(raw)} random bytes in base64 (enough to hold a key)"


_PIECE_SPLITTERS = (re.compile(r"/"), re.compile(r"[-_]"))


def _judge_token(token: str, depth: int) -> str | None:
    reason = _judge_b64(token, depth)
    if reason == _PUBLIC:
        return None
    if reason or len(token) <= 22:
        return reason
    # A key glued to a path or a name ("secret/app/<key>", "prod-<key>"): judge the pieces.
    for splitter in _PIECE_SPLITTERS:
        if splitter.search(token):
            for piece in splitter.split(token):
                if len(piece) >= 20 and piece != token:
                    reason = _judge_b64(piece, depth, piece=True)
                    if reason and reason != _PUBLIC:
                        return reason
    return None


def _scan_tokens(text: str, depth: int) -> str | None:
    """Hex runs, AWS secret keys and base64 of key length, anywhere in ``text``."""
    if "\n" in text:
        for match in _WRAPPED_B64.finditer(text):
            reason = _judge_b64(_WHITESPACE.sub("", match.group()), depth)
            if reason == _PUBLIC:
                text = text.replace(match.group(), " ")  # its lines are not judged one by one below
            elif reason:
                return reason
    for match in _HEX_RUN.finditer(text):
        run = match.group()
        # Not a decimal number, nor "aaaa..." or "deadbeef" repeated.
        if not run.isdigit() and len(set(run[:_RANDOMNESS_WINDOW].lower())) >= 8:
            if run[:2] == "30" and _judge_structure(bytes.fromhex(run[: len(run) // 2 * 2])) == publickeys.PUBLIC:
                continue  # a public key or certificate in hex DER
            return f"a {len(run) * 4}-bit hexadecimal string (the length of a key or secret)"
    for match in _B64_TOKEN.finditer(text):
        reason = _judge_token(match.group(), depth)
        if reason:
            return reason
    for match in _AWS_SECRET.finditer(text):
        run = match.group()
        if run.lower() != run and run.upper() != run and _looks_random(run):
            return "an AWS secret access key"
    return None


# Whole values that are plainly identifiers or timestamps, accepted at once: platform exports are made of
# them (an AWS export has an ARN, a key id and a date per key), and the full scan costs 10-30 us each.
# Only exact shapes: anything more (an alias name, a path with free text) goes through the full scan. The CBOM
# export's bom-ref of a key is one of these behind "key:<store id>:" (``inventory.exporters.cbom.key_bom_ref``).
# tests/cek/test_keymaterial_plain.py runs every shape, with and without that prefix, through the full scan.
_PLAIN_VALUE = re.compile(
    r"(?:key:\d{1,19}:)?(?:"
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?"  # ISO 8601
    r"|(?:mrk-)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"  # UUID, AWS key id
    r"|mrk-[0-9a-f]{32}"  # AWS multi-Region key id
    r"|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/"  # AWS KMS key ARN
    r"(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r")"
)


def _find(text: str, depth: int = 0) -> str | None:
    if len(text) < _MIN_LENGTH or _PLAIN_VALUE.fullmatch(text):
        return None
    text, reason = publickeys.mask_public(text)
    if reason:
        return reason
    if _ANY_NEEDLE.search(text):
        for signature in _SIGNATURES:
            if not any(needle in text for needle in signature.needles):
                continue
            for match in signature.pattern.finditer(text):
                if not signature.random_tail or _looks_random(match.group("tail")):
                    return signature.reason
    reason = _find_assignment(text)
    if reason:
        return reason
    if not _B64_TOKEN.search(text):
        return None  # every check below needs a run of 20 or more base64/hex characters
    reason = _scan_tokens(text, depth)
    if reason:
        # Only now look for identifiers that merely look like keys (UUIDs, Azure key versions, digests).
        masked = text
        for identifier in _IDENTIFIERS:
            masked = identifier.sub(" ", masked)
        if ":" in masked or "=" in masked:
            masked = _LABELLED_VALUE.sub(_mask_labelled_digest, masked)
        if masked != text:
            reason = _scan_tokens(masked, depth)
    return reason
