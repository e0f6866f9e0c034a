"""The evidence tasks live with their features but keep their names, and a worker still finds every one of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

EVIDENCE_TASKS = {
    "evidence.tasks.policy_communication_emails": "evidence.policies.tasks",
    "evidence.tasks.policy_emails_pending": "evidence.policies.tasks",
    "evidence.tasks.policy_review_reminders": "evidence.reviews.tasks",
    "evidence.tasks.campaign_launch_run": "evidence.campaigns.tasks",
    "evidence.tasks.campaigns_requeue_stalled": "evidence.campaigns.tasks",
    "evidence.tasks.campaign_reminders": "evidence.campaigns.tasks",
    "evidence.tasks.finding_acceptances_expire": "evidence.findings.tasks",
    "evidence.tasks.checks_run": "evidence.checks.tasks",
    "evidence.tasks.checks_nightly": "evidence.checks.tasks",
    "evidence.tasks.checks_fail_stale": "evidence.checks.tasks",
    "evidence.tasks.pack_build": "evidence.packs.tasks",
    "evidence.tasks.packs_fail_stale": "evidence.packs.tasks",
    "evidence.tasks.packs_cleanup": "evidence.packs.tasks",
}

# A fresh interpreter, as a worker starts: Django set up, then Celery's autodiscovery and nothing else.
WORKER_VIEW = """
import json, django
django.setup()
from cek.celery import app
app.loader.import_default_modules()
print(json.dumps({name: task.__module__ for name, task in app.tasks.items()}))
"""


def test_a_starting_worker_registers_every_evidence_task_and_every_scheduled_one():
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cek.settings"}
    out = subprocess.run(
        [sys.executable, "-c", WORKER_VIEW], cwd=root, env=env, capture_output=True, text=True, check=True, timeout=120
    )
    registered = json.loads(out.stdout.strip().splitlines()[-1])
    assert {name: registered.get(name) for name in EVIDENCE_TASKS} == EVIDENCE_TASKS
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= set(registered)
