"""Alerting on new findings (AG-9's "alerting or remediation triggers"): each new finding of a detection rule (the
IaC gate's, key usage's) notifies, once, by e-mail the key's owners and GRC, and by a signed JSON POST the
webhooks configured for its severity (``CEK_ALERT_WEBHOOKS``). Each notification is one ``AlertDelivery`` row, a
job (``cek.jobs``) retried with backoff by a worker, whose log GRC reads at ``/evidence/alerts/``.

- ``models.py``: ``AlertDelivery`` (unique per finding, channel and target: "once").
- ``services.py``: ``finding_alerts_create`` (who is told), ``alert_delivery_send`` (one attempt),
  ``alert_delivery_retry``.
- ``webhooks.py``: the request, its HMAC-SHA256 signature, and how a receiver verifies it.
"""
