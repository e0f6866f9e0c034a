"""Key usage observed in audit logs (issue 13): log files become aggregates per key, principal, operation,
outcome and day; raw events are never stored.

- ``sources/``: the log formats (plug-ins; ``sources/base.py`` is the contract), each a DuckDB statement that
  turns a file into normalized rows;
- ``engine.py``: runs a source's statement under one ``GROUP BY`` with bounded memory, checks the result;
- ``keyrefs.py``: resolves the keys the logs name (ARN, key id, alias, resource name, Vault path) to inventory keys;
- ``models.py``: ``UsageIngestion`` (a job row per file) and ``UsageAggregate``;
- ``services.py``: creating an ingestion (refusing a file already ingested) and running it (the merge);
- ``api.py``, ``views.py``, ``tasks.py``: the upload API, the read-only aggregates API, the upload page, the job.
"""
