"""Google Cloud Audit Logs: Cloud KMS cryptographic operations, from the Data Access entries a log sink exports
(JSON lines, one ``LogEntry`` per line: a Cloud Storage sink's hourly files, gzip or plain), or the JSON array
``gcloud logging read --format=json`` prints.

Shapes as Google documents them ("Cloud Key Management Service audit logging", "Understanding audit logs", the
``LogEntry`` and ``AuditLog`` references):

- only entries whose ``protoPayload.serviceName`` is ``cloudkms.googleapis.com`` and whose ``methodName`` is a
  cryptographic operation count; ``methodName`` is short (``Decrypt``) or qualified
  (``google.cloud.kms.v1.KeyManagementService.Decrypt``): the last part is kept. Metadata reads
  (``GetCryptoKey``), admin changes and other services' entries in the same sink are recognised and skipped;
- the key: ``protoPayload.resourceName``, a ``cryptoKeys/KEY`` name or a ``cryptoKeyVersions/N`` name under it
  (``AsymmetricSign``, ``MacSign``, ``RawEncrypt`` name the version): the version is dropped, so the key
  reference is the key's resource name, the inventory's ``external_id`` for GCP keys;
- where: the project and location of that name (the store's account and region, as the GCP importer reads them);
- the principal: ``authenticationInfo.principalEmail``, else ``principalSubject`` (workload identity
  federation has no e-mail). Google's service agents (``service-PROJECT_NUMBER@...``, ``gcp-sa-*`` domains:
  CMEK use by Cloud Storage, BigQuery, ...) are platform services; other service accounts act as workloads
  (``role``); other e-mails are people. When a service account was impersonated, the people or accounts behind
  it (``serviceAccountDelegationInfo``) are kept in the context as ``delegatedBy``;
- the outcome: ``protoPayload.status.code`` (a ``google.rpc.Code``; 0 or absent: success), by its name
  (``PERMISSION_DENIED``, ``FAILED_PRECONDITION`` for a disabled or destroyed version);
- the event id: ``insertId``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from evidence.usage.sources.base import SourceFile, UsageSource, sql_string
from evidence.usage.sources.shapes import struct_columns, utc_timestamp

# methodName (its last part) -> inventory.models.CryptoFunction value.
FUNCTIONS: dict[str, str] = {
    "Encrypt": "encryption",
    "Decrypt": "encryption",
    "RawEncrypt": "encryption",
    "RawDecrypt": "encryption",
    "AsymmetricDecrypt": "encryption",
    "AsymmetricSign": "signing",
    "MacSign": "mac",
    "MacVerify": "mac",
    "Decapsulate": "key-agreement",
}
# methodName -> inventory.models.Operation value (the vocabulary of purposes' allowed operations and grants).
OPERATIONS: dict[str, str] = {
    "Encrypt": "encrypt",
    "Decrypt": "decrypt",
    "RawEncrypt": "encrypt",
    "RawDecrypt": "decrypt",
    "AsymmetricDecrypt": "decrypt",
    "AsymmetricSign": "sign",
    "MacSign": "generate-mac",
    "MacVerify": "verify-mac",
    "Decapsulate": "agree",
}
# google.rpc.Code names, by number (1-based, as DuckDB lists are).
RPC_CODES = (
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
)

_ENTRY = (
    "STRUCT("
    "insertId VARCHAR, logName VARCHAR, timestamp VARCHAR, "
    "resource STRUCT(type VARCHAR, labels STRUCT(project_id VARCHAR, location VARCHAR)), "
    'protoPayload STRUCT("@type" VARCHAR, serviceName VARCHAR, methodName VARCHAR, resourceName VARCHAR, '
    "status STRUCT(code BIGINT), "
    "authenticationInfo STRUCT(principalEmail VARCHAR, principalSubject VARCHAR, "
    "serviceAccountDelegationInfo STRUCT(firstPartyPrincipal STRUCT(principalEmail VARCHAR))[]))"
    ")"
)
# The key's resource name at the start of a key or key-version name.
_KEY_NAME = r"^(projects/([^/]+)/locations/([^/]+)/keyRings/[^/]+/cryptoKeys/[^/]+)(/cryptoKeyVersions/[^/]+)?$"
# Google-managed service agents: CMEK use by a Google service on the customer's behalf.
_SERVICE_AGENT = (
    r"^(service-[0-9]+@|bq-[0-9]+@bigquery-encryption\.)|@(gcp-sa-[a-z0-9-]+\.|cloudservices\.|"
    r"gs-project-accounts\.|compute-system\.|container-engine-robot\.|system\.)"
)


class GcpAudit(UsageSource):
    format = "gcp-audit"
    label = "Google Cloud Audit Logs (Cloud KMS)"
    order = 20
    store_kinds = ("gcp-kms",)
    help = (
        "Data Access audit log entries of cloudkms.googleapis.com as a log sink exports them to Cloud Storage "
        "(JSON lines, gzip or plain), or the output of gcloud logging read --format=json"
    )
    functions: ClassVar[dict[str, str]] = FUNCTIONS
    operations: ClassVar[dict[str, str]] = OPERATIONS

    def relation(self, con: Any, file: SourceFile) -> str:
        path, compression = sql_string(file.path), sql_string(file.compression)
        # 'auto': JSON lines (a sink's files), the JSON array gcloud prints, or pretty-printed objects; a file of
        # another format then reads as records that are not log entries, which the engine reports as such.
        raw = (
            f"SELECT * FROM read_json({path}, format='auto', compression={compression}, "  # noqa: S608
            f"columns={struct_columns(_ENTRY)})"
        )
        methods = ", ".join(sql_string(name) for name in FUNCTIONS)
        codes = "[" + ", ".join(sql_string(code) for code in RPC_CODES) + "]"
        # Only constants and the quoted path are interpolated: nothing of the file's content reaches the SQL text.
        return f"""
