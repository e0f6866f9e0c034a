"""The infrastructure-as-code gate (AG-8): a Terraform/OpenTofu plan or a directory of ``.tf`` files, checked for
keys that would serve more than one purpose, service or tenant, keys that cannot serve their consumers, new keys
without a purpose tag and purpose tags that contradict the inventory.

- ``table.py``: the key resource types and the consumer table, (resource type, attribute path) -> purpose class;
- ``model.py``: what the readers produce (resources and their configuration references);
- ``plan.py``: reads ``terraform show -json``; ``hcl.py``: reads a directory of ``.tf`` files;
- ``gate.py``: links consumers to keys and applies ``rules.py``; ``result.py``: ``ScanResult`` and ``Violation``;
- ``selectors.py``: the inventory side (keys matched by ARN, id, alias or name; the stores' tag keys);
- ``formats.py``: text, JSON, SARIF 2.1.0 and JUnit XML;
- ``models.py``: recorded scans (``IacScan``) and the IaC addresses their findings are about (``IacAddress``);
- ``services.py``: runs the gate on a path; ``iac_scan_record`` stores a scan and keeps its findings;
- ``history.py``: reads of the recorded scans (the scans pages) and ``iac_coverage``, AG-8's figures (the check,
  the dashboard).
"""
