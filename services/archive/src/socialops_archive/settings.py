"""The archive's settings (environment variables prefixed `SOCIALOPS_`)."""

from __future__ import annotations

import os
import tempfile

from socialops_common.mail import SmtpSettings
from socialops_common.settings import CommonSettings


class ArchiveSettings(SmtpSettings, CommonSettings):
    archive_group_id: str = "socialops-archive"
    archive_batch_size: int = 1000
    archive_batch_timeout_ms: int = 200
    # Batches written at once, each by its own database connection, for its share of the partitions.
    archive_writers: int = 2
    # Registration (diarium) numbers: "<series> <year>/<number, 6 digits>", e.g. "KS 2026/000123".
    registration_series: str = "KS"
    registrar_address: str = "registrator@example.se"
    sender_address: str = "arkiv@socialops.local"
    # SMTP (smtp_host, smtp_port, ..., mail_retry_base_s, mail_retry_max_s): socialops_common.mail
    # Optional: also write each snapshot's PDF/PNG here (they are always kept in the database).
    snapshot_dir: str | None = None
    # An unknown item is rendered anyway after this long (its events may arrive late, or never).
    snapshot_wait_s: float = 30.0
    # Niceness of the snapshot render process (0-19): higher yields the CPU to the live pipeline.
    snapshot_render_nice: int = 10
    outbox_poll_s: float = 1.0
    # Where export packages are written (set it in production: the packages are deliverables).
    export_dir: str = os.path.join(tempfile.gettempdir(), "socialops-archive-exports")
    capture_interval_s: float = 3600.0
