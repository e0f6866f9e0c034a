"""evidence.campaigns.schedule: the one place of the campaign reminder schedule."""

from __future__ import annotations

import datetime as dt

import pytest

from evidence.campaigns import schedule
from evidence.campaigns.forms import CampaignForm
from evidence.models import Campaign

LAUNCHED = dt.date(2025, 3, 10)


@pytest.mark.parametrize(
    ("days_after_launch", "every_days", "reminds"),
    [(0, 7, False), (1, 7, False), (7, 7, True), (8, 7, False), (14, 7, True), (3, 1, True), (-7, 7, False)],
)
def test_it_reminds_on_each_cadence_day_after_the_launch_day(days_after_launch, every_days, reminds):
    today = LAUNCHED + dt.timedelta(days=days_after_launch)
    assert schedule.is_reminder_day(launched_on=LAUNCHED, today=today, every_days=every_days) is reminds


def test_it_escalates_only_after_the_due_date():
    due = dt.date(2025, 4, 1)
    assert not schedule.escalates(due_on=due, today=due)
    assert schedule.escalates(due_on=due, today=due + dt.timedelta(days=1))


def test_the_model_and_the_form_take_the_cadence_from_the_schedule():
    assert Campaign._meta.get_field("reminder_days").default == schedule.DEFAULT_REMINDER_DAYS
    field = CampaignForm().fields["reminder_days"]
    assert (field.min_value, field.max_value, field.initial) == (
        schedule.MIN_REMINDER_DAYS,
        schedule.MAX_REMINDER_DAYS,
        schedule.DEFAULT_REMINDER_DAYS,
    )
