"""Attestation campaigns: key owners confirm, per key, a versioned statement set; discrepancies open findings;
reminders and escalation by e-mail.

- ``schedule``: the campaign reminder schedule (cadence, reminder days, escalation): its one place;
- ``models``: campaigns, attestations, the statement sets and the e-mail log (``CampaignNotice``);
- ``services``: the writes (create, launch, answer, reassign, remind and escalate, close, results CSV);
- ``selectors``: the reads (progress overall and per owner, attestation lists, the key owner's inbox);
- ``forms``, ``views``, ``urls``: the pages; ``tasks``: launch on a worker, stalled launches, daily reminders.
"""
