"""Who may read /metrics, and the scrape itself.

Open without credentials only when the API listens on loopback (API_HOST 127.0.0.1,
localhost or ::1). Otherwise the request needs `Authorization: Bearer <METRICS_TOKEN>` (a
scrape token for Prometheus) or the bearer credential (access token or API key) of an admin.
"""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy.orm import Session

from app.auth.principal import authenticate_credential
from app.core.config import get_settings
from app.core.errors import Forbidden, Unauthorized
from app.metrics.collectors import ScrapeTimeCollector
from app.metrics.registry import scrape_registry

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_SCRAPE_TIME = CollectorRegistry()
_SCRAPE_TIME.register(ScrapeTimeCollector())


def authorize_scrape(session: Session, credential: str | None) -> None:
    """Raise Unauthorized (no or wrong credential) or Forbidden (not an admin)."""
    settings = get_settings()
    if not credential:
        if settings.api_host in LOOPBACK_HOSTS:
            return
        raise Unauthorized("Metrics need a bearer credential (METRICS_TOKEN or an admin's).")
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    if token and hmac.compare_digest(credential.encode(), token.encode()):
        return
    if not settings.auth_enabled:
        return  # single-user mode: every request is the local admin
    principal = authenticate_credential(session, credential)
    if not principal.is_admin:
        raise Forbidden("Metrics need the admin role or the scrape token.")


def scrape() -> tuple[bytes, str]:
    """The exposition text (every Cairn metric plus the scrape-time ones) and its type."""
    return generate_latest(scrape_registry()) + generate_latest(_SCRAPE_TIME), \
        CONTENT_TYPE_LATEST
