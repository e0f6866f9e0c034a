"""Key usage observed in audit logs (issue 13): log files become aggregates per key, principal, operation,
outcome and day; raw events are never stored.

- ``sources/``: the log formats (plug-ins; ``sources/base.py`` is the contract), each a DuckDB statement that
  turns a file into normalized rows;
- ``engine.py``: runs a source's statement under one ``GROUP BY`` with bounded memory, checks the result;
- ``keyrefs.py``: resolves the keys the logs name (ARN, key id, alias, resource name, Vault path) to inventory keys;
- ``models.py``: ``UsageIngestion`` (a job row per file), ``UsageAggregate`` and ``UnknownUsageKey`` (the subject of
  an unknown key's finding);
- ``services.py``: creating an ingestion (refusing a file already ingested) and running it (the merge), then the
  misuse rules;
- ``misuse.py``: the misuse rules (grouped queries over the last 90 days); ``findings.py``: their findings kept in
  step and new ones alerted;
- ``selectors.py``: reads with role visibility, AG-9's coverage figures; ``panel.py``: the key page's usage panel
  (registered with ``inventory.panels``);
- ``api.py``, ``views.py``, ``tasks.py``: the upload API, the read-only aggregates API, the upload page, the jobs
  (ingestion; the daily misuse evaluation).
"""
