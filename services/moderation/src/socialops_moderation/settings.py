"""Moderation settings (environment variables, prefix SOCIALOPS_)."""

from __future__ import annotations

from pydantic import Field
from socialops_common.settings import CommonSettings


class ModerationSettings(CommonSettings):
    http_port: int = 8081
    # How long a reviewer may take their own verdict back (the console's "Ångra").
    moderation_undo_seconds: float = 60.0
    moderation_policy_file: str | None = Field(default=None, description="replaces data/policy.yaml")
    moderation_links_file: str | None = Field(default=None, description="replaces data/links.yaml")
    # A city's own build of the second opinion (`learned.build --reviewed` with its reviewers'
    # verdicts, docs/moderation.md "Learning from the reviewers").
    moderation_model_file: str | None = Field(default=None, description="replaces data/model.json.gz")
    moderation_allowed_phone_numbers: str = "112,1177,114 14,042-10 50 00"
    moderation_allowed_email_domains: str = "helsingborg.se"
    moderation_spam_window_minutes: float = 60.0
    moderation_consumer_group: str = "socialops-moderation"
    moderation_executor_group: str = "socialops-moderation-actions"
    # On stop, how long the batch in hand may take to finish and commit; one held longer (an outage:
    # circuit open) is abandoned uncommitted and read again after the restart.
    moderation_stop_grace_s: float = 10.0
    # Per-account tokens as JSON {"<account id>": "<token>"}; an account without a token is dry-run
    # (the command is logged and recorded, nothing is sent). docs/platforms.md, "Tokens for platform actions".
    # Meta's Graph API: page access tokens, keyed by page id or Instagram account id.
    graph_api_url: str = "https://graph.facebook.com/v21.0"
    graph_tokens: dict[str, str] = Field(default_factory=dict)
    # X API v2: OAuth 2.0 user-context access tokens, keyed by the account's X user id.
    x_api_url: str = "https://api.x.com"
    x_tokens: dict[str, str] = Field(default_factory=dict)
    # LinkedIn Community Management API: member access tokens of a page administrator, keyed by the
    # organization URN; the API version (YYYYMM) every call names.
    linkedin_api_url: str = "https://api.linkedin.com"
    linkedin_tokens: dict[str, str] = Field(default_factory=dict)
    linkedin_version: str = "202610"
    # Retries of every platform's calls (the names are the Graph API's, which came first).
    graph_max_attempts: int = 5
    graph_backoff_s: float = 0.5
    # Platform calls the executor makes at once (commands on one thread stay in order).
    graph_concurrency: int = 8

    def allowed_phone_numbers(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.moderation_allowed_phone_numbers.split(",") if p.strip())

    def allowed_email_domains(self) -> tuple[str, ...]:
        return tuple(p.strip().lower() for p in self.moderation_allowed_email_domains.split(",") if p.strip())
