"""OSCAL exports (NIST Open Security Controls Assessment Language, JSON, OSCAL 1.1.3): what GRC platforms and
auditors exchange.

- :mod:`.assessment_results`: one check run as an OSCAL *assessment-results* document (the CEK-11 guidelines as
  reviewed objectives, one observation per guideline, findings and risks for the failing and partial ones, the
  CEK-11.1 answer);
- :mod:`.component`: the SSRM responsibilities as an OSCAL *component-definition* (per SSRM layer, which party
  holds which role);
- :mod:`.common`: identifiers, timestamps, properties and the canonical JSON both share; :mod:`.selectors`: the
  reads (a fixed number of queries whatever the size of the inventory).

Both documents are pure functions of the data: UUIDs are uuid5 of stable ids, timestamps come from the records,
JSON is written with sorted keys, so the same data gives a byte-identical file. Only the control text the app
ships (``cek/control/cek-11.yaml``) is used, referenced as its AICM catalog and version; nothing else of CSA's
catalog is reproduced.
"""
