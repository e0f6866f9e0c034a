"""Findings: one per rule and subject (idempotent upsert by the checks and by attestation discrepancies), open,
risk accepted until a date, or resolved.

- ``models``: findings, severities, statuses;
- ``services``: the writes (the upsert, GRC's assign / resolve / accept-risk, reopening expired acceptances);
- ``selectors``: the reads (role visibility, the list filters, the effective status of lapsed acceptances);
- ``forms``, ``views``, ``urls``: the pages; ``tasks``: the daily acceptance-expiry task.
"""
