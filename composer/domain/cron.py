"""When a CronJob's schedule fires next, read as the CronJob controller reads it (robfig/cron's standard
parser): five fields (minute, hour, day of month, month, day of week) with ``*``, ``?``, lists, ranges,
steps and names (``JAN``, ``MON``), or a macro (``@hourly``, ``@daily`` …).

As in cron, when both the day of month and the day of week are restricted, a day matching either one
fires; a ``*`` in either makes the other decide alone (``*/2`` restricts, as in robfig/cron). Days of
the week are 0 (Sunday) to 6, as robfig/cron reads them; the API server refuses what it cannot read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# (lowest, highest, names from the lowest on)
_FIELDS = ((0, 59, ()), (0, 23, ()), (1, 31, ()), (1, 12, _MONTHS), (0, 6, _DAYS))
_SEARCH_DAYS = 366 * 5  # a schedule that fires less often than that (Feb 30th) never does


class CronError(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool  # the day of month field is * (the day of week decides alone)
    any_weekday: bool

    def day_matches(self, moment: datetime) -> bool:
        weekday = (moment.weekday() + 1) % 7
        by_day, by_weekday = moment.day in self.days, weekday in self.weekdays
        if self.any_day or self.any_weekday:
            return by_day and by_weekday
        return by_day or by_weekday

    def next_after(self, moment: datetime) -> datetime | None:
        """The first time strictly after ``moment`` (to the minute, in ``moment``'s time zone) it fires."""
        candidate = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        last_day = candidate + timedelta(days=_SEARCH_DAYS)
        while candidate < last_day:
            if candidate.month not in self.months or not self.day_matches(candidate):
                candidate = (candidate + timedelta(days=1)).replace(hour=0, minute=0)
            elif candidate.hour not in self.hours:
                candidate = (candidate + timedelta(hours=1)).replace(minute=0)
            elif candidate.minute not in self.minutes:
                candidate += timedelta(minutes=1)
            else:
                return candidate
        return None


def parse(text: str) -> Schedule:
    """A schedule from its five fields or a macro; CronError says what is wrong."""
    spec = MACROS.get(text.strip().lower(), text) if text.strip().startswith("@") else text
    if spec.strip().startswith("@"):
        raise CronError(f"unknown macro {text.strip()!r}")
    parts = spec.split()
    if len(parts) != 5:
        raise CronError(f"a schedule has five fields (minute hour day month weekday), not {len(parts)}")
    values = [_field(part, *limits) for part, limits in zip(parts, _FIELDS, strict=True)]
    return Schedule(*values, any_day=_is_any(parts[2]), any_weekday=_is_any(parts[4]))


def next_run(text: str, after: datetime) -> datetime | None:
    """When the schedule fires next after ``after``; None when it cannot be read or never fires."""
    try:
        return parse(text).next_after(after)
    except CronError:
        return None


def _field(text: str, lowest: int, highest: int, names: tuple[str, ...]) -> frozenset[int]:
    found: set[int] = set()
    for item in text.split(","):
        span, _, step_text = item.partition("/")
        step = _number(step_text, names, lowest) if step_text else 1
        if step < 1:
            raise CronError(f"step {step_text!r} must be at least 1")
        if span in ("*", "?"):
            first, last = lowest, highest
        elif "-" in span:
            start, _, end = span.partition("-")
            first, last = _number(start, names, lowest), _number(end, names, lowest)
        else:
            first = _number(span, names, lowest)
            last = highest if step_text else first
        if not (lowest <= first <= last <= highest):
            raise CronError(f"{item!r} is outside {lowest}-{highest}")
        found.update(range(first, last + 1, step))
    return frozenset(found)


def _is_any(text: str) -> bool:
    """``*`` or ``?`` (with no step, or a step of 1) somewhere in the field: robfig/cron's "star" mark,
    which a step over 1 clears (``*/2`` restricts the days as much as a list does)."""
    for item in text.split(","):
        span, _, step = item.partition("/")
        if span in ("*", "?") and step in ("", "1"):
            return True
    return False


def _number(text: str, names: tuple[str, ...], lowest: int) -> int:
    upper = text.upper()
    if upper in names:
        return names.index(upper) + lowest
    if not text.isdigit():
        raise CronError(f"{text!r} is not a number")
    return int(text)
