"""The console blueprint and its gate: session, CSRF, sign-in stage and role, on every request.

Order of the gate (``before_request``): load the session; check the CSRF token of any POST;
then let through only what the session's stage allows: the sign-in form when signed out, the
password change and second-factor enrolment while an account is being set up, everything else
(subject to each view's role) once set up. Every view acts for the signed-in user's own agency
only: the agency comes from the account, never from the request, so another agency's records are
simply not found (404).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, current_app, g, request

from verifier.core.errors import StorageUnavailable
from verifier.store import staff_accounts, staff_sessions
from verifier.store.db import storage_errors
from verifier.store.staff_accounts import StaffAccount
from verifier.web.console import csrf
from verifier.web.console.forms import go
from verifier.web.console.session import current, load_current, persist_current
from verifier.web.errors import unavailable_response

bp = Blueprint("console", __name__, url_prefix="/console")

#: Endpoints open without a session, and the ones an account being set up may use.
PUBLIC_ENDPOINTS = frozenset({"console.login", "console.sign_in"})
SETUP_ENDPOINTS = frozenset(
    {
        "console.password",
        "console.change_password",
        "console.totp",
        "console.enrol_totp",
        "console.logout",
    }
)
#: App config key: idle timeout in seconds (tests shorten it).
IDLE_CONFIG = "CONSOLE_IDLE_SECONDS"
#: App config key: the console's clock, a callable giving epoch seconds (tests move it).
CLOCK_CONFIG = "CONSOLE_CLOCK"
#: Views that take an upload get this body limit instead of the app's 16 KiB.
UPLOAD_ENDPOINTS: dict[str, int] = {}

View = TypeVar("View", bound=Callable[..., Any])


def now() -> int:
    """The instant this request acts at (one per request, from the app's console clock)."""
    if "console_now" not in g:
        g.console_now = int(current_app.config.get(CLOCK_CONFIG, time.time)())
    instant: int = g.console_now
    return instant


def current_account() -> StaffAccount:
    """The signed-in account (every view but sign-in runs with one)."""
    account: StaffAccount = g.console_account
    return account


def requires(role: str) -> Callable[[View], View]:
    """Allow the view only to accounts of ``role`` or a more powerful one (else 403)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not current_account().may(role):
                abort(403)
            return view(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return decorate


def notify(message: str) -> None:
    """A one-line notice for the next page this session sees (e.g. after a redirect)."""
    current()["notice"] = message


def take_notice() -> str | None:
    """The pending notice, shown once."""
    console = current()
    return console.pop("notice", None) if "notice" in console else None


@bp.before_request
def _gate() -> Response | None:
    limit = UPLOAD_ENDPOINTS.get(request.endpoint or "")
    if limit:
        request.max_content_length = limit
    if (
        request.content_length is not None
        and request.max_content_length is not None
        and request.content_length > request.max_content_length
    ):
        abort(413)  # refused before anything, the session included, is read
    with storage_errors():
        idle = current_app.config.get(IDLE_CONFIG, staff_sessions.IDLE_SECONDS)
        record = load_current(now(), idle)
    endpoint = request.endpoint or ""
    public = endpoint in PUBLIC_ENDPOINTS
    if not public and (record is None or record.user_id is None):
        # Signed out (or timed out while filling in a form): nothing is done, sign in again.
        return go("console.login")
    if request.method == "POST":
        csrf.protect()
    if public:
        return None
    assert record is not None and record.user_id is not None
    with storage_errors():
        account = staff_accounts.by_id(record.user_id)
    g.console_account = account
    if record.stage == "setup" and endpoint not in SETUP_ENDPOINTS:
        return go(setup_step(account))
    return None


def setup_step(account: StaffAccount) -> str:
    """Where an account being set up goes next: new password first, then the second factor."""
    return "console.password" if account.must_change_password else "console.totp"


@bp.after_request
def _persist(response: Response) -> Response:
    try:
        with storage_errors():
            persist_current(now())
    except StorageUnavailable as exc:
        return unavailable_response(exc)
    # (Cache-Control: no-store and noindex come with every /console answer: web/security.py.)
    return response
