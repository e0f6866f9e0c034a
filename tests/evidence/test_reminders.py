"""Review reminders: exactly which e-mails go out on which days, once each, to whom."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from evidence.models import ChangeEvent, ReviewReminder
from evidence.reviews import services, tasks
from tests.evidence.policies import policy_in_force
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
D = dt.date


def at(day: dt.date):
    return time_machine.travel(dt.datetime(day.year, day.month, day.day, 6, 0, tzinfo=dt.UTC), tick=False)


@pytest.fixture
def policy(grc_user):
    owner = UserFactory(username="olga", email="olga@example.com", roles=["key-owners"])
    with at(D(2025, 6, 1)):
        return policy_in_force(grc=grc_user, approved_on=D(2025, 6, 1), owner=owner, title="Key purpose policy")


def run_daily(first: dt.date, last: dt.date, *, times: int = 1) -> dict[dt.date, list[str]]:
    """Run the reminder service every day from ``first`` to ``last`` (``times`` a day); the subjects per day."""
    sent: dict[dt.date, list[str]] = {}
    day = first
    while day <= last:
        mail.outbox.clear()
        for _ in range(times):
            with at(day):
                services.policy_review_reminders_send(today=day)
        if mail.outbox:
            sent[day] = [message.subject for message in mail.outbox]
        day += dt.timedelta(days=1)
    return sent


def test_reminders_go_out_30_7_and_0_days_before_and_weekly_while_overdue(policy):
    assert policy.next_review_due_on == D(2026, 6, 1)
    sent = run_daily(D(2026, 4, 1), D(2026, 6, 30))
    assert sent == {
        D(2026, 5, 2): ["Review due in 30 days: Key purpose policy"],
        D(2026, 5, 25): ["Review due in 7 days: Key purpose policy"],
        D(2026, 6, 1): ["Review due today: Key purpose policy"],
        D(2026, 6, 8): ["Review overdue by 7 days: Key purpose policy"],
        D(2026, 6, 15): ["Review overdue by 14 days: Key purpose policy"],
        D(2026, 6, 22): ["Review overdue by 21 days: Key purpose policy"],
        D(2026, 6, 29): ["Review overdue by 28 days: Key purpose policy"],
    }
    assert list(ReviewReminder.objects.order_by("sent_on").values_list("days_before", flat=True)) == [
        30, 7, 0, -7, -14, -21, -28,
    ]  # fmt: skip


def test_running_twice_a_day_sends_each_reminder_once(policy):
    sent = run_daily(D(2026, 5, 1), D(2026, 6, 9), times=2)
    assert sorted(sent) == [D(2026, 5, 2), D(2026, 5, 25), D(2026, 6, 1), D(2026, 6, 8)]
    assert all(len(subjects) == 1 for subjects in sent.values())


def test_the_reminder_goes_to_the_owner_with_links_and_the_open_changes(policy, grc_user):
    with at(D(2026, 4, 20)):
        services.change_event_save(
            event=ChangeEvent(
                kind="model", title="New foundation model", description="Switch.", occurred_on=D(2026, 4, 20)
            ),
            actor=grc_user,
            policies=[policy],
        )
    policy.refresh_from_db()
    assert policy.next_review_due_on == D(2026, 5, 20)  # the change's deadline, before the annual 1 June
    with at(D(2026, 4, 20)):
        services.policy_review_reminders_send(today=D(2026, 4, 20))
    (message,) = mail.outbox
    assert message.to == ["olga@example.com"]
    assert message.subject == "Review due in 30 days: Key purpose policy"
    assert "New foundation model" in message.body
    assert f"https://cek.example.com/evidence/policies/{policy.pk}/reviews/new/" in message.body
    assert "New foundation model" in message.alternatives[0][0]


def test_a_due_date_brought_forward_sends_the_reminder_at_once_with_the_days_left(policy, grc_user):
    run_daily(D(2026, 3, 1), D(2026, 3, 10))
    assert not ReviewReminder.objects.exists()
    with at(D(2026, 3, 11)):
        services.change_event_save(
            event=ChangeEvent(
                kind="regulatory", title="EU AI Act obligations", description="New duties.", occurred_on=D(2026, 2, 20)
            ),
            actor=grc_user,
            policies=[policy],
        )
    sent = run_daily(D(2026, 3, 11), D(2026, 4, 11))
    # Due on 10 April (recorded late: 30 days from 11 March): reminded at once, then 7 and 0 days before.
    assert sent == {
        D(2026, 3, 11): ["Review due in 30 days: Key purpose policy"],
        D(2026, 4, 3): ["Review due in 7 days: Key purpose policy"],
        D(2026, 4, 10): ["Review due today: Key purpose policy"],
    }


def test_a_missed_day_is_caught_up_once_with_the_latest_reminder(policy):
    with at(D(2026, 6, 17)):
        services.policy_review_reminders_send(today=D(2026, 6, 17))
        services.policy_review_reminders_send(today=D(2026, 6, 17))
    assert [m.subject for m in mail.outbox] == ["Review overdue by 16 days: Key purpose policy"]
    assert ReviewReminder.objects.get().days_before == -14


def test_a_review_stops_the_reminders(policy, grc_user):
    run_daily(D(2026, 5, 1), D(2026, 6, 2))
    with at(D(2026, 6, 2)):
        services.policy_review_record(
            policy=policy, actor=grc_user, reviewer=grc_user, reviewed_on=D(2026, 6, 2), outcome="no-change"
        )
    assert run_daily(D(2026, 6, 3), D(2026, 7, 31)) == {}


def test_without_a_reachable_owner_grc_staff_are_reminded(policy, grc_user):
    policy.owner.is_active = False
    policy.owner.save()
    with at(D(2026, 6, 1)):
        services.policy_review_reminders_send(today=D(2026, 6, 1))
    (message,) = mail.outbox
    assert message.to == [grc_user.email]
    assert "cannot receive e-mail" in message.body


def test_a_failed_send_is_not_recorded_and_is_retried_on_the_next_run(policy, monkeypatch):
    def refuse(**kwargs):
        raise ConnectionRefusedError("SMTP server down")

    monkeypatch.setattr("evidence.reviews.services.email_send", refuse)
    with at(D(2026, 6, 1)):
        assert services.policy_review_reminders_send(today=D(2026, 6, 1)) == []
    assert not ReviewReminder.objects.exists()
    monkeypatch.undo()
    with at(D(2026, 6, 2)):
        assert len(services.policy_review_reminders_send(today=D(2026, 6, 2))) == 1
    assert [m.subject for m in mail.outbox] == ["Review overdue by 1 day: Key purpose policy"]


def test_the_daily_task_refreshes_due_dates_and_sends(policy):
    with at(D(2026, 6, 1)):
        result = tasks.policy_review_reminders()
    assert result == {"date": "2026-06-01", "due_dates_changed": 0, "reminders_sent": 1}
    with at(D(2026, 6, 1)):
        assert tasks.policy_review_reminders()["reminders_sent"] == 0


def test_the_beat_schedule_runs_the_reminders_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["evidence-policy-review-reminders"]
    assert entry["task"] == "evidence.tasks.policy_review_reminders"
    assert entry["schedule"].hour == {6} and entry["schedule"].minute == {0}
    assert "evidence.tasks.policy_review_reminders" in tasks.policy_review_reminders.app.tasks
