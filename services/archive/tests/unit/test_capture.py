"""Which account captures are due (Stockholm city archive guidance, seed 000)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from socialops_archive.capture import captures_due

NOW = datetime(2026, 1, 3, 8, 0, tzinfo=UTC)


def account(external_id: str, level: str = "unique", status: str = "active", start: date | None = None,
            closed: date | None = None) -> dict:
    return {"platform": "facebook", "external_id": external_id, "archive_level": level, "status": status,
            "start_date": start, "closed_date": closed}


def test_every_account_that_existed_last_year_is_captured_once_for_it() -> None:
    plans = captures_due([account("a"), account("new", start=date(2026, 1, 2))], set(), NOW)
    assert [(p.account_id, p.reason, p.year) for p in plans] == [("a", "yearly", 2025)]
    assert plans[0].period_from == datetime(2025, 1, 1, tzinfo=UTC)
    assert plans[0].period_to == datetime(2026, 1, 1, tzinfo=UTC)
    assert captures_due([account("a")], {("facebook", "a", "yearly", 2025)}, NOW) == []


def test_a_closed_account_is_captured_at_closure_and_for_its_last_full_year() -> None:
    closed = account("c", level="overview", status="closed", closed=date(2026, 1, 2))
    plans = captures_due([closed], set(), NOW)
    assert [(p.reason, p.year) for p in plans] == [("yearly", 2025), ("closure", 2026)]
    assert not plans[1].wants_package  # overview level: the overview snapshot only
    done = {("facebook", "c", p.reason, p.year) for p in plans}
    assert captures_due([closed], done, NOW) == []


def test_levels_decide_package_and_direct_messages() -> None:
    unique, full = (captures_due([account(x, level=x)], set(), NOW)[0] for x in ("unique", "full"))
    assert unique.wants_package and not unique.includes_direct_messages
    assert full.wants_package and full.includes_direct_messages


def test_no_yearly_capture_for_years_before_the_archive_held_anything() -> None:
    assert captures_due([account("a")], set(), NOW, first_year=2026) == []
