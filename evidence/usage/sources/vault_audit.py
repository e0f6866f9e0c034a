"""HashiCorp Vault: transit cryptographic operations, from a file audit device's JSON lines (gzip or plain).

Shapes as HashiCorp documents them ("Audit devices", "Audit log entry schema", the transit secrets engine's API):

- every call is logged twice, a ``request`` entry and a ``response`` entry with the same ``request.id``. A call
  counts once: by its ``response`` entry, or by its ``request`` entry when that carries an ``error`` (a request
  the token's policies refuse is logged as a request with ``permission denied`` and has no response). Other
  request entries are recognised and skipped;
- the operation: the path under the transit mount (``request.mount_point``, e.g. ``transit/``, when
  ``request.mount_type`` is ``transit``; older versions that do not log the mount are read from the path):
  ``encrypt/NAME``, ``decrypt/NAME``, ``rewrap/NAME``, ``datakey/plaintext|wrapped/NAME``,
  ``sign/NAME[/HASH]``, ``verify/NAME[/HASH]``, ``hmac/NAME[/ALGORITHM]``, ``cmac/NAME`` (Enterprise). A
  ``verify`` of an HMAC or CMAC (its request has ``hmac`` or ``cmac`` instead of ``signature``) is a MAC
  verification. Key management (``keys/NAME``), ``random``, ``hash`` and every other engine are skipped;
- the key: ``MOUNT/keys/NAME`` (``transit/keys/orders``), the Vault importer's ``external_id``; in a Vault
  Enterprise namespace the namespace's path comes first (``team-a/transit/keys/ledger``);
- the principal: ``auth.display_name`` (``approle``, ``kubernetes-payments-webhooks``, ``userpass-alice``),
  with the AppRole's ``role_name`` when the display name is only the auth method's name; people (userpass,
  LDAP, OIDC, Okta, RADIUS, GitHub logins) are ``user``, the root token ``account``, other machine logins
  ``role``;
- the outcome: ``error`` as one of a few known phrases (``permission denied``, ``message authentication
  failed``, ...), else ``error``: Vault's error text can quote the request, so it is never kept.

Request and response data stay out: strings in them are HMAC'd by the audit device (``hmac-sha256:...``) and are
neither kept nor un-hashed; only the names of the request's members are looked at (``hmac`` vs ``signature``).
Vault's audit entries carry no address of the server, so the store's account is '' (the store is the one chosen,
or the only transit store).
"""

from __future__ import annotations

from typing import Any, ClassVar

from evidence.usage.sources.base import SourceFile, UsageFileError, UsageSource, sql_string
from evidence.usage.sources.shapes import first_byte, struct_columns, utc_timestamp

# The operation (as ``transit/<path word>``) -> inventory.models.CryptoFunction value.
FUNCTIONS: dict[str, str] = {
    "transit/encrypt": "encryption",
    "transit/decrypt": "encryption",
    "transit/rewrap": "encryption",
    "transit/datakey": "key-wrapping",
    "transit/sign": "signing",
    "transit/verify": "signing",
    "transit/hmac": "mac",
    "transit/cmac": "mac",
    "transit/verify-mac": "mac",
}
# The operation -> inventory.models.Operation value.
OPERATIONS: dict[str, str] = {
    "transit/encrypt": "encrypt",
    "transit/decrypt": "decrypt",
    "transit/rewrap": "re-encrypt",
    "transit/datakey": "generate-data-key",
    "transit/sign": "sign",
    "transit/verify": "verify",
    "transit/hmac": "generate-mac",
    "transit/cmac": "generate-mac",
    "transit/verify-mac": "verify-mac",
}
# Error phrases kept as the outcome (lower case, as Vault writes them); anything else is 'error'.
KNOWN_ERRORS = (
    "permission denied",
    "message authentication failed",
    "encryption key not found",
    "invalid ciphertext",
    "signature verification failed",
    "key not found",
    "unsupported operation",
    "request rate limit exceeded",
)
# Auth methods whose logins are people, by the prefix Vault gives their tokens' display names.
PEOPLE_METHODS = ("userpass-", "ldap-", "oidc-", "okta-", "radius-", "github-")

_ENTRY = (
    "STRUCT("
    "time VARCHAR, type VARCHAR, error VARCHAR, "
    "auth STRUCT(display_name VARCHAR, entity_id VARCHAR, metadata JSON), "
    "request STRUCT(id VARCHAR, operation VARCHAR, mount_point VARCHAR, mount_type VARCHAR, path VARCHAR, "
    "namespace STRUCT(id VARCHAR, path VARCHAR), data JSON)"
    ")"
)
# A path under a transit mount: the operation word and the key's name.
_OPERATION_PATH = r"^(encrypt|decrypt|rewrap|sign|verify|hmac|cmac|datakey/(?:plaintext|wrapped))/([^/]+)(?:/[^/]+)?$"
# The same, for entries without mount_point: the mount is whatever comes before.
_FULL_PATH = r"^(.+/)(encrypt|decrypt|rewrap|sign|verify|hmac|cmac|datakey/(?:plaintext|wrapped))/([^/]+)(?:/[^/]+)?$"