WITH raw AS ({raw}),
entries AS (
    SELECT
        insertId,
        {utc_timestamp("timestamp")} AS event_at,
        protoPayload AS p,
        regexp_extract(protoPayload.methodName, '[^.]+$') AS method,
        regexp_extract(protoPayload.resourceName, {sql_string(_KEY_NAME)}, ['key', 'project', 'location']) AS name,
        nullif(protoPayload.authenticationInfo.principalEmail, '') AS email,
        nullif(protoPayload.authenticationInfo.principalSubject, '') AS subject,
        list_filter(
            list_transform(
                coalesce(protoPayload.authenticationInfo.serviceAccountDelegationInfo, []),
                x -> x.firstPartyPrincipal.principalEmail
            ),
            x -> x IS NOT NULL AND x <> ''
        ) AS delegated_by,
        resource.labels AS labels,
        logName
    FROM raw
)
SELECT
    logName IS NOT NULL AND event_at IS NOT NULL AS recognised,
    logName IS NOT NULL AND event_at IS NOT NULL AND p.serviceName = 'cloudkms.googleapis.com'
        AND method IN ({methods}) AND name.key <> '' AS relevant,
    insertId AS event_id,
    CAST(event_at AS DATE) AS day,
    event_at AS first_seen,
    event_at AS last_seen,
    CAST(1 AS BIGINT) AS calls,
    coalesce(nullif(name.project, ''), labels.project_id, '') AS account,
    coalesce(nullif(name.location, ''), labels.location, '') AS region,
    CAST(NULL AS VARCHAR) AS store_name,
    name.key AS key_ref,
    coalesce(email, subject, '') AS principal,
    CASE
        WHEN email IS NULL THEN 'other'
        WHEN regexp_matches(email, {sql_string(_SERVICE_AGENT)}) THEN 'service'
        WHEN regexp_matches(email, '\\.gserviceaccount\\.com$') THEN 'role'
        ELSE 'user'
    END AS principal_type,
    method AS operation,
    CASE
        WHEN coalesce(p.status.code, 0) = 0 THEN ''
        ELSE coalesce({codes}[p.status.code], 'code ' || CAST(p.status.code AS VARCHAR))
    END AS error_code,
    CASE
        WHEN len(delegated_by) > 0 THEN CAST(json_object('delegatedBy', array_to_string(delegated_by, ' ')) AS VARCHAR)
    END AS context
FROM entries
"""  # noqa: S608
