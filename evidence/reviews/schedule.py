"""When a policy review is due, and which reminder goes out when: all the date arithmetic in one place.

Rules (CEK-11 IG-6: review at least annually, or when significant system, model or regulatory changes occur):

- A policy is reviewed at the latest 12 calendar months after it was last reviewed or last approved,
  whichever is later (approving a new version is the governance body's review). 12 calendar months after
  29 February is 28 February of the next year.
- A significant change (``ChangeEvent``) that affects the policy makes a review due by its deadline: the
  later of the day the change takes effect and the day it was recorded, plus ``CEK_CHANGE_REVIEW_DAYS``.
  The deadline is fixed when the change is recorded, so changing the setting later does not move it.
- A change stays open for a policy until the policy is reviewed or approved on or after the day the change
  took effect; the next review is due on the earliest of the annual date and the open changes' deadlines.
- A policy without an approved version, or a retired one, has no review due.
- Overdue: the due date has passed (due today is not overdue yet).
- Reminders to the policy owner: 30, 7 and 0 days before the due date, then every 7 days while overdue. If
  a reminder day was missed (the scheduler was down, or a change made a review due sooner), the latest
  reminder that should have gone out is sent on the next run, once.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable

ANNUAL_REVIEW_MONTHS = 12
REMINDER_DAYS_BEFORE = (30, 7, 0)
OVERDUE_REMINDER_INTERVAL_DAYS = 7


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole calendar months, clamped to the end of a shorter month (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def annual_review_due(last_reviewed_on: dt.date) -> dt.date:
    return add_months(last_reviewed_on, ANNUAL_REVIEW_MONTHS)


def change_review_deadline(*, occurred_on: dt.date, recorded_on: dt.date, days: int) -> dt.date:
    """The review a change triggers is due ``days`` after it takes effect, counted from when it was recorded
    if it was recorded late (a change entered after the fact still leaves time to review)."""
    return max(occurred_on, recorded_on) + dt.timedelta(days=days)


def change_is_open(*, occurred_on: dt.date, last_reviewed_on: dt.date | None) -> bool:
    """A change is addressed by a review or approval on or after the day it took effect."""
    return last_reviewed_on is None or occurred_on > last_reviewed_on


def last_reviewed(*dates: dt.date | None) -> dt.date | None:
    """The latest of the given review and approval dates (None when there is none)."""
    present = [d for d in dates if d is not None]
    return max(present) if present else None


def next_review_due(
    *, last_reviewed_on: dt.date | None, changes: Iterable[tuple[dt.date, dt.date]] = ()
) -> dt.date | None:
    """The next review due date from the latest review/approval date and the ``(occurred_on, deadline)`` of
    each change affecting the policy. None when there is nothing to review against (never approved)."""
    if last_reviewed_on is None:
        return None
    due = annual_review_due(last_reviewed_on)
    for occurred_on, deadline in changes:
        if change_is_open(occurred_on=occurred_on, last_reviewed_on=last_reviewed_on):
            due = min(due, deadline)
    return due


def is_overdue(due_on: dt.date | None, today: dt.date) -> bool:
    return due_on is not None and due_on < today


def days_until(due_on: dt.date, today: dt.date) -> int:
    """Days left until ``due_on``; negative when overdue."""
    return (due_on - today).days


def reminder_due(*, due_on: dt.date, today: dt.date) -> int | None:
    """The reminder that should have gone out by ``today`` for a review due on ``due_on``, as days before the
    due date (30, 7, 0; -7, -14, ... while overdue), or None when none has come due yet.

    Run daily, this names a new reminder exactly on the reminder days; on the days between, it names the
    one already sent."""
    left = days_until(due_on, today)
    if left > max(REMINDER_DAYS_BEFORE):
        return None
    if left >= 0:
        return min(days for days in REMINDER_DAYS_BEFORE if days >= left)
    weeks = -left // OVERDUE_REMINDER_INTERVAL_DAYS
    return -weeks * OVERDUE_REMINDER_INTERVAL_DAYS
