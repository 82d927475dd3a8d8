"""Settings from environment variables, all prefixed `SOCIALOPS_`.

Each service subclasses `CommonSettings` for its own fields; the prefix stays the same so that
operators find every knob under one name (docs/development.md, "Configuration reference").
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "SOCIALOPS_"


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/socialops"
    log_level: str = "INFO"
    log_format: str = "json"  # "json" or "console"
    # Kafka client behaviour; production overrides these per deployment.
    kafka_request_timeout_ms: int = 10_000
    kafka_client_id_prefix: str = "socialops"
    # Consumers' fetch requests: the broker answers once this many bytes are there, or after the
    # max wait. The defaults are the Kafka client's (answer at once); raising min bytes batches
    # fetches on a busy Apache Kafka. It did not help tansu (bench/e2e.py: broker CPU rose).
    kafka_fetch_min_bytes: int = 1
    kafka_fetch_max_wait_ms: int = 500
    # Identity (docs/operations.md, "Signing in"): JWT access tokens of the city's OpenID Connect
    # provider; without an issuer, only machine tokens are accepted.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_roles_claim: str = "roles"
    oidc_departments_claim: str = "departments"
    oidc_clock_skew_s: int = 60
    oidc_jwks_refetch_s: float = 30.0
    # Static tokens for machine clients only: "name:role[+role]:token", comma-separated.
    machine_tokens: str = ""
