"""Sending e-mail: the SMTP settings and the one send call every service that mails uses.

The archive mails registrations to the registrar, the SLA service monthly reports and publishing
notices to the departments; both keep what they send in an outbox table and retry with
`retry_delay` until the relay accepts (so a relay that is down delays mail, it never loses it).
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import aiosmtplib

from .settings import CommonSettings


class SmtpSettings(CommonSettings):
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: bool = False  # implicit TLS (SMTPS)
    smtp_starttls: bool = False
    smtp_timeout_s: float = 15.0
    mail_retry_base_s: float = 5.0
    mail_retry_max_s: float = 3600.0


async def send_mail(message: EmailMessage, settings: SmtpSettings) -> None:
    """Hand one message to the relay (raises when it does not accept it)."""
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_user,
        password=settings.smtp_password,
        use_tls=settings.smtp_tls,
        start_tls=settings.smtp_starttls if not settings.smtp_tls else None,
        timeout=settings.smtp_timeout_s,
    )


def retry_delay(attempts: int, base_s: float, max_s: float) -> float:
    """Exponential backoff: base, 2×base, 4×base … capped."""
    return min(max_s, base_s * 2 ** max(0, attempts - 1))


async def deliver(connection: Any, message: EmailMessage, settings: SmtpSettings, *, table: str, key_column: str,
                  key: Any, attempts: int) -> tuple[Exception | None, float]:
    """Send one outbox row's message and record the outcome on the row, in the caller's transaction
    (which holds the row locked): `sent`, or still pending with one more attempt, the error and the
    next attempt after the backoff. Returns (the error or None, the delay until the next attempt)."""
    try:
        await send_mail(message, settings)
    except Exception as error:  # the relay refused or is unreachable: retry later, visibly
        delay = retry_delay(attempts + 1, settings.mail_retry_base_s, settings.mail_retry_max_s)
        await connection.execute(
            f"UPDATE {table} SET attempts = attempts + 1, last_error = $2, status = 'pending',"
            f" next_attempt_at = now() + make_interval(secs => $3) WHERE {key_column} = $1",
            key, f"{type(error).__name__}: {error}"[:500], delay)
        return error, delay
    await connection.execute(
        f"UPDATE {table} SET status = 'sent', attempts = attempts + 1, sent_at = now(), last_error = NULL"
        f" WHERE {key_column} = $1", key)
    return None, 0.0
