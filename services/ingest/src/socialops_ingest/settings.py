"""Ingest settings: environment variables prefixed `SOCIALOPS_` (docs/development.md, "Configuration reference")."""

from __future__ import annotations

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
