"""Per-application services, kept in ``app.extensions`` (never a module global holding the app)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

from flask import Flask, current_app

from verifier.config import Settings, is_loopback_host
from verifier.core.links import verify_domain
from verifier.issuance.service import IssuingService
from verifier.store.db import Database, open_database
from verifier.verification import VerificationService

EXTENSION_KEY = "skk"


@dataclass(frozen=True)
class WebState:
    """What request handlers need: settings, database, and the verifying and issuing services."""

    settings: Settings
    database: Database
    verifier: VerificationService
    issuing: IssuingService

    @cached_property
    def is_demo(self) -> bool:
        """A loopback base URL means a local demo; pages then carry a DEMO banner."""
        return is_loopback_host(urlsplit(self.settings.base_url).hostname)

    @cached_property
    def official_domain(self) -> str:
        """The host a genuine QR opens, as pages and printed certificates show it."""
        return verify_domain(self.settings.base_url)


def init_app(app: Flask, settings: Settings) -> None:
    """Open the database and build the services once per application."""
    database = open_database(settings.database_url)
    app.extensions[EXTENSION_KEY] = WebState(
        settings=settings,
        database=database,
        verifier=VerificationService(settings.leeway_seconds),
        issuing=IssuingService.from_settings(settings),
    )


def current_state() -> WebState:
    """The WebState of the application handling this request."""
    state: WebState = current_app.extensions[EXTENSION_KEY]
    return state
