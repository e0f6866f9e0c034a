-- usage-csv from a BigQuery log sink of Cloud Audit Logs: Cloud KMS cryptographic calls, per key, principal,
-- operation, outcome and day, for `manage.py ingest_usage --format usage-csv` or the upload page.
--
-- The sink: a log sink to BigQuery with the filter
--   logName:"cloudaudit.googleapis.com%2Fdata_access" AND protoPayload.serviceName="cloudkms.googleapis.com"
-- (Data Access audit logs must be enabled for Cloud KMS). Replace PROJECT.DATASET with the sink's dataset; with
-- date-sharded tables use `cloudaudit_googleapis_com_data_access_*` and a _TABLE_SUFFIX condition instead of
-- the timestamp window. Export the result as CSV (bq query --format=csv, or the console's "Save results").
--
-- It counts what the gcp-audit source counts (evidence/usage/sources/gcp_audit.py): the key version is dropped
-- from the resource name, the principal is principalEmail else principalSubject, failed calls are their own rows
-- with the google.rpc.Code name. tests/evidence/test_usage_query_bigquery.py runs this text in DuckDB over the
-- gcp-audit fixtures (with the table name and the window line replaced) and compares with the source.
WITH calls AS (
  SELECT
    timestamp AS event_at,
    REGEXP_EXTRACT(
      protopayload_auditlog.resourceName,
      '^(projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+)', 1
    ) AS key,
    REGEXP_EXTRACT(protopayload_auditlog.resourceName, '^projects/([^/]+)/', 1) AS account,
    REGEXP_EXTRACT(protopayload_auditlog.resourceName, '^projects/[^/]+/locations/([^/]+)/', 1) AS region,
    REGEXP_EXTRACT(protopayload_auditlog.methodName, '([^.]+)$', 1) AS operation,
    COALESCE(
      NULLIF(protopayload_auditlog.authenticationInfo.principalEmail, ''),
      NULLIF(protopayload_auditlog.authenticationInfo.principalSubject, ''),
      ''
    ) AS principal,
    NULLIF(protopayload_auditlog.authenticationInfo.principalEmail, '') AS email,
    COALESCE(protopayload_auditlog.status.code, 0) AS code
  FROM `PROJECT.DATASET.cloudaudit_googleapis_com_data_access`
  WHERE protopayload_auditlog.serviceName = 'cloudkms.googleapis.com'
    AND timestamp >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL 1 DAY)  -- the window: the last day
)
SELECT
  '' AS store,
  key,
  principal,
  operation,
  CAST(event_at AS DATE) AS day,
  COUNT(*) AS count,
  COUNTIF(code <> 0) AS errors,
  FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%SZ', MIN(event_at)) AS first_seen,
  FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%SZ', MAX(event_at)) AS last_seen,
  CASE code
    WHEN 0 THEN '' WHEN 1 THEN 'CANCELLED' WHEN 2 THEN 'UNKNOWN' WHEN 3 THEN 'INVALID_ARGUMENT'
    WHEN 4 THEN 'DEADLINE_EXCEEDED' WHEN 5 THEN 'NOT_FOUND' WHEN 6 THEN 'ALREADY_EXISTS'
    WHEN 7 THEN 'PERMISSION_DENIED' WHEN 8 THEN 'RESOURCE_EXHAUSTED' WHEN 9 THEN 'FAILED_PRECONDITION'
    WHEN 10 THEN 'ABORTED' WHEN 11 THEN 'OUT_OF_RANGE' WHEN 12 THEN 'UNIMPLEMENTED' WHEN 13 THEN 'INTERNAL'
    WHEN 14 THEN 'UNAVAILABLE' WHEN 15 THEN 'DATA_LOSS' WHEN 16 THEN 'UNAUTHENTICATED'
    ELSE CONCAT('code ', CAST(code AS STRING))
  END AS error_code,
  CASE
    WHEN email IS NULL THEN 'other'
    WHEN REGEXP_CONTAINS(
      email,
      '^(service-[0-9]+@|bq-[0-9]+@bigquery-encryption[.])|@(gcp-sa-[a-z0-9-]+[.]|cloudservices[.]|gs-project-accounts[.]|compute-system[.]|container-engine-robot[.]|system[.])'
    ) THEN 'service'
    WHEN ENDS_WITH(email, '.gserviceaccount.com') THEN 'role'
    ELSE 'user'
  END AS principal_type,
  account,
  region
FROM calls
WHERE key IS NOT NULL AND key <> ''
  AND operation IN (
    'Encrypt', 'Decrypt', 'RawEncrypt', 'RawDecrypt', 'AsymmetricDecrypt', 'AsymmetricSign', 'MacSign',
    'MacVerify', 'Decapsulate'
  )
GROUP BY key, principal, operation, day, code, email, account, region
ORDER BY day, key, principal, operation, error_code
