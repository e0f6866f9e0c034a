"""Automated evaluation of CEK-11's auditing guidelines (AG-1..10, CCM-1..3): one ``Check`` per guideline.

- ``base``: the ``Check`` interface, its ``Outcome``, the status rule and the ``CheckContext`` that reads the
  inventory once for every check; ``guidelines/``: the checks themselves, one module each, registering
  themselves; ``registry``: the registered checks in catalog order;
- ``models``: check runs, their per-guideline results, manual evidence;
- ``services``: the writes (start, execute and retry a run, keep the findings of the checks' rules in step,
  fail stale runs, record manual evidence); ``selectors``: the reads (runs, results, trend, manual evidence);
- ``forms``, ``views``, ``urls``: the pages; ``api``: the DRF check-run endpoints; ``tasks``: run on a worker,
  nightly run, stale runs.
"""
