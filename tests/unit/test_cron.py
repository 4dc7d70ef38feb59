"""composer.domain.cron: when a CronJob's schedule fires next, read as robfig/cron (the CronJob
controller's parser) reads it. tests/cluster_real/test_kinds_real.py checks a schedule firing on the
real controller; here the reading of each form."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from composer.domain.cron import CronError, next_run, parse

WEDNESDAY = datetime(2026, 12, 2, 5, 43, 10, tzinfo=UTC)  # a Wednesday, 05:43:10 UTC


@pytest.mark.parametrize(("schedule", "expected"), [
    ("* * * * *", datetime(2026, 12, 2, 5, 44)),
    ("*/5 * * * *", datetime(2026, 12, 2, 5, 45)),
    ("43 * * * *", datetime(2026, 12, 2, 6, 43)),  # strictly after: not the minute it is in
    ("0 3 * * *", datetime(2026, 12, 3, 3, 0)),
    ("0 9 * * MON-FRI", datetime(2026, 12, 2, 9, 0)),
    ("0 9 * * sat,sun", datetime(2026, 12, 5, 9, 0)),
    ("15 10-12/2 * * *", datetime(2026, 12, 2, 10, 15)),
    ("0 0 1 1 *", datetime(2027, 1, 1, 0, 0)),
    ("0 0 1 JAN-MAR ?", datetime(2027, 1, 1, 0, 0)),
    ("@hourly", datetime(2026, 12, 2, 6, 0)),
    ("@daily", datetime(2026, 12, 3, 0, 0)),
    ("@weekly", datetime(2026, 12, 6, 0, 0)),  # Sunday
    ("@monthly", datetime(2027, 1, 1, 0, 0)),
    ("@yearly", datetime(2027, 1, 1, 0, 0)),
    ("5/20 * * * *", datetime(2026, 12, 2, 5, 45)),  # N/step: from N to the end
    # Both days restricted: either one fires (the 4th is a Friday, the 15th comes later).
    ("30 4 15 * 5", datetime(2026, 12, 4, 4, 30)),
    # A * in one of them: the other decides alone.
    ("30 4 15 * *", datetime(2026, 12, 15, 4, 30)),
    # A step over 1 restricts (robfig/cron clears its "star" mark): odd days or Sundays.
    ("0 0 */2 * 0", datetime(2026, 12, 3, 0, 0)),
])
def test_the_next_run_of_each_form(schedule, expected):
    assert next_run(schedule, WEDNESDAY) == expected.replace(tzinfo=UTC)


def test_a_schedule_that_never_fires_has_no_next_run():
    assert next_run("0 0 30 2 *", WEDNESDAY) is None


def test_a_time_zone_is_the_schedule_s_clock():
    berlin = ZoneInfo("Europe/Berlin")  # UTC+1 in December
    upcoming = next_run("0 3 * * *", WEDNESDAY.astimezone(berlin))
    assert upcoming == datetime(2026, 12, 3, 3, 0, tzinfo=berlin)
    assert upcoming.astimezone(UTC) == datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(("schedule", "problem"), [
    ("* * * *", "five fields"),
    ("61 * * * *", "outside 0-59"),
    ("* * * * 7", "outside 0-6"),  # robfig/cron reads days of the week 0-6 only
    ("*/0 * * * *", "at least 1"),
    ("@often", "unknown macro"),
    ("x * * * *", "not a number"),
    ("5-1 * * * *", "outside"),
])
def test_what_cannot_be_read_says_why(schedule, problem):
    with pytest.raises(CronError, match=problem):
        parse(schedule)
    assert next_run(schedule, WEDNESDAY) is None
