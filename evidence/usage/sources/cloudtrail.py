"""AWS CloudTrail: KMS cryptographic operations, from the files CloudTrail delivers to S3 (``{"Records": [...]}``,
gzip or plain) or from JSON lines (one event per line: CloudTrail Lake exports, a pipeline's output).

Shapes as AWS documents them ("Logging AWS KMS API calls with AWS CloudTrail", "CloudTrail record contents",
"CloudTrail userIdentity element"):

- the key: ``resources[]`` entries of type ``AWS::KMS::Key`` (their ``ARN``; a ReEncrypt names both keys and
  counts for both), else ``requestParameters.keyId`` (an ARN, a key id, an alias name or alias ARN), else
  ``destinationKeyId`` / ``sourceKeyId``: a failed call often has no ``resources``;
- the principal: for an ``AssumedRole`` session the role behind it (``sessionContext.sessionIssuer.arn``), not
  the session; an ``AWSService`` call is the service (``invokedBy``, e.g. ``cloudtrail.amazonaws.com``), which
  is platform-managed use; users, root and accounts by their ARN or account id;
- the outcome: ``errorCode`` ('' when absent);
- the encryption context: ``requestParameters.encryptionContext`` (kept as keys and values after the engine's
  key-material check).
"""

from __future__ import annotations

import gzip
import re
from typing import Any, ClassVar

from evidence.usage.sources.base import SourceFile, UsageSource, sql_string
from evidence.usage.sources.shapes import max_object_bytes, struct_columns

OPERATIONS = (
    "Encrypt",
    "Decrypt",
    "Sign",
    "Verify",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
)
PREFIXES = ("ReEncrypt", "GenerateDataKey")

_EVENT = (
    "STRUCT("
    "eventTime VARCHAR, eventSource VARCHAR, eventName VARCHAR, awsRegion VARCHAR, errorCode VARCHAR, "
    "eventID VARCHAR, recipientAccountId VARCHAR, "
    "userIdentity STRUCT(type VARCHAR, arn VARCHAR, accountId VARCHAR, principalId VARCHAR, invokedBy VARCHAR, "
    "sessionContext STRUCT(sessionIssuer STRUCT(type VARCHAR, arn VARCHAR))), "
    "requestParameters STRUCT(keyId VARCHAR, sourceKeyId VARCHAR, destinationKeyId VARCHAR, "
    "encryptionContext JSON), "
    'resources STRUCT("ARN" VARCHAR, type VARCHAR, accountId VARCHAR)[]'
    ")"
)
_RECORDS_START = re.compile(rb'^\s*\{\s*"Records"\s*:')


def max_records_bytes() -> int:
    """A delivered file is one JSON object (AWS delivers files of a few MB): DuckDB buffers it whole, so it is bounded
    like every source's whole-object files (``shapes.max_object_bytes``). JSON lines have no such bound."""
    return max_object_bytes()


