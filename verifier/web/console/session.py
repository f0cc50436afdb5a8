"""Flask's ``session`` for the console, kept server-side (:mod:`verifier.store.staff_sessions`).

The session interface itself does no I/O: it only reads the cookie's id and, after the response,
sets or clears the cookie. Loading the row and writing it back happen in the console blueprint's
own hooks (:func:`load_current`, :func:`persist_current`), after the database connection is
opened and where a database failure becomes the usual 503 page rather than an error in Flask's
request teardown. Outside ``/console`` there is no session at all (Flask's null session), so the
public pages and the JSON API stay cookie-free.

Cookie: ``HttpOnly``, ``SameSite=Lax``, ``Secure`` when ``SKK_BASE_URL`` is https, path
``/console``, no expiry (it ends with the browser; the server ends it sooner, see the timeouts in
:mod:`verifier.store.staff_sessions`).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, current_app, session
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from verifier.store import staff_sessions
from verifier.store.staff_sessions import SessionRecord

COOKIE_NAME = "skk_console"
PREFIX = "/console"


class ConsoleSession(CallbackDict[str, Any], SessionMixin):
    """The session's data, the cookie's id, and the stored record once loaded."""

    def __init__(self, raw_id: str | None) -> None:
        def on_update(this: ConsoleSession) -> None:
            this.modified = True

        super().__init__(None, on_update)
        self.raw_id = raw_id
        self.record: SessionRecord | None = None
        self.modified = False
        #: Set when the response must carry a new id (a new session) or clear the cookie.
        self.send_cookie = False
        self.clear_cookie = False

    def attach(self, record: SessionRecord) -> None:
        """Take a loaded record's data without counting that as a change."""
        self.record = record
        dict.update(self, record.data)


def cookies_secure() -> bool:
    """Whether the console's cookies carry ``Secure``: as the session's (``SKK_BASE_URL`` is
    https), and always when the app has some other session interface."""
    interface = current_app.session_interface
    return not isinstance(interface, ConsoleSessionInterface) or interface.secure


class ConsoleSessionInterface(SessionInterface):
    """Server-side sessions on ``/console`` only; see the module docstring."""

    def __init__(self, secure: bool) -> None:
        self.secure = secure

    def open_session(self, app: Flask, request: Request) -> ConsoleSession | None:
        """An unloaded session for console paths (None elsewhere: Flask's null session)."""
        if not request.path.startswith(PREFIX):
            return None
        return ConsoleSession(request.cookies.get(COOKIE_NAME))

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Set the cookie for a new id, or clear it for an ended session."""
        if not isinstance(session, ConsoleSession):
            return
        if session.clear_cookie and not session.send_cookie:
            response.delete_cookie(
                COOKIE_NAME, path=PREFIX, secure=self.secure, httponly=True, samesite="Lax"
            )
        elif session.send_cookie and session.raw_id:
            response.set_cookie(
                COOKIE_NAME,
                session.raw_id,
                path=PREFIX,
                secure=self.secure,
                httponly=True,
                samesite="Lax",
            )


def current() -> ConsoleSession:
    """This request's console session."""
    console = session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(console, ConsoleSession):
        raise RuntimeError("there is a console session only under /console")
    return console


def load_current(now: int, idle_seconds: int) -> SessionRecord | None:
    """Load the cookie's session row into ``session``; None when there is no live one."""
    console = current()
    if console.raw_id is None:
        return None
    record = staff_sessions.load(console.raw_id, now=now, idle_seconds=idle_seconds)
    if record is None:
        console.raw_id = None
        console.clear_cookie = True
        return None
    console.attach(record)
    return record


def start(user_id: int | None, stage: str, *, now: int) -> SessionRecord:
    """A new session (and id) in place of the current one: at sign-in, and for the sign-in
    form's first CSRF token. The old row, if any, is ended: its id is worth nothing after."""
    console = current()
    if console.record is not None:
        staff_sessions.end(console.record.id_hash)
    data = {} if user_id is not None else dict(console)
    raw_id = staff_sessions.new_id()
    record = staff_sessions.create(raw_id, user_id=user_id, stage=stage, data=data, now=now)
    dict.clear(console)
    dict.update(console, data)
    console.raw_id, console.record = raw_id, record
    console.send_cookie, console.modified = True, False
    return record


def end_current() -> None:
    """End this request's session (sign-out) and clear the cookie."""
    console = current()
    if console.record is not None:
        staff_sessions.end(console.record.id_hash)
    dict.clear(console)
    console.record, console.raw_id = None, None
    console.clear_cookie, console.modified = True, False


def persist_current(now: int) -> None:
    """Write back what this request changed (a first CSRF token makes an anonymous session)."""
    console = current()
    if console.record is None:
        if console.modified:
            start(None, "anonymous", now=now)
        return
    console.record.data = dict(console)
    staff_sessions.save(console.record, now=now, data_changed=console.modified)
