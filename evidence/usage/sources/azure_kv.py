"""Azure Key Vault: the cryptographic operations of ``AuditEvent`` resource logs, in the three shapes they are
exported in:

- the diagnostic setting's own record (a storage account's ``insights-logs-auditevent`` blobs, one record a
  line, or the older ``{"records": [...]}`` envelope that Event Hubs still use): ``time``, ``operationName``,
  ``resultSignature``, ``correlationId``, ``identity.claim``, ``properties.id`` / ``requestUri`` /
  ``httpStatusCode``, ``resourceId``;
- Log Analytics' shared ``AzureDiagnostics`` table (flattened, suffixed columns): ``TimeGenerated``,
  ``OperationName``, ``id_s``, ``requestUri_s``, ``httpStatusCode_d``, ``ResultSignature``, ``CorrelationId``,
  ``identity_claim_upn_s`` / ``identity_claim_appid_g`` / ``identity_claim_oid_g``, ``Resource`` (the vault);
- the resource-specific ``AZKVAuditLogs`` table: ``TimeGenerated``, ``OperationName``, ``Id``, ``RequestUri``,
  ``HttpStatusCode``, ``ResultSignature``, ``CorrelationId``, ``Identity`` (an object, or its JSON text when a
  query result is exported), ``_ResourceId``.

Shapes as Microsoft documents them ("Azure Key Vault logging", the Azure Monitor ``AZKVAuditLogs`` and
``AzureDiagnostics`` table references). The same member is spelled differently by each shape (``operationName``,
``OperationName``), so records are read as JSON objects and each member by its exact, case-sensitive path.

- Only ``KeyEncrypt``, ``KeyDecrypt``, ``KeySign``, ``KeyVerify``, ``KeyWrap`` and ``KeyUnwrap`` count; secret,
  certificate, vault and key-management operations (``KeyGet``, ``KeyCreate``) are recognised and skipped. The
  ``401`` answer without a token that starts every client's challenge-based authentication names nobody and is
  skipped too; a ``403`` (or any other failure) counts, with ``ResultSignature`` (``Forbidden``) as its error.
- The key: the key id (``https://VAULT.vault.azure.net/keys/NAME/VERSION``, or a Managed HSM's
  ``...managedhsm.azure.net``), else the request URI (a failed call often has no id; ``AZKVAuditLogs`` request
  URIs can carry the data plane's ``:8443``). The reference is ``https://HOST/keys/NAME`` with the host in lower
  case and no port or version: the Azure importer's ``external_id``. The store's account is the vault's name.
- The principal: a person's ``upn`` (``user``), else the application (client) id ``appid`` of the service
  principal or managed identity (``role``), else the object id.
- The event id: ``correlationId`` when the client sent one (Key Vault logs have no id of their own).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from evidence.usage.sources.base import SourceFile, UsageFileError, UsageSource, sql_string
from evidence.usage.sources.shapes import first_byte, head, max_object_bytes, utc_timestamp

# operationName -> inventory.models.CryptoFunction value.
FUNCTIONS: dict[str, str] = {
    "KeyEncrypt": "encryption",
    "KeyDecrypt": "encryption",
    "KeyWrap": "key-wrapping",
    "KeyUnwrap": "key-wrapping",
    "KeySign": "signing",
    "KeyVerify": "signing",
}
# operationName -> inventory.models.Operation value.
OPERATIONS: dict[str, str] = {
    "KeyEncrypt": "encrypt",
    "KeyDecrypt": "decrypt",
    "KeyWrap": "wrap",
    "KeyUnwrap": "unwrap",
    "KeySign": "sign",
    "KeyVerify": "verify",
}
# A key id or a request URI on a key: the host (the vault's name first) and the key's name.
_KEY_URL = (
    r"^https://(([A-Za-z0-9-]{1,63})\.(?:vault|managedhsm)\.[A-Za-z0-9.-]+?)(?::[0-9]+)?/keys/([A-Za-z0-9-]{1,127})"
    r"(?:[/?]|$)"
)
_RECORDS_START = re.compile(rb'^\s*\{\s*"records"\s*:')


def _member(*paths: str) -> str:
    """SQL: the first of these JSON paths of ``j`` that holds a value, as text."""
    return "coalesce(" + ", ".join(f"nullif(json_extract_string(j, {sql_string(p)}), '')" for p in paths) + ")"


def _claim(*names: str) -> str:
    """SQL: the first of these token claims, from ``claims`` (the identity's claim object) or the flattened
    ``identity_claim_*`` columns of AzureDiagnostics."""
    paths = []
    for name in names:
        paths.append(f"nullif(json_extract_string(claims, {sql_string('$.' + json_key(name))}), '')")
    flat = [
        f"nullif(json_extract_string(j, {sql_string('$.identity_claim_' + column)}), '')" for column in _FLAT[names]
    ]
    return "coalesce(" + ", ".join(paths + flat) + ")"


def json_key(name: str) -> str:
    """A JSON path member for a claim name (some are URLs, quoted in the path)."""
    return f'"{name}"' if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else name


_UPN = ("upn", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn", "unique_name")
_APPID = ("appid",)
_OID = ("oid", "http://schemas.microsoft.com/identity/claims/objectidentifier")
_FLAT: dict[tuple[str, ...], tuple[str, ...]] = {
    _UPN: ("upn_s", "http_schemas_xmlsoap_org_ws_2005_05_identity_claims_upn_s", "unique_name_s"),
    _APPID: ("appid_g", "appid_s"),
    _OID: ("oid_g", "http_schemas_microsoft_com_identity_claims_objectidentifier_g"),
}


class AzureKeyVault(UsageSource):
    format = "azure-kv"
    label = "Azure Key Vault audit logs"
    order = 30
    store_kinds = ("azure-kv",)
    help = (
        "Key Vault AuditEvent resource logs: a diagnostic setting's storage blobs (one record a line, or "
        '{"records": [...]}), or rows of the AzureDiagnostics or AZKVAuditLogs table exported as JSON lines'
    )
    functions: ClassVar[dict[str, str]] = FUNCTIONS
    operations: ClassVar[dict[str, str]] = OPERATIONS

    def relation(self, con: Any, file: SourceFile) -> str:
        path, compression = sql_string(file.path), sql_string(file.compression)
        if _RECORDS_START.match(head(file)):
            raw = (
                "SELECT unnest(json_extract(json, '$.records[*]')) AS j FROM read_json_objects("  # noqa: S608
                f"{path}, format='unstructured', compression={compression}, "
                f"maximum_object_size={max_object_bytes()})"
            )
        elif first_byte(file) in (b"{", b"[", b""):
            # 'auto': JSON lines, a JSON array (a query's result) or pretty-printed objects.
            raw = f"SELECT json AS j FROM read_json_objects({path}, format='auto', compression={compression})"  # noqa: S608
        else:
            raise UsageFileError(f"{file.name}: the file is not JSON, so it is not {self.label}. Upload {self.help}.")
        operations = ", ".join(sql_string(name) for name in FUNCTIONS)
        # The identity's claims: an object (storage, AZKVAuditLogs exported by a data export rule) or its JSON
        # text (AZKVAuditLogs from a query's result). AzureDiagnostics flattens them into columns instead.
        identity = "coalesce(json_extract(j, '$.identity'), json_extract(j, '$.Identity'))"
        # Only constants and the quoted path are interpolated: nothing of the file's content reaches the SQL text.
        return f"""
WITH raw AS ({raw}),
records AS (
    SELECT
        j,
        {utc_timestamp(_member("$.time", "$.TimeGenerated"))} AS event_at,
        {_member("$.operationName", "$.OperationName")} AS operation,
        regexp_extract(
            coalesce(
                {_member("$.properties.id", "$.id_s", "$.Id", "$.Properties.id")},
                {_member("$.properties.requestUri", "$.requestUri_s", "$.RequestUri", "$.Properties.requestUri")}
            ),
            {sql_string(_KEY_URL)}, ['host', 'vault', 'name']
        ) AS key,
        TRY_CAST({
            _member(
                "$.properties.httpStatusCode", "$.httpStatusCode_d", "$.HttpStatusCode", "$.Properties.httpStatusCode"
            )
        } AS DOUBLE) AS status,
        {_member("$.resultSignature", "$.ResultSignature")} AS signature,
        {_member("$.correlationId", "$.CorrelationId")} AS correlation,
        json_extract(
            CASE WHEN json_type({identity}) = 'VARCHAR'
                THEN TRY_CAST(json_extract_string({identity}, '$') AS JSON)
                ELSE {identity}
            END,
            '$.claim'
        ) AS claims
    FROM raw
),
calls AS (
    SELECT *,
        {_claim(*_UPN)} AS upn,
        {_claim(*_APPID)} AS appid,
        {_claim(*_OID)} AS oid
    FROM records
)
SELECT
    event_at IS NOT NULL AND operation IS NOT NULL AS recognised,
    event_at IS NOT NULL AND operation IN ({operations}) AND key.name <> ''
        AND NOT (status = 401 AND upn IS NULL AND appid IS NULL AND oid IS NULL) AS relevant,
    correlation AS event_id,
    CAST(event_at AS DATE) AS day,
    event_at AS first_seen,
    event_at AS last_seen,
    CAST(1 AS BIGINT) AS calls,
    coalesce(lower(nullif(key.vault, '')), '') AS account,
    '' AS region,
    CAST(NULL AS VARCHAR) AS store_name,
    CASE WHEN key.name <> '' THEN 'https://' || lower(key.host) || '/keys/' || key.name END AS key_ref,
    coalesce(upn, appid, oid, '') AS principal,
    CASE WHEN upn IS NOT NULL THEN 'user' WHEN appid IS NOT NULL OR oid IS NOT NULL THEN 'role' ELSE 'other' END
        AS principal_type,
    operation,
    CASE
        WHEN status >= 400 THEN coalesce(signature, 'HTTP ' || CAST(CAST(status AS INTEGER) AS VARCHAR))
        WHEN status IS NULL AND coalesce(signature, 'OK') NOT IN ('OK', 'Accepted', 'NoContent') THEN signature
        ELSE ''
    END AS error_code,
    CAST(NULL AS VARCHAR) AS context
FROM calls
"""  # noqa: S608
