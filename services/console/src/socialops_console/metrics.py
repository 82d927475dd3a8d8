"""Prometheus metrics of the console (names are part of the ops contract: docs/operations.md)."""

from prometheus_client import Counter

SIGN_INS = Counter("socialops_console_sign_ins_total", "Sign-ins at the identity provider, by outcome", ["outcome"])
API_REFUSALS = Counter("socialops_console_api_refusals_total",
                       "Answers of the services' APIs that were not a success, by service and status",
                       ["service", "status"])
