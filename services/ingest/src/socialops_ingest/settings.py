"""Ingest settings: environment variables prefixed `SOCIALOPS_` (docs/development.md, "Configuration reference")."""

from __future__ import annotations

from pydantic import Field
from socialops_common.settings import CommonSettings


class IngestSettings(CommonSettings):
    # Meta app (Facebook Page, Messenger, Instagram): signs bodies; the verify token answers hub.challenge.
    meta_app_secret: str = ""
    meta_verify_token: str = ""
    # X Account Activity API: the app's consumer secret signs bodies and CRC answers.
    x_consumer_secret: str = ""
    # LinkedIn app: the client secret signs bodies and challengeCode answers.
    linkedin_client_secret: str = ""
    accounts_file: str = "config/accounts.yaml"
    max_body_bytes: int = 1024 * 1024
    # How long a webhook waits for the broker's acknowledgement before answering 503.
    publish_timeout_s: float = 5.0
    http_host: str = "127.0.0.1"
    http_port: int = 8080

    # --- the insights poller (`socialops-ingest poll`, insights/) ---------------------------------
    # Access tokens per account, as JSON {"<platform>:<external_id>": "<token>"}: a Page access token
    # (read_insights, pages_read_engagement), an Instagram user token (instagram_manage_insights), a
    # LinkedIn member token of a Page admin (rw_organization_admin), an X bearer or user-context
    # token. An account without one is not polled (the report says so).
    insights_tokens: dict[str, str] = Field(default_factory=dict)
    # ... or (and) a JSON file of the same shape, read again every cycle: a renewed token is used
    # without a restart (mount it as a secret in production).
    insights_tokens_file: str | None = None
    insights_graph_url: str = "https://graph.facebook.com/v25.0"
    insights_linkedin_url: str = "https://api.linkedin.com/rest"
    insights_linkedin_version: str = "202610"  # LinkedIn-Version header (YYYYMM; versions sunset after a year)
    insights_x_url: str = "https://api.x.com/2"
    insights_metrics_file: str | None = None  # replaces insights/metrics.yaml
    insights_poll_interval_s: float = 6 * 3600.0
    insights_repoll_days: int = 3  # complete days read again every poll (figures arrive up to 48 h late)
    insights_backfill_days: int = 30  # how far back an account is read the first time
    insights_post_window_days: int = 35  # posts are re-read while younger than this (covers last month)
    insights_concurrency: int = 4  # accounts polled at once
    insights_http_attempts: int = 3
    insights_http_backoff_s: float = 1.0
    insights_http_timeout_s: float = 20.0
