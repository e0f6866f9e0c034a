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
``AzureDiagnostics`` table references). The storage record spells its members in camelCase (``operationName``),
the Log Analytics tables in PascalCase (``OperationName``): the start of the file says which, and the
file's records are read with that shape's typed columns (one file is one export). Records of the other shape are
then not recognised, and the file is refused as such.

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
from evidence.usage.sources.shapes import first_byte, head, max_object_bytes, struct_columns, utc_timestamp

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
# A record of the diagnostic setting's own shape has these members; Log Analytics rows never do (they spell them
# TimeGenerated, OperationName, ResourceId, Category), not even inside AZKVAuditLogs' Properties.
_CAMEL_MEMBER = re.compile(rb'"(time|operationName|resourceId|category)"\s*:')

_CLAIMS = (
    "STRUCT(upn VARCHAR, unique_name VARCHAR, appid VARCHAR, oid VARCHAR, "
    '"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn" VARCHAR, '
    '"http://schemas.microsoft.com/identity/claims/objectidentifier" VARCHAR)'
)
# The diagnostic setting's record (storage account, Event Hubs).
_STORAGE = (
    "STRUCT(time VARCHAR, operationName VARCHAR, resultSignature VARCHAR, correlationId VARCHAR, identity JSON, "
    "properties STRUCT(id VARCHAR, requestUri VARCHAR, httpStatusCode VARCHAR))"
)
# The Log Analytics tables: AZKVAuditLogs (Id, RequestUri, HttpStatusCode, Identity) and AzureDiagnostics
# (id_s, requestUri_s, httpStatusCode_d, identity_claim_* columns) share the other columns' names.
_TABLES = (
    "STRUCT(TimeGenerated VARCHAR, OperationName VARCHAR, ResultSignature VARCHAR, CorrelationId VARCHAR, "
    "Identity JSON, Id VARCHAR, RequestUri VARCHAR, HttpStatusCode VARCHAR, "
    "Properties STRUCT(id VARCHAR, requestUri VARCHAR, httpStatusCode VARCHAR), "
    "id_s VARCHAR, requestUri_s VARCHAR, httpStatusCode_d VARCHAR, "
    "identity_claim_upn_s VARCHAR, identity_claim_unique_name_s VARCHAR, "
    "identity_claim_http_schemas_xmlsoap_org_ws_2005_05_identity_claims_upn_s VARCHAR, "
    "identity_claim_appid_g VARCHAR, identity_claim_appid_s VARCHAR, identity_claim_oid_g VARCHAR, "
    "identity_claim_http_schemas_microsoft_com_identity_claims_objectidentifier_g VARCHAR)"
)
# Each shape's members as the common names the statement uses.
_STORAGE_NAMES = {
    "time": "time",
    "operation": "operationName",
    "signature": "resultSignature",
    "correlation": "correlationId",
    "identity": "identity",
    "id": "properties.id",
    "uri": "properties.requestUri",
    "status": "properties.httpStatusCode",
    "flat_upn": "CAST(NULL AS VARCHAR)",
    "flat_appid": "CAST(NULL AS VARCHAR)",
    "flat_oid": "CAST(NULL AS VARCHAR)",
}
_TABLE_NAMES = {
    "time": "TimeGenerated",
    "operation": "OperationName",
    "signature": "ResultSignature",
    "correlation": "CorrelationId",
    "identity": "Identity",
    "id": "coalesce(nullif(Id, ''), nullif(id_s, ''), nullif(Properties.id, ''))",
    "uri": "coalesce(nullif(RequestUri, ''), nullif(requestUri_s, ''), nullif(Properties.requestUri, ''))",
    "status": "coalesce(HttpStatusCode, httpStatusCode_d, Properties.httpStatusCode)",
    "flat_upn": (
        "coalesce(nullif(identity_claim_upn_s, ''), "
        "nullif(identity_claim_http_schemas_xmlsoap_org_ws_2005_05_identity_claims_upn_s, ''), "
        "nullif(identity_claim_unique_name_s, ''))"
    ),
    "flat_appid": "coalesce(nullif(identity_claim_appid_g, ''), nullif(identity_claim_appid_s, ''))",
    "flat_oid": (
        "coalesce(nullif(identity_claim_oid_g, ''), "
        "nullif(identity_claim_http_schemas_microsoft_com_identity_claims_objectidentifier_g, ''))"
    ),
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
        start = head(file)
        if _RECORDS_START.match(start):
            raw = (
                "SELECT unnest(r) FROM (SELECT unnest(records) AS r FROM read_json("  # noqa: S608 (quoted path)
                f"{path}, format='unstructured', compression={compression}, "
                f"maximum_object_size={max_object_bytes()}, columns={{'records': '{_STORAGE}[]'}}))"
            )
            names = _STORAGE_NAMES
        elif first_byte(file) in (b"{", b"[", b""):
            camel = bool(_CAMEL_MEMBER.search(start))
            names = _STORAGE_NAMES if camel else _TABLE_NAMES
            # 'auto': JSON lines, a JSON array (a query's result) or pretty-printed objects.
            raw = (
                f"SELECT * FROM read_json({path}, format='auto', compression={compression}, "  # noqa: S608
                f"columns={struct_columns(_STORAGE if camel else _TABLES)})"
            )
        else:
            raise UsageFileError(f"{file.name}: the file is not JSON, so it is not {self.label}. Upload {self.help}.")
        n = names
        operations = ", ".join(sql_string(name) for name in FUNCTIONS)
        # Only constants and the quoted path are interpolated: nothing of the file's content reaches the SQL text.
        return f"""
WITH raw AS ({raw}),
records AS (
    SELECT
        {utc_timestamp(n["time"])} AS event_at,
        nullif({n["operation"]}, '') AS operation,
        regexp_extract(
            coalesce(nullif({n["id"]}, ''), nullif({n["uri"]}, '')), {sql_string(_KEY_URL)}, ['host', 'vault', 'name']
        ) AS key,
        TRY_CAST({n["status"]} AS DOUBLE) AS status,
        nullif({n["signature"]}, '') AS signature,
        nullif({n["correlation"]}, '') AS correlation,
        -- the identity's claims: an object (storage; AZKVAuditLogs from a data export rule) or its JSON text
        -- (AZKVAuditLogs from a query's result); AzureDiagnostics flattens them into columns instead
        TRY_CAST(
            json_extract(
                CASE WHEN json_type({n["identity"]}) = 'VARCHAR'
                    THEN TRY_CAST(json_extract_string({n["identity"]}, '$') AS JSON)
                    ELSE {n["identity"]}
                END,
                '$.claim'
            ) AS {_CLAIMS}
        ) AS c,
        {n["flat_upn"]} AS flat_upn,
        {n["flat_appid"]} AS flat_appid,
        {n["flat_oid"]} AS flat_oid
    FROM raw
),
calls AS (
    SELECT *,
        coalesce(
            nullif(c.upn, ''), nullif(c."http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn", ''),
            nullif(c.unique_name, ''), flat_upn
        ) AS upn,
        coalesce(nullif(c.appid, ''), flat_appid) AS appid,
        coalesce(
            nullif(c.oid, ''), nullif(c."http://schemas.microsoft.com/identity/claims/objectidentifier", ''), flat_oid
        ) AS oid
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