class CloudTrail(UsageSource):
    format = "cloudtrail"
    label = "AWS CloudTrail (KMS)"
    order = 10
    store_kinds = ("aws-kms",)
    help = (
        "a CloudTrail log file as delivered to S3 (gzip JSON with a Records array), or JSON lines with one "
        "CloudTrail event per line"
    )
    functions: ClassVar[dict[str, str]] = {
        "Encrypt": "encryption",
        "Decrypt": "encryption",
        "ReEncrypt": "encryption",
        "GenerateDataKey": "key-wrapping",
        "GenerateDataKeyWithoutPlaintext": "key-wrapping",
        "GenerateDataKeyPair": "key-wrapping",
        "GenerateDataKeyPairWithoutPlaintext": "key-wrapping",
        "Sign": "signing",
        "Verify": "signing",
        "GenerateMac": "mac",
        "VerifyMac": "mac",
        "DeriveSharedSecret": "key-agreement",
    }

    def records_form(self, file: SourceFile) -> bool:
        """Whether the file is one ``{"Records": [...]}`` object (as delivered to S3) rather than JSON lines."""
        opener: Any = gzip.open if file.gzip else open
        try:
            with opener(file.path, "rb") as handle:
                head = handle.read(4096)
        except (OSError, EOFError):
            return False  # DuckDB reports the damage with the source's message
        return bool(_RECORDS_START.match(head))

    def relation(self, con: Any, file: SourceFile) -> str:
        path, compression = sql_string(file.path), sql_string(file.compression)
        if self.records_form(file):
            raw = (
                "SELECT unnest(r) FROM (SELECT unnest(Records) AS r FROM read_json("  # noqa: S608 (quoted path)
                f"{path}, format='unstructured', compression={compression}, "
                f"maximum_object_size={max_records_bytes()}, columns={{'Records': '{_EVENT}[]'}}))"
            )
        else:
            raw = (
                f"SELECT * FROM read_json({path}, format='newline_delimited', compression={compression}, "  # noqa: S608
                f"columns={struct_columns(_EVENT)})"
            )
        names = ", ".join(sql_string(name) for name in OPERATIONS)
        prefixes = " OR ".join(f"starts_with(eventName, {sql_string(prefix)})" for prefix in PREFIXES)
        # Only constants and the quoted path are interpolated: nothing of the file's content reaches the SQL text.
        return f"""
WITH raw AS ({raw}),
events AS (
    SELECT *,
        coalesce(
            try_strptime(eventTime, '%Y-%m-%dT%H:%M:%SZ'), try_strptime(eventTime, '%Y-%m-%dT%H:%M:%S.%fZ')
        ) AS event_at,
        eventSource IS NOT NULL AND eventName IS NOT NULL AS shaped,
        eventSource = 'kms.amazonaws.com' AND (eventName IN ({names}) OR {prefixes}) AS usage,
        list_transform(
            list_filter(coalesce(resources, []), x -> x.type = 'AWS::KMS::Key' AND x."ARN" IS NOT NULL),
            x -> x."ARN"
        ) AS key_arns
    FROM raw
)
SELECT
    shaped AND event_at IS NOT NULL AS recognised,
    shaped AND event_at IS NOT NULL AND usage AS relevant,
    eventID AS event_id,
    CAST(event_at AS DATE) AS day,
    event_at AS first_seen,
    event_at AS last_seen,
    CAST(1 AS BIGINT) AS calls,
    coalesce(recipientAccountId, userIdentity.accountId, '') AS account,
    coalesce(awsRegion, '') AS region,
    CAST(NULL AS VARCHAR) AS store_name,
    unnest(CASE WHEN len(key_arns) > 0 THEN key_arns ELSE [coalesce(
        requestParameters.keyId, requestParameters.destinationKeyId, requestParameters.sourceKeyId, ''
    )] END) AS key_ref,
    CASE userIdentity.type
        WHEN 'AssumedRole' THEN coalesce(userIdentity.sessionContext.sessionIssuer.arn, userIdentity.arn, '')
        WHEN 'AWSService' THEN coalesce(userIdentity.invokedBy, 'AWS service')
        WHEN 'AWSAccount' THEN coalesce(userIdentity.accountId, userIdentity.principalId, '')
        ELSE coalesce(userIdentity.arn, userIdentity.invokedBy, userIdentity.principalId, '')
    END AS principal,
    CASE
        WHEN userIdentity.type = 'AssumedRole' THEN 'role'
        WHEN userIdentity.type = 'AWSService' THEN 'service'
        WHEN userIdentity.type IN ('IAMUser', 'FederatedUser', 'IdentityCenterUser') THEN 'user'
        WHEN userIdentity.type IN ('Root', 'AWSAccount') THEN 'account'
        ELSE 'other'
    END AS principal_type,
    CASE WHEN starts_with(eventName, 'ReEncrypt') THEN 'ReEncrypt' ELSE eventName END AS operation,
    coalesce(errorCode, '') AS error_code,
    CAST(requestParameters.encryptionContext AS VARCHAR) AS context
FROM events
"""  # noqa: S608
