"""Realistic demo inventory of an AI company, for ``manage.py seed_demo`` and ``benchmarks/inventory.py``.

The company: **Northwind AI Ltd** ("us"; Application Provider and Orchestrated Service Provider) runs on
**Nimbus Cloud** (CSP), builds on **Helix Models Inc**'s models (MP) and sells to two AI customers, **Acme
Health** and **Globex Retail** (AIC), each a tenant. SSRM assignments follow the CEK-11 catalog (PI: CSP+MP;
Model: MP; Orchestrated: MP+OSP; Application: OSP+AP). Eleven services, eight key stores and about thirty
hand-made keys with bindings and grants; the demo users of ``manage.py demo_users`` own the keys.

The hand-made set is written through ``inventory.services`` (validated, history attributed to no user with the
change reason :data:`SEED_REASON`). Everything is looked up by its natural key first, so running the builder
again creates nothing and writes no history.

Deliberate problems, for the checks to find: :data:`PROBLEMS` is their one definition (what each is, on which
key, which guidelines it fails and which findings it opens). ``seed_demo`` prints it, and
``tests/evidence/test_demo.py`` asserts that the demo's first check run opens exactly those findings and fails
exactly those guidelines. Each sits on its own key; the last two sit on the usage log and an IaC repository
that ``evidence.demo`` records.

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
    USAGE_INTRUDER,
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
    "USAGE_INTRUDER",
    "KeySpec",
    "Problem",
    "SeedReport",
    "bulk_keys",
    "demo_bulk_keys_ensure",
    "demo_seed",
    "external_id",
    "principal_for",
]
