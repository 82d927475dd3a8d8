"""Sending e-mail: the SMTP settings and the one send call every service that mails uses.

The archive mails registrations to the registrar, the SLA service monthly reports and publishing
notices to the departments; both keep what they send in an outbox table and retry with
`retry_delay` until the relay accepts (so a relay that is down delays mail, it never loses it).
"""

from __future__ import annotations

from email.message import EmailMessage

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
