-- The usage CSV (`ingest_usage --format usage-csv`) from CloudTrail logs where they live: Amazon Athena (Trino SQL)
-- over the CloudTrail table the CloudTrail console creates ("Create Athena table"; columns as AWS documents them:
-- useridentity struct, eventtime, eventsource, eventname, awsregion, errorcode, requestparameters as JSON text,
-- resources array, recipientaccountid). Replace cloudtrail_logs with your table and narrow the days in the WHERE
-- clause (and the partition columns, if your table has them). Save the result as CSV and ingest it.
-- A ReEncrypt is counted for the first key it names (the ingestion of the raw files counts both).
-- tests/evidence/test_usage_queries.py runs this file as it is over the fixtures in DuckDB (two macros stand in
-- for Trino's element_at and json_extract_scalar).
SELECT
    '' AS store,
    coalesce(
        element_at(filter(resources, r -> r.type = 'AWS::KMS::Key'), 1).arn,
        json_extract_scalar(requestparameters, '$.keyId'),
        ''
    ) AS key,
    CASE useridentity.type
        WHEN 'AssumedRole' THEN coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn)
        WHEN 'AWSService' THEN coalesce(useridentity.invokedby, 'AWS service')
        WHEN 'AWSAccount' THEN useridentity.accountid
        ELSE coalesce(useridentity.arn, useridentity.invokedby, useridentity.principalid)
    END AS principal,
    CASE WHEN eventname LIKE 'ReEncrypt%' THEN 'ReEncrypt' ELSE eventname END AS operation,
    substr(eventtime, 1, 10) AS day,
    count(*) AS count,
    count(errorcode) AS errors,
    min(eventtime) AS first_seen,
    max(eventtime) AS last_seen,
    coalesce(errorcode, '') AS error_code,
    CASE useridentity.type
        WHEN 'AssumedRole' THEN 'role'
        WHEN 'AWSService' THEN 'service'
        WHEN 'IAMUser' THEN 'user'
        WHEN 'FederatedUser' THEN 'user'
        WHEN 'IdentityCenterUser' THEN 'user'
        WHEN 'Root' THEN 'account'
        WHEN 'AWSAccount' THEN 'account'
        ELSE 'other'
    END AS principal_type,
    recipientaccountid AS account,
    awsregion AS region
FROM cloudtrail_logs
WHERE eventsource = 'kms.amazonaws.com'
    AND (
        eventname IN ('Encrypt', 'Decrypt', 'Sign', 'Verify', 'GenerateMac', 'VerifyMac', 'DeriveSharedSecret')
        OR eventname LIKE 'ReEncrypt%'
        OR eventname LIKE 'GenerateDataKey%'
    )
    AND eventtime >= '2000-01-01'
GROUP BY 1, 2, 3, 4, 5, 10, 11, 12, 13
ORDER BY 5, 2, 3, 4, 10
