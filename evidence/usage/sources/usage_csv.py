"""``usage-csv``: usage already aggregated elsewhere (Athena over CloudTrail, BigQuery over a log sink, a SIEM
export), one row per store x key x principal x operation x day. The format is documented in the README ("Usage
logs"); it is what anything else can produce, so the app need not read every platform's logs itself.

Columns (a header row; names as below, any order, UTF-8, gzip accepted):

- ``store``: the key store's name in the app ('' when unknown: then matched by ``account``/``region``, if given);
- ``key``: the key as the platform names it (ARN, key id, alias, resource name, key URL, Vault path);
- ``principal``: who called; ``operation``: the platform's operation name;
- ``day``: ``YYYY-MM-DD`` (UTC); ``count``: calls that day; ``errors``: how many of them failed (0..count);
- ``first_seen``, ``last_seen``: ``YYYY-MM-DDTHH:MM:SSZ`` (UTC), optional (empty: the day's start and end);
- optional: ``error_code`` (the failed calls' code, else ``Error``), ``principal_type`` (user, role, service,
  account, other), ``account``, ``region``.

A row becomes one aggregate for the calls that succeeded and one for those that failed. A row that does not read
(a day that is not a date, a count that is not a whole number, errors above count, no key or operation) refuses
the file: nothing is written.
"""

from __future__ import annotations

from typing import Any

from evidence.usage.sources.base import PRINCIPAL_TYPES, SourceFile, UsageFileError, UsageSource, sql_string

REQUIRED = ("store", "key", "principal", "operation", "day", "count", "errors")
OPTIONAL = ("first_seen", "last_seen", "error_code", "principal_type", "account", "region")
_TIME = "coalesce(try_strptime({col}, '%Y-%m-%dT%H:%M:%SZ'), try_strptime({col}, '%Y-%m-%dT%H:%M:%S.%fZ'))"


class UsageCsv(UsageSource):
    format = "usage-csv"
    label = "Usage CSV (aggregated)"
    order = 90
    help = (
        "a CSV file with the header store,key,principal,operation,day,count,errors,first_seen,last_seen "
        "(see the README, 'Usage logs')"
    )

    def read(self, file: SourceFile) -> str:
        return (
            f"read_csv({sql_string(file.path)}, header=true, all_varchar=true, compression="
            f"{sql_string(file.compression)}, auto_detect=true, delim=',', quote='\"', escape='\"')"
        )

    def relation(self, con: Any, file: SourceFile) -> str:
        try:
            found = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {self.read(file)}").fetchall()]  # noqa: S608
        except Exception as exc:  # duckdb.Error: the engine's message
            raise UsageFileError(self.read_error(file, exc)) from None
        names = {name.strip().lower(): name for name in found}
        missing = [name for name in REQUIRED if name not in names]
        if missing:
            raise UsageFileError(
                f"{file.name}: the file has no column {', '.join(repr(name) for name in missing)}. {self.label} is "
                f"{self.help}."
            )

        def col(name: str) -> str:
            if name in names:
                return f"nullif(trim(\"{names[name].replace(chr(34), chr(34) * 2)}\"), '')"
            return "CAST(NULL AS VARCHAR)"

        types = ", ".join(sql_string(kind) for kind in PRINCIPAL_TYPES)
        first, last = _TIME.format(col=col("first_seen")), _TIME.format(col=col("last_seen"))
        return f"""
WITH rows AS (
    SELECT
        try_strptime({col("day")}, '%Y-%m-%d')::DATE AS day,
        try_cast({col("count")} AS BIGINT) AS calls,
        try_cast({col("errors")} AS BIGINT) AS errors,
        {col("first_seen")} AS first_text, {col("last_seen")} AS last_text,
        {first} AS first_at, {last} AS last_at,
        {col("store")} AS store_name, {col("key")} AS key_ref, {col("principal")} AS principal,
        {col("operation")} AS operation, {col("error_code")} AS error_code,
        coalesce(lower({col("principal_type")}), 'other') AS principal_type,
        coalesce({col("account")}, '') AS account, coalesce({col("region")}, '') AS region
    FROM {self.read(file)}
),
checked AS (
    SELECT *,
        day IS NOT NULL AND calls IS NOT NULL AND errors IS NOT NULL AND calls >= 0 AND errors >= 0
        AND errors <= calls AND key_ref IS NOT NULL AND principal IS NOT NULL AND operation IS NOT NULL
        AND (first_text IS NULL OR first_at IS NOT NULL) AND (last_text IS NULL OR last_at IS NOT NULL)
        AND principal_type IN ({types}) AS ok
    FROM rows
),
outcomes AS (
    SELECT *, unnest([
        {{'failed': false, 'n': calls - errors}},
        {{'failed': true, 'n': errors}}
    ]) AS outcome
    FROM checked
)
SELECT
    ok AS recognised,
    ok AND outcome.n > 0 AS relevant,
    CAST(NULL AS VARCHAR) AS event_id,
    day,
    coalesce(first_at, day::TIMESTAMP) AS first_seen,
    coalesce(last_at, day::TIMESTAMP + INTERVAL 86399 SECOND) AS last_seen,
    outcome.n AS calls,
    account,
    region,
    store_name,
    key_ref,
    principal,
    principal_type,
    operation,
    CASE WHEN outcome.failed THEN coalesce(error_code, 'Error') ELSE '' END AS error_code,
    CAST(NULL AS VARCHAR) AS context
FROM outcomes
WHERE (ok AND outcome.n > 0) OR (NOT ok AND NOT outcome.failed)
"""  # noqa: S608 (column names are quoted; no value of the file is interpolated)
