"""Background jobs in templates.

{% load jobs %}
<div class="card progress-card" data-progress-url="{{ pack|job_status_url }}">  -> the URL progress.js polls
"""

from __future__ import annotations

from django import template

from cek.jobs.status import job_status_url as _job_status_url

register = template.Library()


@register.filter
def job_status_url(job) -> str:
    return _job_status_url(job)
