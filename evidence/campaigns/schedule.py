"""The campaign reminder schedule: when the pending key owners of a campaign are reminded and when GRC is told
of the overdue ones. Every rule and default of it is here; the model, the campaign form, the service and the
daily task take theirs from this module.

- A campaign reminds every ``reminder_days`` days (its cadence: ``MIN_REMINDER_DAYS`` to ``MAX_REMINDER_DAYS``,
  ``DEFAULT_REMINDER_DAYS`` unless GRC chooses another), counted from the local day it was launched: launch day
  + N, + 2N, ...; never on the launch day itself (the launch e-mail has just gone out).
- On a reminder day, each addressee with pending attestations is reminded once; when the campaign is past its
  due date, GRC is also sent one escalation listing the overdue owners. Both are claimed per day
  (``CampaignNotice``), so a second sweep the same day mails nobody (``evidence.campaigns.services.campaign_remind``).
- The sweep runs once a day: task ``evidence.tasks.campaign_reminders`` (``evidence.campaigns.tasks``), beat
  entry "evidence-campaign-reminders" in ``cek/settings.py`` (07:00). A day the sweep does not run is a
  reminder skipped, not sent late.
"""

from __future__ import annotations

import datetime as dt

DEFAULT_REMINDER_DAYS = 7
MIN_REMINDER_DAYS = 1
MAX_REMINDER_DAYS = 90


def is_reminder_day(*, launched_on: dt.date, today: dt.date, every_days: int) -> bool:
    """Whether ``today`` is one of the cadence days of a campaign launched on ``launched_on``."""
    days = (today - launched_on).days
    return days > 0 and days % every_days == 0


def escalates(*, due_on: dt.date, today: dt.date) -> bool:
    """Whether a reminder day's sweep also escalates the overdue owners to GRC: once the due date has passed."""
    return due_on < today
