"""The columns every long job shares: how far it is and what it is doing, which task runs it and how often it was
started, why it failed (the reason shown to people), and when it started, last gave a sign of life and ended.

A concrete job model keeps its own ``status`` field and choices and declares, in its ``job = JobKind(...)``, which
of them mean queued / running / succeeded / failed / cancelled (see ``cek.jobs.kinds``)."""

from __future__ import annotations

from django.db import models


class JobFields(models.Model):
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done (0-100).")
    phase = models.CharField(max_length=60, blank=True, help_text="What the worker is doing.")
    task_id = models.CharField(max_length=64, blank=True, help_text="The Celery task last queued for it.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="How many times it was started.")
    last_error = models.TextField(blank=True, help_text="Why it failed or was queued again, as shown to people.")
    started_at = models.DateTimeField(null=True, blank=True, help_text="When it was last started.")
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of its worker.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
