"""The agency console: issuing, revoking and auditing from a browser, for agency staff.

Server-rendered pages under ``/console`` (sign-in at ``/console/login``), in Bahasa Indonesia and
English, without JavaScript, under the same Content-Security-Policy as the public pages. Every
action goes through the same services and store functions as the CLI and the agency API
(IssuingService, revocation, keys), so it lands in the same history and audit log, naming the
user. A front door like the rest of ``verifier.web``: it parses forms, calls a service and
renders a page.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g

from verifier.config import Settings
from verifier.core.credential import parse_instant, to_iso
from verifier.web.console import csrf
from verifier.web.console.blueprint import bp, now, take_notice
from verifier.web.console.forms import link
from verifier.web.console.session import ConsoleSessionInterface
from verifier.web.page_model import moment


def init_app(app: Flask, settings: Settings) -> None:
    """Server-side sessions on /console, the console's template helpers, its routes."""
    app.session_interface = ConsoleSessionInterface(secure=settings.base_url.startswith("https://"))
    from verifier.web.console import (  # noqa: F401  (their routes register on bp)
        admin_views,
        auth_views,
        cohort_views,
        credential_views,
    )

    app.register_blueprint(bp)


@bp.context_processor
def _console_context() -> dict[str, Any]:
    return {
        "account": g.get("console_account"),
        "notice": take_notice(),
        "now_iso": to_iso(now()),
    }


# Globals rather than context, so that imported macros (console/_macros.html) see them too.
bp.add_app_template_global(csrf.token, "csrf_token")
bp.add_app_template_global(link, "link")


@bp.app_template_filter("when")
def _when(value: int | str) -> str:
    """An instant (NumericDate or ISO 8601) as date and time in WIB, in the page language."""
    shown = moment(value if isinstance(value, int) else parse_instant(value))
    return f"{shown.date} {shown.time} WIB" if shown.in_wib else shown.iso


@bp.app_template_filter("iso")
def _iso(value: int) -> str:
    """A NumericDate as ISO 8601 UTC, for ``<time datetime>``."""
    return to_iso(value)
