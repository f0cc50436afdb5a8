"""Helpers for the console tests: staff accounts set up through the staff service, a movable
clock, and a test client that signs in and fills forms the way a browser does (CSRF token from
the page)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyotp

from tests.helpers import NOW
from verifier.staff import accounts

PASSWORD = "kata sandi yang panjang sekali"
STEP = accounts.TOTP_STEP_SECONDS
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Clock:
    """The console's clock in a test: an instant that only moves when told."""

    now: int = NOW

    def __call__(self) -> float:
        return float(self.now)

    def advance(self, seconds: int) -> None:
        """Move on."""
        self.now += seconds


@dataclass(frozen=True)
class Staff:
    """A set-up account: username, password and TOTP secret."""

    username: str
    password: str
    secret: str
    agency_id: str

    def code(self, at: int) -> str:
        """The authenticator's code at ``at``."""
        return pyotp.TOTP(self.secret).at(at)


def make_staff(agency_id: str, username: str, role: str, *, at: int = NOW - STEP) -> Staff:
    """An account that has replaced its one-time password and enrolled (at ``at``, so that a
    sign-in at NOW uses a later code)."""
    account, one_time = accounts.add_user(agency_id, username, role, actor="cli", now=at)
    accounts.change_password(account.id, one_time, PASSWORD, now=at)
    secret = accounts.enrolment_secret(account.id)
    accounts.confirm_enrolment(account.id, pyotp.TOTP(secret).at(at), now=at)
    return Staff(username, PASSWORD, secret, agency_id)


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class ConsoleClient:
    """A Flask test client used like a browser on the console."""

    def __init__(self, client: Any, clock: Clock) -> None:
        self.client = client
        self.clock = clock

    def get(self, path: str, **kwargs: Any) -> Any:
        """GET a page."""
        return self.client.get(path, **kwargs)

    def token(self, page: str = "/console/") -> str:
        """The CSRF token a form on ``page`` carries."""
        response = self.client.get(page)
        assert response.status_code == 200, (page, response.status_code)
        return csrf_of(response.get_data(as_text=True))

    def submit(
        self,
        path: str,
        data: dict[str, Any] | None = None,
        *,
        page: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """POST a form of ``page`` (default: ``path`` itself, else the dashboard) to ``path``."""
        token = self.token(page or "/console/")
        return self.client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)

    def sign_in(self, staff: Staff, *, code: str | None = None, password: str | None = None) -> Any:
        """Sign in with the current code; the clock then moves on a step, so the next sign-in
        has a fresh code (each code is accepted once)."""
        response = self.client.post(
            "/console/login",
            data={
                "csrf_token": self.token("/console/login"),
                "username": staff.username,
                "password": staff.password if password is None else password,
                "code": (staff.code(self.clock.now) if staff.secret else "")
                if code is None
                else code,
            },
        )
        self.clock.advance(STEP)
        return response

    def sign_out(self) -> Any:
        """Sign out."""
        return self.submit("/console/logout")
