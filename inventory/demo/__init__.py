"""Realistic demo inventory of an AI company, for ``manage.py seed_demo`` and ``benchmarks/inventory.py``.

The company: **Northwind AI Ltd** ("us"; Application Provider and Orchestrated Service Provider) runs on
**Nimbus Cloud** (CSP), builds on **Helix Models Inc**'s models (MP) and sells to two AI customers, **Acme
Health** and **Globex Retail** (AIC), each a tenant. SSRM assignments follow the CEK-11 catalog (PI: CSP+MP;
Model: MP; Orchestrated: MP+OSP; Application: OSP+AP). Eleven services, eight key stores and about thirty
hand-made keys with bindings and grants; the demo users of ``manage.py demo_users`` own the keys.

The hand-made set is written through ``inventory.services`` (validated, history attributed to no user with the
change reason :data:`SEED_REASON`). Everything is looked up by its natural key first, so running the builder
again creates nothing and writes no history.

Deliberate problems, for the checks to find (each in its own key, see :data:`PROBLEMS`):

1. ``multi-purpose-binding``: key ``registry-signer`` is bound to the model registry for model-registry
   authentication and to the CI signing service for model-artifact signing.
2. ``cross-tenant-ai-key``: key ``prompt-archive-shared`` (inference-log encryption, an AI purpose) is bound
   for both tenants, Acme Health and Globex Retail.
3. ``purpose-label-mismatch``: key ``eval-results`` has the purpose evaluation-data encryption but its
   ``purpose`` label says ``training-data-encryption``.
4. ``missing-justification``: key ``gpu-scratch`` has no purpose justification.
5. ``stale-purpose-review``: the purpose mapping of key ``vector-backup`` was last reviewed 540 days ago.
6. ``cryptoperiod-overdue``: active key ``legacy-partner-token`` (API authentication, one-year maximum) was
   activated 700 days ago and never rotated.
7. ``active-key-without-owner``: active key ``orphan-webhook-secret`` has neither owner nor backup owner.
8. ``wildcard-grant``: key ``feature-store`` grants ``arn:aws:iam::444455556666:role/*``.
9. ``expired-grant``: key ``batch-inference`` has a grant to a contractor that expired 30 days ago.
10. ``grant-operations-outside-purpose``: key ``embedding-cache`` (an encryption purpose) grants
    ``generate-mac`` and ``verify-mac``.
11. ``exposed-without-scope``: key ``globex-integration-token`` is exposed to Globex Retail with neither
    scope nor contract reference.
12. ``platform-usage-mismatch``: key ``customer-export`` has AWS KeyUsage ``SIGN_VERIFY`` but is recorded for
    data encryption.

Bulk keys (``keys=N``) are for volume: spread over stores, purposes, owners, tenants and states (mostly
active), with unique external ids per store and the derived ``cryptoperiod_ends_on`` set. They are inserted in
batches of 2,000 rows with one "+" history row each, so that 100,000 keys take well under a minute on SQLite
and PostgreSQL (why not ``bulk_create``: see :func:`demo_bulk_keys_ensure`). They carry the label
``seeded-by=seed_demo`` and no bindings or grants (as a fresh import from a KMS would). Like a real
inventory, a few percent of them are overdue, unowned or have a stale review. Their index is part of their
name and id, and the random stream is drawn for every index, so ``--keys 500`` twice adds nothing and
``--keys 500`` then ``--keys 1000`` gives the same data as ``--keys 1000`` once (with the same seed).
"""

from __future__ import annotations

from inventory.demo.bulk import (
    BULK_BATCH,
    BULK_TEMPLATES,
    STATE_WEIGHTS,
    STORE_WEIGHTS,
    bulk_keys,
    demo_bulk_keys_ensure,
)
from inventory.demo.data import (
    ASSIGNMENTS,
    BULK_LABEL,
    DEFAULT_SEED,
    KEYS,
    PARTIES,
    PROBLEMS,
    SEED_REASON,
    SERVICES,
    STORES,
    TENANTS,
    US,
    KeySpec,
    Problem,
    external_id,
)
from inventory.demo.seed import SeedReport, demo_seed, principal_for

__all__ = [
    "ASSIGNMENTS",
    "BULK_BATCH",
    "BULK_LABEL",
    "BULK_TEMPLATES",
    "DEFAULT_SEED",
    "KEYS",
    "PARTIES",
    "PROBLEMS",
    "SEED_REASON",
    "SERVICES",
    "STATE_WEIGHTS",
    "STORES",
    "STORE_WEIGHTS",
    "TENANTS",
    "US",
    "KeySpec",
    "Problem",
    "SeedReport",
    "bulk_keys",
    "demo_bulk_keys_ensure",
    "demo_seed",
    "external_id",
    "principal_for",
]
