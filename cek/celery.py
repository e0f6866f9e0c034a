"""Celery application: JSON only, late acknowledgement, configured from Django settings (CELERY_*)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cek.settings")

app = Celery("cek")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["cek.jobs"])  # the watchdog of every job kind (cek/jobs/tasks.py)

# Every worker writes a heartbeat /healthz reads (cek/workerbeat.py).
from cek.workerbeat import WorkerHeartbeat  # noqa: E402

app.steps["worker"].add(WorkerHeartbeat)
