"""The console's settings (environment variables prefixed `SOCIALOPS_`)."""

from __future__ import annotations

from socialops_common.settings import CommonSettings


class ConsoleSettings(CommonSettings):
    http_port: int = 8084
    # Where people reach the console (the redirect URI registered at the provider is <this>/inloggning/svar);
    # default: http://127.0.0.1:<http_port>.
    console_public_url: str | None = None
    # The console's own registration at the identity provider (a confidential web client; PKCE on top).
    oidc_client_id: str = "socialops-console"
    oidc_client_secret: str = ""
    # Entra ID: add the API's scope, e.g. "openid profile email api://<api app id>/Console.Access",
    # so that the access token is issued for the APIs' audience.
    oidc_scopes: str = "openid profile email"
    # The services the console is a client of.
    archive_url: str = "http://127.0.0.1:8083"
    moderation_url: str = "http://127.0.0.1:8081"
    sla_url: str = "http://127.0.0.1:8082"
    # Which of them /readyz waits for (comma-separated names): the pages in use need them.
    console_required_services: str = "archive"
    # Sessions: signed out after this long, or after this long without a request.
    console_session_hours: float = 8.0
    console_session_idle_minutes: float = 60.0
    # Cookies only over HTTPS (production). `make run` on 127.0.0.1 turns it off.
    console_secure_cookies: bool = True
    console_api_timeout_s: float = 20.0

    def public_url(self) -> str:
        return (self.console_public_url or f"http://127.0.0.1:{self.http_port}").rstrip("/")

    def required_services(self) -> list[str]:
        return [name.strip() for name in self.console_required_services.split(",") if name.strip()]

    def service_url(self, name: str) -> str:
        return {"archive": self.archive_url, "moderation": self.moderation_url, "sla": self.sla_url}[name].rstrip("/")
