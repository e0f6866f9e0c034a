"""Automated evaluation of CEK-11's auditing guidelines: one ``Check`` per guideline (``evidence.checks.registry``),
run by ``evidence.services.checks``. See ``evidence.checks.base`` for the status rule and which keys count."""
