"""The mail loop ends when it is asked to, between passes and during its wait (not only on cancel)."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry
from socialops_sla.config import SlaSettings
from socialops_sla.mailing import MailDesk
from socialops_sla.metrics import SlaMetrics


async def test_a_stopped_mail_loop_ends_without_being_cancelled() -> None:
    desk = MailDesk(pool=None, settings=SlaSettings(sla_mail_poll_seconds=3600),  # type: ignore[arg-type]
                    metrics=SlaMetrics(CollectorRegistry()))
    passes = 0

    async def plan_reports() -> None:  # the database is away: the pass fails, the loop waits for the next
        nonlocal passes
        passes += 1
        raise ConnectionError("database away")

    loop = asyncio.create_task(desk.run(plan_reports))
    await asyncio.sleep(0.1)
    assert passes == 1 and not loop.done()  # waiting an hour for its next pass
    desk.stop()
    await asyncio.wait_for(loop, 2)  # ends by itself, well before the hour
    assert passes == 1 and not loop.cancelled()
    assert await desk.send_due() == 0  # stopped: no further sending starts (nor touches the database)
