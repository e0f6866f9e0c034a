"""Policies and procedures (CEK-11 IG-1..3, CCM-1): versions, approval by a governance body, communication to
audiences and acknowledgements.

- ``models``: policies, versions, approvals, communications, deliveries, acknowledgements (the record bases
  they share with other features, ``TimeStamped``, ``WriteOnceModel`` and ``FrozenRecordError``, are in
  ``evidence.records``);
- ``services``: the writes (policies, versions, approval, communication, acknowledgement);
- ``selectors``: the reads (role visibility, acknowledgement coverage, the policy list and page, headline figures);
- ``forms``, ``views/``, ``urls``: the pages; ``tasks``: the policy e-mails.

Reviews, significant changes and effectiveness evaluations are in ``evidence.reviews``; uploaded documents in
``evidence.documents``.
"""