class VaultAudit(UsageSource):
    format = "vault-audit"
    label = "HashiCorp Vault audit log (transit)"
    order = 40
    store_kinds = ("vault-transit",)
    help = "a file audit device's log (JSON lines with request and response entries), gzip or plain"
    functions: ClassVar[dict[str, str]] = FUNCTIONS
    operations: ClassVar[dict[str, str]] = OPERATIONS

    def relation(self, con: Any, file: SourceFile) -> str:
        path, compression = sql_string(file.path), sql_string(file.compression)
        if first_byte(file) not in (b"{", b""):
            raise UsageFileError(
                f"{file.name}: the file does not start with a JSON object, so it is not {self.label}. Upload "
                f"{self.help} (a syslog or socket device's lines carry a prefix: keep only the JSON)."
            )
        raw = (
            f"SELECT * FROM read_json({path}, format='auto', compression={compression}, "  # noqa: S608
            f"columns={struct_columns(_ENTRY)})"
        )
        errors = " ".join(
            f"WHEN contains(lower(error), {sql_string(phrase)}) THEN {sql_string(phrase)}" for phrase in KNOWN_ERRORS
        )
        people = " OR ".join(f"starts_with(display_name, {sql_string(prefix)})" for prefix in PEOPLE_METHODS)
        # Only constants and the quoted path are interpolated: nothing of the file's content reaches the SQL text.
        return f"""
WITH raw AS ({raw}),
entries AS (
    SELECT
        type,
        error,
        request.id AS request_id,
        {utc_timestamp("time")} AS event_at,
        CASE WHEN coalesce(request.namespace.path, '') NOT IN ('', '/') THEN rtrim(request.namespace.path, '/') || '/'
            ELSE '' END AS namespace,
        CASE
            WHEN nullif(request.mount_point, '') IS NOT NULL AND starts_with(request.path, request.mount_point)
                AND coalesce(request.mount_type, 'transit') = 'transit'
            THEN regexp_extract(
                substr(request.path, length(request.mount_point) + 1), {sql_string(_OPERATION_PATH)}, ['word', 'name']
            )
        END AS under_mount,
        CASE
            WHEN nullif(request.mount_point, '') IS NULL
            THEN regexp_extract(request.path, {sql_string(_FULL_PATH)}, ['mount', 'word', 'name'])
        END AS bare,
        request.mount_point AS mount_point,
        request.data AS data,
        nullif(auth.display_name, '') AS display_name,
        nullif(json_extract_string(auth.metadata, '$.role_name'), '') AS role_name
    FROM raw
),
calls AS (
    SELECT *,
        coalesce(nullif(under_mount.word, ''), nullif(bare.word, '')) AS word,
        coalesce(nullif(under_mount.name, ''), nullif(bare.name, '')) AS key_name,
        CASE WHEN nullif(under_mount.name, '') IS NOT NULL THEN mount_point ELSE bare.mount END AS mount
    FROM entries
)
SELECT
    type IN ('request', 'response') AND request_id IS NOT NULL AND event_at IS NOT NULL AS recognised,
    type IN ('request', 'response') AND request_id IS NOT NULL AND event_at IS NOT NULL AND key_name IS NOT NULL
        AND (type = 'response' OR coalesce(error, '') <> '') AS relevant,
    request_id AS event_id,
    CAST(event_at AS DATE) AS day,
    event_at AS first_seen,
    event_at AS last_seen,
    CAST(1 AS BIGINT) AS calls,
    '' AS account,
    '' AS region,
    CAST(NULL AS VARCHAR) AS store_name,
    namespace || mount || 'keys/' || key_name AS key_ref,
    CASE
        WHEN display_name IS NULL THEN ''
        WHEN display_name = 'approle' AND role_name IS NOT NULL THEN display_name || '-' || role_name
        ELSE display_name
    END AS principal,
    CASE
        WHEN display_name = 'root' THEN 'account'
        WHEN {people} THEN 'user'
        WHEN display_name IS NULL OR display_name = 'token' THEN 'other'
        ELSE 'role'
    END AS principal_type,
    CASE
        WHEN word = 'verify' AND (
            json_exists(data, '$.hmac') OR json_exists(data, '$.cmac')
            OR json_exists(data, '$.batch_input[0].hmac') OR json_exists(data, '$.batch_input[0].cmac')
        ) THEN 'transit/verify-mac'
        ELSE 'transit/' || split_part(word, '/', 1)
    END AS operation,
    CASE WHEN coalesce(error, '') = '' THEN '' {errors} ELSE 'error' END AS error_code,
    CAST(NULL AS VARCHAR) AS context
FROM calls
"""  # noqa: S608
