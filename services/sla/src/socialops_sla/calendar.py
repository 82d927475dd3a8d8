"""Working time in Europe/Stockholm and the deadline rule of the answer promise. Pure: no I/O.

Rule (seeds/001_206af399bca50804.txt, "Svara så fort som möjligt"):
    "Vi svarar inom 24 timmar under arbetstid, vardagar 8-17."

Default reading of that sentence (`ResponsePromise` mode `next_working_day`): the clock runs on
working days only; an item that arrives outside 08–17 or on a non-working day starts at the next
opening; the deadline is the same local time on the next working day (one working day of clock).
Non-working days are weekends and Swedish public holidays plus the de-facto ones
(midsommarafton, julafton, nyårsafton) from the `holidays` package, asked for explicitly by
category because older releases of that package differed on the eves and on Sundays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

STOCKHOLM = ZoneInfo("Europe/Stockholm")
HOLIDAY_CATEGORIES = ("public", "de_facto")


@lru_cache(maxsize=64)
def swedish_non_working_days(year: int) -> frozenset[date]:
    """Public holidays and de-facto holidays (eves) of one year in Sweden."""
    days = holidays.country_holidays("SE", years=year, categories=HOLIDAY_CATEGORIES)
    return frozenset(days.keys())


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instants must be timezone-aware")


@dataclass(frozen=True)
class WorkingCalendar:
    """When the city is at work: opening hours on working days, in one time zone.

    `always_open` is the crisis-account calendar: every second counts as working time.
    """

    tz: ZoneInfo = STOCKHOLM
    opens: time = time(8, 0)
    closes: time = time(17, 0)
    working_weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    use_swedish_holidays: bool = True
    extra_closed_days: frozenset[date] = field(default_factory=frozenset)
    always_open: bool = False

    def __post_init__(self) -> None:
        if not self.always_open and self.opens >= self.closes:
            raise ValueError("opening hours must open before they close on the same day")

    # --- days -------------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        if self.always_open:
            return True
        if day.weekday() not in self.working_weekdays or day in self.extra_closed_days:
            return False
        return not (self.use_swedish_holidays and day in swedish_non_working_days(day.year))

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        candidate = day + timedelta(days=1)
        for _ in range(3700):  # a calendar with no working day in ten years is a configuration error
            if self.is_working_day(candidate):
                return candidate
            candidate += timedelta(days=1)
        raise ValueError("calendar has no working days")

    def _opening(self, day: date) -> datetime:
        return datetime.combine(day, self.opens, self.tz)

    def _closing(self, day: date) -> datetime:
        return datetime.combine(day, self.closes, self.tz)

    @property
    def working_day_seconds(self) -> float:
        """Length of one working day of clock (9 h for 08–17)."""
        if self.always_open:
            return 86400.0
        return (datetime.combine(date(2000, 1, 3), self.closes) - datetime.combine(date(2000, 1, 3), self.opens)).total_seconds()

    # --- instants ---------------------------------------------------------------------------------

    def is_open(self, instant: datetime) -> bool:
        """Inside opening hours [opens, closes) on a working day."""
        _require_aware(instant)
        if self.always_open:
            return True
        local = instant.astimezone(self.tz)
        return self.is_working_day(local.date()) and self.opens <= local.time() < self.closes

    def next_opening(self, instant: datetime) -> datetime:
        """`instant` itself when open, otherwise the next moment the city opens (UTC)."""
        _require_aware(instant)
        if self.is_open(instant):
            return instant.astimezone(UTC)
        local = instant.astimezone(self.tz)
        day = local.date()
        if self.is_working_day(day) and local.time() < self.opens:
            return self._opening(day).astimezone(UTC)
        return self._opening(self.next_working_day(day)).astimezone(UTC)

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        """Seconds of opening hours between two instants (0 when end <= start)."""
        _require_aware(start)
        _require_aware(end)
        if end <= start:
            return 0.0
        if self.always_open:
            return (end - start).total_seconds()
        total = 0.0
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while day <= last:
            if self.is_working_day(day):
                lo = max(start, self._opening(day))
                hi = min(end, self._closing(day))
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        """The instant at which `seconds` of working time have run from `start`."""
        _require_aware(start)
        if seconds < 0:
            return self.subtract_working_seconds(start, -seconds)
        if self.always_open:
            return (start + timedelta(seconds=seconds)).astimezone(UTC)
        cursor = self.next_opening(start)
        remaining = seconds
        while True:
            day = cursor.astimezone(self.tz).date()
            available = (self._closing(day) - cursor).total_seconds()
            if remaining <= available:
                return (cursor + timedelta(seconds=remaining)).astimezone(UTC)
            remaining -= available
            cursor = self._opening(self.next_working_day(day)).astimezone(UTC)

    def subtract_working_seconds(self, end: datetime, seconds: float) -> datetime:
        """The latest instant from which `seconds` of working time run until `end`."""
        _require_aware(end)
        if self.always_open or seconds <= 0:
            return (end - timedelta(seconds=max(seconds, 0))).astimezone(UTC)
        local = end.astimezone(self.tz)
        day = local.date()
        # the last working moment at or before `end`
        if self.is_working_day(day) and local.time() > self.opens:
            cursor = min(end, self._closing(day))
        else:
            day = self._previous_working_day(day)
            cursor = self._closing(day)
        remaining = seconds
        while True:
            available = (cursor - self._opening(day)).total_seconds()
            if remaining <= available:
                return (cursor - timedelta(seconds=remaining)).astimezone(UTC)
            remaining -= available
            day = self._previous_working_day(day)
            cursor = self._closing(day)

    def _previous_working_day(self, day: date) -> date:
        candidate = day - timedelta(days=1)
        for _ in range(3700):
            if self.is_working_day(candidate):
                return candidate
            candidate -= timedelta(days=1)
        raise ValueError("calendar has no working days")

    def deadline_for(self, arrival: datetime, working_days: int = 1) -> datetime:
        """Default rule: start at the next opening, deadline the same local time N working days later.

        Tuesday 10:00 -> Wednesday 10:00; Friday 15:00 -> Monday 15:00;
        Friday 18:30 -> starts Monday 08:00 -> Tuesday 08:00; the day before a holiday skips it.
        """
        start = self.next_opening(arrival)
        if self.always_open:
            return start + timedelta(days=working_days)
        local = start.astimezone(self.tz)
        day = local.date()
        for _ in range(working_days):
            day = self.next_working_day(day)
        # Opening hours never straddle a DST gap (02:00–03:00), so the local time exists that day.
        return datetime.combine(day, local.time().replace(tzinfo=None), self.tz).astimezone(UTC)


class DeadlineMode(StrEnum):
    NEXT_WORKING_DAY = "next_working_day"  # the default reading of "24 timmar under arbetstid"
    BUSINESS_HOURS = "business_hours"  # N hours of opening-hours clock
    CALENDAR_HOURS = "calendar_hours"  # N wall-clock hours, nights and weekends included


@dataclass(frozen=True)
class ResponsePromise:
    """One account's promise: a calendar, a mode, a target, and when an item counts as at risk."""

    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    mode: DeadlineMode = DeadlineMode.NEXT_WORKING_DAY
    target_hours: float = 24.0
    at_risk_working_seconds: float = 2 * 3600.0

    @classmethod
    def for_account(
        cls,
        response_calendar: str = "business",
        response_target_hours: float = 24.0,
        at_risk_working_seconds: float = 2 * 3600.0,
        calendar: WorkingCalendar | None = None,
    ) -> ResponsePromise:
        """Map an inventory record's `response_calendar` / `response_target_hours` to a promise.

        - `always_open` (crisis accounts): N calendar hours on an always-open calendar.
        - `business` with a whole number of days (24, 48 ...): same local time N working days later.
        - `business` with any other target (e.g. 4): N hours of opening-hours clock.
        """
        base = calendar or WorkingCalendar()
        if response_calendar == "always_open":
            return cls(
                calendar=WorkingCalendar(tz=base.tz, always_open=True),
                mode=DeadlineMode.CALENDAR_HOURS,
                target_hours=response_target_hours,
                at_risk_working_seconds=at_risk_working_seconds,
            )
        if response_target_hours > 0 and float(response_target_hours) % 24 == 0:
            mode = DeadlineMode.NEXT_WORKING_DAY
        else:
            mode = DeadlineMode.BUSINESS_HOURS
        return cls(base, mode, response_target_hours, at_risk_working_seconds)

    def deadline_for(self, arrival: datetime) -> datetime:
        _require_aware(arrival)
        if self.mode is DeadlineMode.NEXT_WORKING_DAY:
            return self.calendar.deadline_for(arrival, working_days=max(1, round(self.target_hours / 24)))
        if self.mode is DeadlineMode.BUSINESS_HOURS:
            return self.calendar.add_working_seconds(arrival, self.target_hours * 3600)
        return (arrival + timedelta(hours=self.target_hours)).astimezone(UTC)

    def at_risk_at(self, arrival: datetime, deadline: datetime) -> datetime:
        """When only `at_risk_working_seconds` of working time are left (never before arrival)."""
        if self.mode is DeadlineMode.CALENDAR_HOURS:
            moment = deadline - timedelta(seconds=self.at_risk_working_seconds)
        else:
            moment = self.calendar.subtract_working_seconds(deadline, self.at_risk_working_seconds)
        return max(moment, arrival.astimezone(UTC))

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        if self.mode is DeadlineMode.CALENDAR_HOURS:
            return max(0.0, (end - start).total_seconds())
        return self.calendar.working_seconds_between(start, end)
