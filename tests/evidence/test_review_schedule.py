"""Review due-date arithmetic (evidence.reviews.schedule): calendar months, leap years, changes, reminders."""

from __future__ import annotations

import datetime as dt

import pytest

from evidence.reviews.schedule import (
    add_months,
    annual_review_due,
    change_is_open,
    change_review_deadline,
    is_overdue,
    last_reviewed,
    next_review_due,
    reminder_due,
)

D = dt.date


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2025, 3, 15), 12, D(2026, 3, 15)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),  # leap day -> 28 February of a common year
        (D(2024, 2, 29), 48, D(2028, 2, 29)),  # ... and back to a leap day four years on
        (D(2023, 2, 28), 12, D(2024, 2, 28)),  # not moved to the 29th in a leap year
        (D(2025, 1, 31), 1, D(2025, 2, 28)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2025, 12, 31), 12, D(2026, 12, 31)),
        (D(2025, 11, 30), 3, D(2026, 2, 28)),
        (D(2025, 8, 31), -6, D(2025, 2, 28)),
    ],
)
def test_add_months_keeps_the_day_or_clamps_it_to_the_end_of_a_shorter_month(start, months, expected):
    assert add_months(start, months) == expected


def test_the_annual_review_is_twelve_calendar_months_after_the_last_review():
    assert annual_review_due(D(2026, 1, 10)) == D(2027, 1, 10)
    assert annual_review_due(D(2028, 2, 29)) == D(2029, 2, 28)


def test_a_policy_never_approved_has_no_review_due():
    assert next_review_due(last_reviewed_on=None, changes=[(D(2026, 1, 1), D(2026, 1, 31))]) is None


def test_an_open_change_brings_the_review_forward():
    due = next_review_due(last_reviewed_on=D(2026, 1, 10), changes=[(D(2026, 3, 1), D(2026, 3, 31))])
    assert due == D(2026, 3, 31)


def test_a_change_addressed_by_a_later_review_no_longer_counts():
    # Reviewed on 1 April, after the change of 1 March: the next review is a year after 1 April.
    due = next_review_due(last_reviewed_on=D(2026, 4, 1), changes=[(D(2026, 3, 1), D(2026, 3, 31))])
    assert due == D(2027, 4, 1)


def test_a_review_on_the_day_of_the_change_addresses_it():
    assert not change_is_open(occurred_on=D(2026, 3, 1), last_reviewed_on=D(2026, 3, 1))
    assert change_is_open(occurred_on=D(2026, 3, 2), last_reviewed_on=D(2026, 3, 1))
    assert change_is_open(occurred_on=D(2026, 3, 2), last_reviewed_on=None)


def test_the_earliest_of_several_open_changes_wins_but_never_later_than_the_annual_date():
    changes = [(D(2026, 6, 1), D(2026, 7, 1)), (D(2026, 5, 1), D(2026, 5, 31)), (D(2026, 12, 1), D(2027, 6, 1))]
    assert next_review_due(last_reviewed_on=D(2026, 1, 10), changes=changes) == D(2026, 5, 31)
    late_change = [(D(2026, 12, 20), D(2027, 1, 19))]
    assert next_review_due(last_reviewed_on=D(2026, 1, 10), changes=late_change) == D(2027, 1, 10)


def test_a_change_deadline_counts_from_the_change_or_from_its_late_recording():
    assert change_review_deadline(occurred_on=D(2026, 3, 1), recorded_on=D(2026, 3, 1), days=30) == D(2026, 3, 31)
    assert change_review_deadline(occurred_on=D(2026, 3, 1), recorded_on=D(2026, 3, 20), days=30) == D(2026, 4, 19)
    assert change_review_deadline(occurred_on=D(2026, 6, 1), recorded_on=D(2026, 3, 1), days=30) == D(2026, 7, 1)
    assert change_review_deadline(occurred_on=D(2028, 2, 1), recorded_on=D(2028, 2, 1), days=30) == D(2028, 3, 2)


def test_the_latest_of_review_and_approval_dates_is_the_last_review():
    assert last_reviewed(D(2026, 1, 1), None, D(2026, 2, 1)) == D(2026, 2, 1)
    assert last_reviewed(None, None) is None


def test_overdue_means_the_due_date_has_passed():
    assert not is_overdue(D(2026, 5, 1), D(2026, 5, 1))
    assert is_overdue(D(2026, 5, 1), D(2026, 5, 2))
    assert not is_overdue(None, D(2026, 5, 2))


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [
        (45, None),
        (31, None),
        (30, 30),
        (29, 30),
        (8, 30),
        (7, 7),
        (1, 7),
        (0, 0),
        (-1, 0),
        (-6, 0),
        (-7, -7),
        (-13, -7),
        (-14, -14),
        (-365, -364),
    ],
)
def test_the_reminder_due_is_the_latest_reminder_day_reached(days_left, expected):
    due = D(2026, 6, 15)
    assert reminder_due(due_on=due, today=due - dt.timedelta(days=days_left)) == expected
