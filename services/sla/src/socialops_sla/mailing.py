"""E-mail from the SLA service: the monthly report to each department, publishing notices.

Exactly once: every mail is a row of `sla_mail_outbox` whose `mail_key` says which mail it is
(the November report for this department and address; the flag of this account on that day), so
planning the same mail again writes nothing. A due row is sent while it is locked and marked sent
in the same transaction; a relay that refuses or is down leaves it pending with `attempts`,
`last_error` and a later `next_attempt_at` (exponential backoff). A crash between the relay's
acceptance and the commit would send it again with the same Message-ID, which mail systems and
people recognise as the same message.

When: the report for a month goes out on the second working day of the next month (Swedish
calendar, `calendar.WorkingCalendar`) from `sla_report_hour` local time, or as soon as the service
runs after that, never for a month further back than the last one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import asyncpg
import structlog
from socialops_common.events import AccountRecord
from socialops_common.mail import deliver

from .calendar import STOCKHOLM, WorkingCalendar
from .config import SlaSettings
from .followup import PublishingState
from .metrics import SlaMetrics
from .swedish import month_name, swedish_date

log = structlog.get_logger("sla.mail")

def second_working_day(year: int, month: int, calendar: WorkingCalendar | None = None) -> date:
    calendar = calendar or WorkingCalendar()
    first = date(year, month, 1)
    if not calendar.is_working_day(first):
        first = calendar.next_working_day(first)
    return calendar.next_working_day(first)


def report_due(now: datetime, hour: int = 7, calendar: WorkingCalendar | None = None) -> str | None:
    """The month whose report is due now: the previous month, from its second working day on."""
    local = now.astimezone(STOCKHOLM)
    due_day = second_working_day(local.year, local.month, calendar)
    if local < datetime.combine(due_day, time(hour), STOCKHOLM):
        return None
    previous = local.replace(day=1) - timedelta(days=1)
    return f"{previous.year:04d}-{previous.month:02d}"


@dataclass(frozen=True)
class Mail:
    mail_key: str
    kind: str  # "monthly_report" | "publishing_notice"
    recipient: str | None  # None: nobody to send it to (recorded, visible, not sent)
    subject: str
    body: str
    attachment: bytes | None = None
    attachment_name: str | None = None
    platform: str | None = None
    account_id: str | None = None
    department: str | None = None
    month: str | None = None

    @property
    def message_id(self) -> str:
        return f"<{hashlib.sha256(self.mail_key.encode()).hexdigest()[:32]}@socialops.sla>"


def monthly_report_mail(month: str, department: str, recipient: str, pdf: bytes, summary: list[str]) -> Mail:
    body = "\n".join([
        "Hej!",
        "",
        f"Här kommer månadsrapporten för sociala medier, {month_name(month)}: {department}.",
        "",
        *summary,
        "",
        "Rapporten (PDF) är bifogad. Siffrorna och hur de räknas beskrivs sist i rapporten.",
        "",
        "Det här meddelandet skickas automatiskt andra arbetsdagen varje månad.",
    ])
    slug = "".join(ch if ch.isalnum() else "-" for ch in department.lower()).strip("-")[:60]
    return Mail(f"monthly_report:{month}:{department}:{recipient}", "monthly_report", recipient,
                f"Månadsrapport sociala medier {month_name(month)}: {department}", body, pdf,
                f"manadsrapport-{month}-{slug}.pdf", department=department, month=month)


CLOSURE_CHECKLIST = (
    "1. Publicera ett sista inlägg som berättar att kontot stängs och var följarna hittar staden i stället.",
    "2. Arkivera kontot: arkivet gör en avslutande arkivering (översiktsbild och innehåll enligt kontots "
    "arkivnivå) när kontot markeras som nedlagt i kontoförteckningen.",
    "3. Uppdatera kontoförteckningen (config/accounts.yaml): status closed, closed_date och beslutet "
    "(decision_reference).",
    "4. Ta bort redaktörernas och systemets åtkomst: behörigheter i plattformen och kontots token i "
    "socialops.",
    "5. Stäng eller avpublicera kontot i plattformen när arkiveringen är klar.",
)


def publishing_notice(kind: str, record: AccountRecord, state: PublishingState, *, period_weeks: int,
                      min_posts_per_week: float, communication_email: str | None,
                      checklist_url: str | None) -> Mail | None:
    """The notice a change of publishing status calls for (None: nobody is told of a clearing)."""
    if kind == "cleared":
        return None
    when = state.flagged_at if kind == "flagged" else state.escalated_at
    assert when is not None
    since = swedish_date(state.quiet_since) if state.quiet_since else "okänt"
    recipient = record.department_email if kind == "flagged" else communication_email
    lines = [
        "Hej!",
        "",
        f"Kontot {record.name} ({record.platform.value}), som {record.department} ansvarar för, har publicerat "
        f"{state.posts_in_period} inlägg de senaste {period_weeks} veckorna. Stadens riktlinje är att publicera "
        f"minst {_number(min_posts_per_week)} gånger i veckan (\"minst ett par gånger i veckan\").",
        f"Kontot har publicerat för sällan sedan {since}.",
        "",
    ]
    if kind == "flagged":
        lines += ["Vad gör vi nu? Antingen börjar kontot publicera igen – då försvinner flaggan av sig själv "
                  "vid nästa inlägg – eller så stänger förvaltningen kontot.",
                  f"Publicerar kontot inte igen inom {period_weeks} veckor går ärendet vidare till "
                  "kommunikationsavdelningen."]
    else:
        lines += [f"Kontot flaggades {swedish_date(state.flagged_at)} "
                  f"(meddelande till {record.department}) och har inte publicerat sedan dess.",
                  "Kommunikationsavdelningen ombeds ta ställning till om kontot ska finnas kvar."]
    lines += ["", "Så stänger ni ett konto:", *CLOSURE_CHECKLIST]
    if checklist_url:
        lines += ["", f"Checklistan i sin helhet: {checklist_url}"]
    subject = ("Kontot publicerar för sällan" if kind == "flagged" else "Kontot publicerar fortfarande för sällan")
    return Mail(f"publishing:{kind}:{record.platform.value}:{record.external_id}:{when.isoformat()}",
                "publishing_notice", recipient, f"{subject}: {record.name} ({record.platform.value})",
                "\n".join(lines), platform=record.platform.value, account_id=record.external_id,
                department=record.department)


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value).replace(".", ",")


class MailDesk:
    """The outbox: `plan` writes mails (each once), `send_due` sends what is due."""

    def __init__(self, pool: asyncpg.Pool, settings: SlaSettings, metrics: SlaMetrics) -> None:
        self.pool = pool
        self.settings = settings
        self.metrics = metrics
        # Stopping is asked, not only cancelled: a cancellation that lands while the SMTP client gives
        # up on a refused connection can come back as its error (asyncio.wait_for on Python 3.11), and
        # the loop would go on retrying after the process was told to stop.
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def planned(self, keys: list[str]) -> set[str]:
        rows = await self.pool.fetch("SELECT mail_key FROM sla_mail_outbox WHERE mail_key = ANY($1::text[])", keys)
        return {r["mail_key"] for r in rows}

    @staticmethod
    async def plan(connection: asyncpg.Connection, mails: list[Mail]) -> int:
        """Write the mails not written before; returns how many are new."""
        written = 0
        for m in mails:
            status = "pending" if m.recipient else "no_recipient"
            row = await connection.fetchval(
                "INSERT INTO sla_mail_outbox (mail_key, kind, recipient, subject, body, attachment, attachment_name,"
                " platform, account_id, department, month, message_id, status)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
                " ON CONFLICT (mail_key) DO NOTHING RETURNING id",
                m.mail_key, m.kind, m.recipient, m.subject, m.body, m.attachment, m.attachment_name, m.platform,
                m.account_id, m.department, m.month, m.message_id, status)
            if row is not None:
                written += 1
                if status == "no_recipient":
                    log.warning("a mail has no recipient: recorded, not sent", mail=m.mail_key)
        return written

    async def send_due(self) -> int:
        sent = 0
        while not self._stopping.is_set():
            async with self.pool.acquire() as connection, connection.transaction():
                row = await connection.fetchrow(
                    "SELECT * FROM sla_mail_outbox WHERE status = 'pending' AND next_attempt_at <= now()"
                    " ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED")
                if row is None:
                    return sent
                error, delay = await deliver(connection, self.message(row), self.settings, table="sla_mail_outbox",
                                             key_column="id", key=row["id"], attempts=row["attempts"])
                if error is not None:
                    self.metrics.mail_failed.labels(row["kind"]).inc()
                    log.warning("mail failed; retrying later", mail=row["mail_key"], attempts=row["attempts"] + 1,
                                retry_in_s=delay, error=repr(error))
                    continue
            sent += 1
            self.metrics.mail_sent.labels(row["kind"]).inc()
            log.info("mail sent", mail=row["mail_key"], to=row["recipient"])
        return sent

    def message(self, row: Any) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.sla_sender_address
        message["To"] = row["recipient"]
        message["Subject"] = row["subject"]
        message["Message-ID"] = row["message_id"]
        message["Date"] = format_datetime(datetime.now(STOCKHOLM))
        message.set_content(row["body"])
        if row["attachment"] is not None:
            message.add_attachment(bytes(row["attachment"]), maintype="application", subtype="pdf",
                                   filename=row["attachment_name"])
        return message

    async def notices_for(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """Every publishing notice, per account, for the API."""
        out: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for r in await self.pool.fetch(
                "SELECT platform, account_id, mail_key, recipient, subject, status, created_at, sent_at"
                " FROM sla_mail_outbox WHERE kind = 'publishing_notice' ORDER BY created_at"):
            out.setdefault((r["platform"], r["account_id"]), []).append({
                "kind": r["mail_key"].split(":")[1], "recipient": r["recipient"], "subject": r["subject"],
                "status": r["status"], "created_at": r["created_at"].isoformat(),
                "sent_at": r["sent_at"].isoformat() if r["sent_at"] else None})
        return out

    async def run(self, plan_reports) -> None:  # noqa: ANN001 - the service's coroutine function
        while not self._stopping.is_set():
            try:
                await plan_reports()
                await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # database away: the mails stay in the table
                log.error("mail pass failed", error=repr(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.sla_mail_poll_seconds)
