"""The working calendar and the deadline rule: worked examples, DST, holidays, properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from socialops_sla.calendar import STOCKHOLM, DeadlineMode, ResponsePromise, WorkingCalendar

CAL = WorkingCalendar()


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=STOCKHOLM)


def as_local(instant: datetime) -> datetime:
    return instant.astimezone(STOCKHOLM).replace(tzinfo=None)


# --- worked examples (README "The rule") ------------------------------------------------------------

@pytest.mark.parametrize(
    ("arrival", "deadline"),
    [
        (local(2026, 11, 24, 10), datetime(2026, 11, 25, 10)),  # Tuesday 10:00 -> Wednesday 10:00
        (local(2026, 11, 27, 15), datetime(2026, 11, 30, 15)),  # Friday 15:00 -> Monday 15:00
        (local(2026, 11, 27, 18, 30), datetime(2026, 12, 1, 8)),  # Friday 18:30 -> Mon 08:00 start -> Tue 08:00
        (local(2026, 11, 24, 7, 15), datetime(2026, 11, 25, 8)),  # before opening: starts 08:00
        (local(2026, 11, 24, 17, 0), datetime(2026, 11, 26, 8)),  # 17:00 is closed: starts Wed 08:00
        (local(2026, 11, 28, 12), datetime(2026, 12, 1, 8)),  # Saturday -> Monday 08:00 start
        # Easter 2026: Good Friday 3 April, Easter Monday 6 April
        (local(2026, 4, 2, 11), datetime(2026, 4, 7, 11)),  # Maundy Thursday -> Tuesday after Easter
        (local(2026, 4, 3, 11), datetime(2026, 4, 8, 8)),  # Good Friday: starts Tue 08:00
        # Ascension Day Thursday 14 May 2026: Wednesday skips it
        (local(2026, 5, 13, 9), datetime(2026, 5, 15, 9)),
        # Midsommarafton Friday 19 June 2026 (de-facto holiday): Thursday -> Monday
        (local(2026, 6, 18, 16), datetime(2026, 6, 22, 16)),
        # Christmas: 23 Dec 2026 (Wed) -> julafton, juldagen, annandag jul, weekend -> Mon 28 Dec
        (local(2026, 12, 23, 14), datetime(2026, 12, 28, 14)),
        # Nyårsafton Thursday 31 Dec 2026 and New Year's Day: 30 Dec -> Monday 4 Jan 2027
        (local(2026, 12, 30, 9, 30), datetime(2027, 1, 4, 9, 30)),
        # Epiphany Wednesday 6 Jan 2027
        (local(2027, 1, 5, 10), datetime(2027, 1, 7, 10)),
    ],
)
def test_worked_examples(arrival: datetime, deadline: datetime) -> None:
    assert as_local(CAL.deadline_for(arrival)) == deadline


def test_dst_spring_forward_keeps_local_time() -> None:
    # Sweden goes to summer time on Sunday 29 March 2026: Friday 10:00 CET -> Monday 10:00 CEST
    arrival = local(2026, 3, 27, 10)
    deadline = CAL.deadline_for(arrival)
    assert as_local(deadline) == datetime(2026, 3, 30, 10)
    assert deadline - arrival.astimezone(UTC) == timedelta(days=3, hours=-1)
    assert CAL.working_seconds_between(arrival, deadline) == 9 * 3600


def test_dst_fall_back_keeps_local_time() -> None:
    # Back to winter time on Sunday 25 October 2026
    arrival = local(2026, 10, 23, 16, 45)
    deadline = CAL.deadline_for(arrival)
    assert as_local(deadline) == datetime(2026, 10, 26, 16, 45)
    assert deadline - arrival.astimezone(UTC) == timedelta(days=3, hours=1)


def test_holiday_categories_include_the_eves_but_not_every_sunday() -> None:
    days = {d for d in (date(2026, 6, 19), date(2026, 12, 24), date(2026, 12, 31))}
    assert all(not CAL.is_working_day(d) for d in days)
    assert CAL.is_working_day(date(2026, 6, 18))
    assert CAL.is_working_day(date(2026, 12, 30))
    assert not CAL.is_working_day(date(2026, 11, 29))  # a Sunday, by weekday


def test_working_seconds_between_spans_nights_and_weekends() -> None:
    assert CAL.working_seconds_between(local(2026, 11, 27, 16), local(2026, 11, 30, 9)) == 2 * 3600
    assert CAL.working_seconds_between(local(2026, 11, 30, 9), local(2026, 11, 27, 16)) == 0


def test_business_hours_mode() -> None:
    promise = ResponsePromise(mode=DeadlineMode.BUSINESS_HOURS, target_hours=24)
    # 24 opening hours = 2 days of 9 h + 6 h: Tue 10:00 -> Fri 07:00 worth -> Thursday 16:00
    deadline = promise.deadline_for(local(2026, 11, 24, 10))
    assert as_local(deadline) == datetime(2026, 11, 26, 16)
    assert promise.working_seconds_between(local(2026, 11, 24, 10), deadline) == 24 * 3600
    # an exact closing boundary stays on the closing day
    assert as_local(promise.calendar.add_working_seconds(local(2026, 11, 24, 8), 9 * 3600)) == datetime(
        2026, 11, 24, 17
    )


def test_calendar_hours_and_always_open_accounts() -> None:
    promise = ResponsePromise.for_account("always_open", 4)
    assert promise.mode is DeadlineMode.CALENDAR_HOURS
    arrival = local(2026, 12, 24, 22)
    assert promise.deadline_for(arrival) == arrival.astimezone(UTC) + timedelta(hours=4)
    assert promise.at_risk_at(arrival, promise.deadline_for(arrival)) == arrival.astimezone(UTC) + timedelta(hours=2)


def test_for_account_maps_targets_to_modes() -> None:
    assert ResponsePromise.for_account("business", 24).mode is DeadlineMode.NEXT_WORKING_DAY
    two_days = ResponsePromise.for_account("business", 48)
    assert as_local(two_days.deadline_for(local(2026, 11, 24, 10))) == datetime(2026, 11, 26, 10)
    assert ResponsePromise.for_account("business", 4).mode is DeadlineMode.BUSINESS_HOURS


def test_at_risk_is_two_working_hours_before_the_deadline() -> None:
    promise = ResponsePromise()
    arrival = local(2026, 11, 27, 15)  # Friday 15:00 -> Monday 15:00
    deadline = promise.deadline_for(arrival)
    assert as_local(promise.at_risk_at(arrival, deadline)) == datetime(2026, 11, 30, 13)
    arrival = local(2026, 11, 24, 9)  # Tue 09:00 -> Wed 09:00: 2 working hours before is Tue 16:00
    assert as_local(promise.at_risk_at(arrival, promise.deadline_for(arrival))) == datetime(2026, 11, 24, 16)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError):
        CAL.deadline_for(datetime(2026, 11, 24, 10))


def test_configured_hours_and_days() -> None:
    from datetime import time

    weekend_desk = WorkingCalendar(opens=time(10), closes=time(14), working_weekdays=frozenset({5, 6}))
    # Tuesday arrival waits for Saturday 10:00, deadline Sunday 10:00
    assert as_local(weekend_desk.deadline_for(local(2026, 11, 24, 12))) == datetime(2026, 11, 29, 10)


# --- properties ----------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=400, deadline=None)
@given(instants)
def test_deadline_is_after_arrival_and_inside_opening_hours(arrival: datetime) -> None:
    deadline = CAL.deadline_for(arrival)
    assert deadline >= arrival
    assert CAL.is_open(deadline)
    assert CAL.is_working_day(deadline.astimezone(STOCKHOLM).date())


@settings(max_examples=400, deadline=None)
@given(instants)
def test_exactly_one_working_day_of_clock(arrival: datetime) -> None:
    assert CAL.working_seconds_between(arrival, CAL.deadline_for(arrival)) == pytest.approx(9 * 3600)


@settings(max_examples=400, deadline=None)
@given(instants, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)))
def test_deadline_is_monotone(arrival: datetime, later_by: timedelta) -> None:
    assert CAL.deadline_for(arrival) <= CAL.deadline_for(arrival + later_by)


@settings(max_examples=300, deadline=None)
@given(instants, st.floats(min_value=0, max_value=200 * 3600))
def test_add_and_subtract_working_seconds_agree(start: datetime, seconds: float) -> None:
    end = CAL.add_working_seconds(start, seconds)
    assert CAL.working_seconds_between(start, end) == pytest.approx(seconds, abs=1e-3)
    back = CAL.subtract_working_seconds(end, seconds)
    assert CAL.working_seconds_between(back, end) == pytest.approx(seconds, abs=1e-3)
    # `back` may lie before `start` only across closed time: no working second between them
    assert CAL.working_seconds_between(min(start, back), max(start, back)) == pytest.approx(0, abs=1e-3)
