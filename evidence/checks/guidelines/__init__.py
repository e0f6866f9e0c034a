"""The check plug-ins: one module per auditing guideline (``ag01`` .. ``ag10``, ``ccm1`` .. ``ccm3``), plus
``manual``, the base of the guidelines people assess (AG-9; AG-8 uses its result while no IaC scan is recorded).

Adding a check is adding a module here with a ``Check`` subclass (``evidence.checks.base``) that sets
``guideline_id`` to an auditing guideline of the control catalog: ``evidence.checks.registry`` imports every
module of this package and orders the checks as the catalog does. Nothing else needs to list it."""
