"""Dates and months as people in Sweden read them (Stockholm time): "24 november 2026"."""

from __future__ import annotations

from datetime import date, datetime

from .calendar import STOCKHOLM
from .followup import month_days

MONTH_NAMES = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
               "november", "december")


def month_name(month: str) -> str:
    """'2026-11' -> 'november 2026'."""
    first, _ = month_days(month)
    return f"{MONTH_NAMES[first.month - 1]} {first.year}"


def swedish_date(moment: datetime | date | None) -> str:
    if moment is None:
        return "okänt"
    day = moment.astimezone(STOCKHOLM).date() if isinstance(moment, datetime) else moment
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"
