"""The archive's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EVENTS_ARCHIVED = Counter(
    "archive_events_archived_total", "Messages newly archived (duplicates excluded)", ["topic"]
)
DUPLICATES = Counter("archive_duplicates_total", "Redelivered messages that changed nothing")
DEAD_LETTERS = Counter("archive_dead_letters_total", "Messages sent to the dead-letter topic", ["reason"])
WRITE_SECONDS = Histogram(
    "archive_write_seconds", "Time to write one consumed batch in one transaction",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BATCH_SIZE = Histogram("archive_batch_messages", "Messages per consumed batch",
                       buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000))
REGISTRATIONS = Counter("archive_registrations_total", "Registrations created for city removals")
SNAPSHOTS = Counter("archive_snapshots_rendered_total", "Snapshots rendered (PDF + PNG)")
MAIL_SENT = Counter("archive_registration_mails_sent_total", "Registration e-mails accepted by SMTP")
MAIL_FAILED = Counter("archive_registration_mails_failed_total", "Registration e-mail attempts that failed")
QUERY_SECONDS = Histogram(
    "archive_query_seconds", "Query API latency", ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
