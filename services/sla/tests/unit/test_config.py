"""Settings parsing and the bounded label values."""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from socialops_common.events import AccountRecord, Platform
from socialops_sla.config import ManualClock, SlaSettings
from socialops_sla.metrics import SlaMetrics
from socialops_sla.service import SlaService


def test_accounts_outside_the_inventory_share_one_label_and_get_the_default_promise() -> None:
    from datetime import UTC, datetime

    service = SlaService(SlaSettings(sla_at_risk_working_hours=1), pool=None, producer=None,  # type: ignore[arg-type]
                         clock=ManualClock(datetime(2026, 11, 24, tzinfo=UTC)), metrics=SlaMetrics(CollectorRegistry()))
    service.accounts[("facebook", "p1")] = AccountRecord(
        platform=Platform.FACEBOOK, external_id="p1", name="Krisinfo", department="Stadsledningskontoret",
        response_calendar="always_open", response_target_hours=4)
    assert service.labels("facebook", "p1", "Stadsledningskontoret") == ("facebook", "p1", "Stadsledningskontoret")
    assert service.labels("facebook", "random-page", None) == ("facebook", "unlisted", "unknown")
    promise, department = service.promise_for(Platform.FACEBOOK, "p1")
    assert promise.calendar.always_open and promise.target_hours == 4 and department == "Stadsledningskontoret"
    assert promise.at_risk_working_seconds == 3600
    default, department = service.promise_for(Platform.FACEBOOK, "random-page")
    assert not default.calendar.always_open and department is None
