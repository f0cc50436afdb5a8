"""The agency console through Flask's test client, on both stores: sign-in with a second factor,
sessions, CSRF, roles, agency scope, issuing, state changes, four-eyes, cohorts, keys, users,
the audit log, and that no NIK or password ever shows up in a page, a log line or an audit row."""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.console_support import (
    PASSWORD,
    STEP,
    Clock,
    ConsoleClient,
    Staff,
    make_staff,
)
from tests.helpers import NOW
from verifier import create_app
from verifier.staff import accounts
from verifier.store import (
    apikeys,
    approvals,
    pruning,
    registry,
    revocation,
    staff_accounts,
    staff_devices,
)
from verifier.store import staff_sessions as sessions
from verifier.store.models import (
    AuditEvent,
    CohortImport,
    CredentialRecord,
    StaffDevice,
    StaffSession,
)
from verifier.store.revocation import lookup

pytestmark = pytest.mark.usefixtures("cheap_argon2")
COHORT = Path(__file__).parent / "data" / "cohort_pasuruan_2025.csv"
NIK = "3575040003930001"
#: Every NIK of the 75-worker fixture (none may ever be shown).
COHORT_NIKS = [line.split(",")[1] for line in COHORT.read_text().splitlines()[1:]]
OTHER = "dinas-lain"


@pytest.fixture
def clock() -> Clock:
    """The console's clock."""
    return Clock()


@pytest.fixture
def console_app(database, env, clock):
    """The app on the test database, with the console's clock under the test's control."""
    return create_app({**env, "TESTING": True, "CONSOLE_CLOCK": clock})


@pytest.fixture
def tab(console_app, clock) -> ConsoleClient:
    """One browser (a test client with its own cookies; not named ``browser``, which is the
    real Chromium of conftest)."""
    return ConsoleClient(console_app.test_client(), clock)


@pytest.fixture
def second_tab(console_app, clock) -> ConsoleClient:
    """Another browser (another person)."""
    return ConsoleClient(console_app.test_client(), clock)


@pytest.fixture
def team(contoh, make_agency, make_key) -> dict[str, Staff]:
    """An admin, a second admin, an operator and a viewer of lsp-contoh; an admin elsewhere."""
    make_agency(OTHER, name="Dinas PUPR Lain")
    make_key(OTHER)
    return {
        "admin": make_staff("lsp-contoh", "adi", "admin"),
        "admin2": make_staff("lsp-contoh", "budi", "admin"),
        "operator": make_staff("lsp-contoh", "oki", "operator"),
        "viewer": make_staff("lsp-contoh", "vera", "viewer"),
        "other": make_staff(OTHER, "lain", "admin"),
    }


def _signed_in(tab: ConsoleClient, staff: Staff) -> ConsoleClient:
    response = tab.sign_in(staff)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/console/")
    return tab


def _text(response) -> str:
    return response.get_data(as_text=True)


def _cookie(response, name: str = "skk_console") -> str:
    (cookie,) = [
        v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith(f"{name}=")
    ]
    return cookie


def _issue_form(tab: ConsoleClient, **fields) -> object:
    data = {
        "holder_name": "Rina Marlina",
        "job_title": "Operator Wheel Excavator",
        "level": "3",
        "nik": "",
        "valid_from": "",
        **fields,
    }
    return tab.submit("/console/issue", data, page="/console/issue")


def _path(number: str, suffix: str = "") -> str:
    return f"/console/credentials/{quote(number)}{suffix}"


# -- first sign-in, sessions, cookies -------------------------------------------------------------


def test_first_sign_in_changes_password_and_enrols_a_second_factor(contoh, tab, clock):
    import pyotp

    _, one_time = accounts.add_user("lsp-contoh", "rina", "operator", actor="cli", now=NOW)
    form = tab.get("/console/login")
    anonymous = _cookie(form)
    assert "HttpOnly" in anonymous and "SameSite=Lax" in anonymous and "Secure" in anonymous
    assert "Path=/console" in anonymous
    signed = tab.sign_in(Staff("rina", one_time, "", "lsp-contoh"), code="")
    assert signed.status_code == 303 and signed.headers["Location"].endswith("/console/password")
    assert _cookie(signed).split(";")[0] != anonymous.split(";")[0]  # a new session id
    # Until set up, every other page leads back to the next step.
    assert tab.get("/console/issue").headers["Location"].endswith("/console/password")
    changed = tab.submit(
        "/console/password",
        {"current": one_time, "new": PASSWORD, "confirm": PASSWORD},
        page="/console/password",
    )
    assert changed.status_code == 303 and changed.headers["Location"].endswith("/console/totp")
    assert tab.get("/console/").headers["Location"].endswith("/console/totp")
    page = _text(tab.get("/console/totp"))
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert 'src="data:image/svg+xml' in page
    wrong = tab.submit("/console/totp", {"code": "12345"}, page="/console/totp")
    assert wrong.status_code == 422
    done = tab.submit(
        "/console/totp", {"code": pyotp.TOTP(secret).at(clock.now)}, page="/console/totp"
    )
    assert done.status_code == 303 and done.headers["Location"].endswith("/console/")
    assert tab.get("/console/").status_code == 200
    assert tab.get("/console/issue").status_code == 200
    actions = [row.action for row in AuditEvent.select().order_by(AuditEvent.id)]
    assert actions[-3:] == ["login", "password_changed", "totp_enrolled"]


def test_password_mismatch_and_weak_password_are_refused(team, tab):
    _signed_in(tab, team["operator"])
    differ = tab.submit(
        "/console/password",
        {"current": PASSWORD, "new": "a" * 12, "confirm": "b" * 12},
        page="/console/password",
    )
    assert differ.status_code == 422 and 'id="form-error"' in _text(differ)
    short = tab.submit(
        "/console/password",
        {"current": PASSWORD, "new": "pendek", "confirm": "pendek"},
        page="/console/password",
    )
    assert short.status_code == 422
    assert accounts.sign_in("oki", PASSWORD, "", now=NOW).failure == "code"  # unchanged


def test_cookie_is_not_secure_on_a_plain_http_demo(database, env, clock):
    app = create_app(
        {**env, "SKK_BASE_URL": "http://127.0.0.1:8000", "TESTING": True, "CONSOLE_CLOCK": clock}
    )
    cookie = _cookie(app.test_client().get("/console/login"))
    assert "Secure" not in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_public_pages_and_api_set_no_cookie(team, console_app):
    client = console_app.test_client()
    for path in ("/", "/cek", "/api/v1/agencies", "/healthz"):
        assert "Set-Cookie" not in client.get(path).headers, path


def test_an_id_planted_before_sign_in_is_worth_nothing(team, tab, console_app):
    planted = _cookie(tab.get("/console/login")).split(";")[0].split("=", 1)[1]
    _signed_in(tab, team["operator"])
    attacker = console_app.test_client()
    attacker.set_cookie("skk_console", planted, path="/console")
    assert attacker.get("/console/").status_code == 303
    assert StaffSession.select().count() == 1  # only the signed-in one


def test_sign_out_ends_the_session(team, tab):
    _signed_in(tab, team["operator"])
    assert tab.sign_out().headers["Location"].endswith("/console/login")
    assert tab.get("/console/").status_code == 303
    assert StaffSession.select().where(StaffSession.user.is_null(False)).count() == 0


def test_idle_and_absolute_timeouts(team, tab, clock):
    _signed_in(tab, team["operator"])
    clock.advance(sessions.IDLE_SECONDS - STEP - 1)  # (sign_in moved it a step already)
    assert tab.get("/console/").status_code == 200
    clock.advance(sessions.IDLE_SECONDS)
    assert tab.get("/console/").status_code == 303
    signed_at = clock.now
    _signed_in(tab, team["operator"])
    while tab.get("/console/").status_code == 200:  # busy all along: never idle
        clock.advance(1200)
    assert tab.get("/console/").headers["Location"].endswith("/console/login")
    lasted = clock.now - signed_at
    assert sessions.ABSOLUTE_SECONDS <= lasted < sessions.ABSOLUTE_SECONDS + 1200


def test_disabling_a_user_ends_their_session_at_once(team, tab, second_tab):
    _signed_in(tab, team["operator"])
    _signed_in(second_tab, team["admin"])
    assert tab.get("/console/").status_code == 200
    disabled = second_tab.submit("/console/users/oki/disable", page="/console/users")
    assert disabled.status_code == 303
    assert tab.get("/console/").headers["Location"].endswith("/console/login")
    assert tab.sign_in(team["operator"]).status_code == 200  # refused: the form again


def test_changing_the_password_ends_the_other_sessions(team, tab, second_tab):
    _signed_in(tab, team["operator"])
    _signed_in(second_tab, team["operator"])
    new = "sandi baru yang panjang"
    changed = tab.submit(
        "/console/password",
        {"current": PASSWORD, "new": new, "confirm": new},
        page="/console/password",
    )
    assert changed.status_code == 303
    assert tab.get("/console/").status_code == 200
    assert second_tab.get("/console/").status_code == 303


# -- second factor, brute force -------------------------------------------------------------------


def test_a_code_is_accepted_once(team, tab, clock):
    operator = team["operator"]
    code = operator.code(clock.now)
    assert tab.sign_in(operator, code=code).status_code == 303
    tab.sign_out()
    clock.now -= STEP  # the same instant again: the same code
    replay = tab.sign_in(operator, code=code)
    assert replay.status_code == 200 and 'id="login-error"' in _text(replay)
    failed = AuditEvent.get(AuditEvent.action == "login_failed")
    assert (failed.actor, failed.reason) == ("user:oki", "code")
    assert tab.sign_in(operator, code="").status_code == 200  # no code at all


def test_failed_sign_ins_are_limited_per_account_even_with_the_right_password(team, tab):
    operator = team["operator"]
    for attempt in range(5):
        wrong = tab.sign_in(operator, password=f"salah-{attempt}-xxxxxx")
        assert wrong.status_code == 200 and 'id="login-error"' in _text(wrong)
    blocked = tab.sign_in(operator)
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert AuditEvent.select().where(AuditEvent.action == "login_failed").count() == 5
    assert AuditEvent.select().where(AuditEvent.action == "login").count() == 0
    # Other accounts are not locked by it.
    assert tab.sign_in(team["viewer"]).status_code == 303


def test_failed_sign_ins_are_limited_per_client(team, database, env, clock):
    app = create_app(
        {
            **env,
            "TESTING": True,
            "CONSOLE_CLOCK": clock,
            "SKK_RATELIMIT_CONSOLE_LOGIN_CLIENT": "3 per hour",
        }
    )
    tab = ConsoleClient(app.test_client(), clock)
    for name in ("adi", "budi", "oki"):
        assert tab.sign_in(Staff(name, "salah salah salah", "", "")).status_code == 200
    assert tab.sign_in(team["viewer"]).status_code == 429
    other_client = app.test_client()
    other_client.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    assert ConsoleClient(other_client, clock).sign_in(team["viewer"]).status_code == 303


def _fail_five_times(tab: ConsoleClient, staff: Staff) -> None:
    for attempt in range(5):
        wrong = tab.sign_in(staff, password=f"salah-{attempt}-xxxxxx")
        assert wrong.status_code == 200 and 'id="login-error"' in _text(wrong)


def test_strangers_failing_at_an_account_do_not_lock_its_user_out_of_their_browser(
    team, tab, second_tab
):
    operator = team["operator"]
    _signed_in(tab, operator).sign_out()  # this browser is now a device of oki's
    _fail_five_times(second_tab, operator)
    assert second_tab.sign_in(operator).status_code == 429  # the account is locked for others
    assert tab.sign_in(operator).status_code == 303  # but not for oki's own browser
    assert AuditEvent.select().where(AuditEvent.action == "login").count() == 2


def test_a_device_gets_only_its_own_few_attempts_which_count_for_the_account_too(
    team, tab, second_tab
):
    operator = team["operator"]
    _signed_in(tab, operator).sign_out()
    _fail_five_times(tab, operator)
    assert tab.sign_in(operator).status_code == 429  # the device's own limit is spent
    # and a stolen device cookie adds no guesses elsewhere: they were the account's too
    assert second_tab.sign_in(operator).status_code == 429


def test_another_users_device_counts_against_the_account(team, tab, second_tab):
    _signed_in(tab, team["viewer"]).sign_out()  # a device of vera's, not of oki's
    _fail_five_times(tab, team["operator"])
    assert second_tab.sign_in(team["operator"]).status_code == 429


def test_device_cookie_flags_and_what_is_stored(team, tab, database, env, clock):
    signed = tab.sign_in(team["operator"])
    cookie = _cookie(signed, "skk_device")
    for flag in ("HttpOnly", "SameSite=Strict", "Path=/console/login", "Secure"):
        assert flag in cookie
    assert f"Max-Age={staff_devices.KEEP_SECONDS}" in cookie
    raw_id = cookie.split(";")[0].split("=", 1)[1]
    (stored,) = StaffDevice.select()
    assert stored.id_hash == sessions.hash_id(raw_id) and raw_id not in stored.id_hash
    tab.sign_out()
    again = tab.sign_in(team["operator"])  # a known device: the same id, 180 days from now
    assert again.status_code == 303
    renewed = _cookie(again, "skk_device")
    assert renewed.split(";")[0] == cookie.split(";")[0]
    assert f"Max-Age={staff_devices.KEEP_SECONDS}" in renewed
    assert StaffDevice.select().count() == 1
    assert StaffDevice.get().last_used_at == clock.now - STEP  # (sign_in moved on a step)
    demo = create_app(
        {**env, "SKK_BASE_URL": "http://127.0.0.1:8000", "TESTING": True, "CONSOLE_CLOCK": clock}
    )
    plain = ConsoleClient(demo.test_client(), clock).sign_in(team["viewer"])
    assert "Secure" not in _cookie(plain, "skk_device")


def test_devices_are_forgotten_on_reset_disable_and_after_180_days(team, tab, second_tab, clock):
    _signed_in(tab, team["operator"]).sign_out()
    _signed_in(second_tab, team["viewer"]).sign_out()
    accounts.reset("oki", actor="cli", now=clock.now)
    accounts.disable("vera", actor="cli", now=clock.now)
    assert StaffDevice.select().count() == 0
    _signed_in(tab, team["admin"]).sign_out()
    (device,) = StaffDevice.select()
    forgotten_at = device.last_used_at + staff_devices.KEEP_SECONDS
    assert pruning.prune(forgotten_at - 1)["staff_device"] == 0  # used within 180 days: kept
    assert pruning.prune(forgotten_at)["staff_device"] == 1
    assert StaffDevice.select().count() == 0


# -- CSRF -----------------------------------------------------------------------------------------


def test_forged_forms_are_refused_and_change_nothing(team, tab, second_tab):
    _signed_in(tab, team["operator"])
    _signed_in(second_tab, team["viewer"])
    foreign = second_tab.token()
    fields = {"holder_name": "Palsu", "job_title": "Operator Wheel Excavator", "level": "3"}
    for token in (None, "", "salah", foreign):
        data = dict(fields) if token is None else {**fields, "csrf_token": token}
        answer = tab.client.post("/console/issue", data=data)
        assert answer.status_code == 400, token
    assert CredentialRecord.select().count() == 0
    assert tab.client.post("/console/logout").status_code == 400
    assert tab.get("/console/").status_code == 200  # still signed in
    number = _issue_form(tab).headers["Location"].rsplit("/", 1)[1]
    forged = tab.client.post(
        f"/console/credentials/{number}/suspend", data={"reason": "fraud", "csrf_token": foreign}
    )
    assert forged.status_code == 400
    assert lookup("lsp-contoh", CredentialRecord.get().number) is None


def test_sign_in_form_needs_its_token(team, console_app):
    client = console_app.test_client()
    answer = client.post(
        "/console/login",
        data={"username": "adi", "password": PASSWORD, "code": team["admin"].code(NOW)},
    )
    assert answer.status_code == 400
    assert AuditEvent.select().where(AuditEvent.action.startswith("login")).count() == 0


# -- roles and agencies ---------------------------------------------------------------------------


def test_viewers_read_operators_issue_admins_revoke(team, tab, issue):
    number = issue().credential.number
    viewer = _signed_in(tab, team["viewer"])
    for path in (
        "/console/",
        "/console/search",
        "/console/credentials",
        "/console/audit",
        _path(number),
    ):
        assert viewer.get(path).status_code == 200, path
    for path in (
        "/console/issue",
        "/console/cohort",
        "/console/keys",
        "/console/users",
        "/console/settings",
        _path(number, "/suspend"),
        _path(number, "/revoke"),
    ):
        assert viewer.get(path).status_code == 403, path
    assert (
        viewer.submit(
            "/console/issue",
            {"holder_name": "X", "job_title": "Operator Wheel Excavator", "level": "3"},
        ).status_code
        == 403
    )
    assert viewer.submit(_path(number, "/suspend"), {"reason": "fraud"}).status_code == 403
    assert viewer.submit("/console/apikeys").status_code == 403
    viewer.sign_out()

    operator = _signed_in(tab, team["operator"])
    assert operator.get(_path(number, "/suspend")).status_code == 200
    assert operator.get(_path(number, "/revoke")).status_code == 403
    assert operator.submit(_path(number, "/revoke"), {"reason": "fraud"}).status_code == 403
    assert (
        operator.submit("/console/users", {"username": "baru", "role": "admin"}).status_code == 403
    )
    assert operator.submit("/console/keys", {"alg": "EdDSA"}).status_code == 403
    assert lookup("lsp-contoh", number) is None
    page = _text(operator.get(_path(number)))
    assert 'id="step-suspend"' in page and 'id="step-revoke"' not in page


def test_another_agencys_records_are_not_found(team, tab, second_tab, issue):
    number = issue().credential.number
    key = apikeys.create("lsp-contoh", NOW)["key_id"]
    waiting = approvals.request_revocation(
        "lsp-contoh", number, "fraud", note=None, actor="user:adi", now=NOW
    )
    _signed_in(second_tab, team["operator"])
    upload = second_tab.submit(
        "/console/cohort",
        {"file": (io.BytesIO(COHORT.read_bytes()), "p.csv")},
        page="/console/cohort",
        content_type="multipart/form-data",
    )
    import_id = upload.headers["Location"].rsplit("/", 1)[1]
    other = _signed_in(tab, team["other"])
    assert other.get(_path(number)).status_code == 404
    assert other.get(_path(number, "/suspend")).status_code == 404
    assert other.submit(_path(number, "/revoke"), {"reason": "fraud"}).status_code == 404
    assert other.submit("/console/users/oki/disable", page="/console/users").status_code == 404
    assert other.submit("/console/users/oki/reset", page="/console/users").status_code == 404
    assert other.submit(f"/console/apikeys/{key}/revoke", page="/console/keys").status_code == 404
    assert other.submit(f"/console/approvals/{waiting.id}/approve").status_code == 404
    assert other.get(f"/console/cohort/{import_id}").status_code == 404
    assert other.submit(f"/console/cohort/{import_id}/confirm").status_code == 404
    found = other.submit(
        "/console/search", {"by": "number", "query": number}, page="/console/search"
    )
    assert 'id="no-results"' in _text(found)
    assert number not in _text(other.get("/console/credentials"))
    assert number not in _text(other.get("/console/audit"))
    assert lookup("lsp-contoh", number) is None
    assert not staff_accounts.get("oki").disabled
    assert not apikeys.list_keys("lsp-contoh")[0].revoked_at


# -- issuing, searching, listing ------------------------------------------------------------------


def test_issue_one_with_a_nik_that_is_never_shown(team, tab, service, caplog):
    caplog.set_level(logging.DEBUG)
    _signed_in(tab, team["operator"])
    issued = _issue_form(tab, nik=NIK, holder_name="Rina Marlina")
    assert issued.status_code == 303
    page = tab.get(issued.headers["Location"])
    text = _text(page)
    assert "Rina Marlina" in text and 'id="notice"' in text and NIK not in text
    url = re.search(r'id="verify-url">([^<]+)<', text).group(1)
    assert service.verify(url).status.value == "valid"
    record = CredentialRecord.get()
    assert record.nik_hmac and record.level == 3 and record.job_code == "ME063100"
    event = AuditEvent.get(AuditEvent.action == "issue")
    assert (event.actor, event.number) == ("user:oki", record.number)
    found = tab.submit("/console/search", {"by": "nik", "query": NIK}, page="/console/search")
    assert record.number in _text(found) and NIK not in _text(found)
    assert NIK not in caplog.text


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"level": "5"}, "level"),  # the master list has no Operator Wheel Excavator at 5
        ({"job_title": "Tukang Sulap"}, "job_title"),
        ({"holder_name": ""}, "holder_name"),
        ({"nik": "1234"}, "nik"),
        ({"level": "7"}, "level"),  # outside the agency's levels
        ({"holder_name": f"Rina {NIK}"}, "holder_name"),
        ({"valid_from": "15/01/2026"}, "valid_from"),
        ({"valid_from": "2015-01-01"}, "valid_from"),  # expired before it is issued (issue 14)
        ({"valid_from": "2099-01-01"}, "valid_from"),  # far ahead
    ],
)
def test_issue_errors_name_the_field_and_issue_nothing(team, tab, fields, field):
    _signed_in(tab, team["operator"])
    answer = _issue_form(tab, **fields)
    assert answer.status_code == 422
    text = _text(answer)
    assert 'id="form-error"' in text and f'id="{field}" ' in text
    assert re.search(rf'id="{field}"[^>]*class="invalid"', text)
    assert NIK not in text and "1234" not in re.sub(r'value="[^"]*"', "", text.split("<main>")[1])
    assert CredentialRecord.select().count() == 0


def test_search_by_number_and_name(team, tab, issue):
    rina = issue(holder_name="Rina Marlina").credential.number
    issue(holder_name="Budi Santoso")
    _signed_in(tab, team["viewer"])
    by_number = tab.submit(
        "/console/search", {"by": "number", "query": rina.lower()}, page="/console/search"
    )
    assert by_number.status_code == 200
    by_name = _text(
        tab.submit("/console/search", {"by": "name", "query": "marlina"}, page="/console/search")
    )
    assert "Rina Marlina" in by_name and "Budi Santoso" not in by_name
    nik_as_number = tab.submit(
        "/console/search", {"by": "number", "query": NIK}, page="/console/search"
    )
    assert nik_as_number.status_code == 422 and NIK not in _text(nik_as_number)
    bad_nik = tab.submit("/console/search", {"by": "nik", "query": "3575"}, page="/console/search")
    assert bad_nik.status_code == 422 and 'value="3575"' not in _text(bad_nik)


def test_certificate_list_filters_and_pages(team, tab, issue):
    for i in range(3):
        issue(holder_name=f"Pekerja {i}")
    tukang = issue(holder_name="Tukang Bata", job_code="SI013013", level=1).credential.number
    revocation.revoke("lsp-contoh", tukang, "fraud", note=None, actor="cli", now=NOW)
    _signed_in(tab, team["viewer"])
    everything = _text(tab.get("/console/credentials"))
    assert "4 " in re.search(r'id="total">([^<]+)<', everything).group(1)
    revoked = _text(tab.get("/console/credentials?status=revoked"))
    assert "Tukang Bata" in revoked and "Pekerja 0" not in revoked
    level_one = _text(tab.get("/console/credentials?level=1&job=SI013013"))
    assert "Tukang Bata" in level_one and "Pekerja 0" not in level_one
    assert tab.get("/console/credentials?from=kemarin").status_code == 422
    assert tab.get("/console/credentials?page=0").status_code == 422


# -- state changes and four-eyes ------------------------------------------------------------------


def test_suspend_reinstate_and_revoke_behind_a_confirmation(team, tab, issue, service):
    signed = issue()
    number = signed.credential.number
    _signed_in(tab, team["admin"])
    confirm = _text(tab.get(_path(number, "/suspend")))
    assert 'name="reason"' in confirm and 'id="confirm"' in confirm
    assert lookup("lsp-contoh", number) is None  # GET: nothing
    missing = tab.submit(_path(number, "/suspend"), {"reason": ""})
    assert missing.status_code == 422
    with_nik = tab.submit(
        _path(number, "/suspend"), {"reason": "investigation", "note": f"NIK {NIK}"}
    )
    assert with_nik.status_code == 422 and NIK not in _text(with_nik)
    assert (
        tab.submit(
            _path(number, "/suspend"), {"reason": "investigation", "note": "laporan"}
        ).status_code
        == 303
    )
    assert service.verify(signed.token).status.value == "suspended"
    assert tab.submit(_path(number, "/reinstate"), {"note": ""}).status_code == 303
    assert service.verify(signed.token).status.value == "valid"
    assert tab.submit(_path(number, "/revoke"), {"reason": "fraud"}).status_code == 303
    assert service.verify(signed.token).status.value == "revoked"
    history = _text(tab.get(_path(number)))
    assert history.count("user:adi") == 3 and "laporan" in history
    assert 'id="step-' not in history  # nothing left to do with a revoked one
    assert tab.get(_path(number, "/reinstate")).status_code == 200
    assert tab.submit(_path(number, "/reinstate"), {}).status_code == 422  # refused


def test_four_eyes_revocation_in_the_console(team, tab, second_tab, issue, service):
    signed = issue()
    number = signed.credential.number
    first = _signed_in(tab, team["admin"])
    assert (
        first.submit(
            "/console/settings/four-eyes", {"four_eyes": "on"}, page="/console/settings"
        ).status_code
        == 303
    )
    assert approvals.four_eyes("lsp-contoh")
    requested = first.submit(
        _path(number, "/revoke"), {"reason": "fraud", "note": "palsu", "suspend_now": "yes"}
    )
    assert requested.status_code == 303
    assert service.verify(signed.token).status.value == "suspended"  # stopped at once
    (waiting,) = approvals.pending("lsp-contoh")
    mine = _text(first.get("/console/"))
    assert number in mine and f'id="approve-{waiting.id}"' not in mine
    # The requester cannot approve it, even by posting the form.
    first.submit(f"/console/approvals/{waiting.id}/approve")
    assert service.verify(signed.token).status.value == "suspended"
    second = _signed_in(second_tab, team["admin2"])
    theirs = _text(second.get("/console/"))
    assert f'id="approve-{waiting.id}"' in theirs
    assert second.submit(f"/console/approvals/{waiting.id}/approve").status_code == 303
    assert service.verify(signed.token).status.value == "revoked"
    revoked = AuditEvent.get(AuditEvent.action == "revoke")
    assert revoked.actor == "user:adi+user:budi" and revoked.note == "palsu"
    # Turning it off needs the second admin too.
    first.submit("/console/settings/four-eyes", {"four_eyes": "off"}, page="/console/settings")
    assert approvals.four_eyes("lsp-contoh")
    (off,) = approvals.pending("lsp-contoh")
    second.submit(f"/console/approvals/{off.id}/approve")
    assert not approvals.four_eyes("lsp-contoh")


# -- cohorts --------------------------------------------------------------------------------------


def _upload(tab: ConsoleClient, data: bytes, name: str = "peserta.csv"):
    return tab.submit(
        "/console/cohort",
        {"file": (io.BytesIO(data), name)},
        page="/console/cohort",
        content_type="multipart/form-data",
    )


def test_cohort_preview_confirm_and_print_pack(team, tab, skk_issue_batch, tmp_path):
    _signed_in(tab, team["operator"])
    upload = _upload(tab, COHORT.read_bytes())
    assert upload.status_code == 303
    preview_url = upload.headers["Location"]
    preview = _text(tab.get(preview_url))
    assert "75" in re.search(r'id="preview-summary">([^<]+)<', preview).group(1)
    assert preview.count("<tr><td>") == 75
    assert not any(nik in preview for nik in COHORT_NIKS)
    assert CredentialRecord.select().count() == 0  # a preview issues nothing
    confirmed = tab.submit(f"{preview_url}/confirm", page=preview_url)
    assert confirmed.status_code == 303 and confirmed.headers["Location"].endswith("/result")
    assert CredentialRecord.select().count() == 75
    assert (
        AuditEvent.select()
        .where((AuditEvent.action == "issue") & (AuditEvent.actor == "user:oki"))
        .count()
        == 75
    )
    again = tab.submit(f"{preview_url}/confirm", page="/console/")
    assert again.status_code == 303 and CredentialRecord.select().count() == 75
    result = _text(tab.get(confirmed.headers["Location"]))
    assert 'id="download"' in result
    pack = tab.get(confirmed.headers["Location"].replace("/result", "/prints.zip"))
    assert pack.mimetype == "application/zip"
    assert "attachment" in pack.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(pack.data))
    names = sorted(archive.namelist())
    # Exactly the files `skk issue-batch` writes for the same list.
    cli_out = skk_issue_batch(tmp_path / "cli")
    cli_names = sorted(str(p.relative_to(cli_out)) for p in cli_out.rglob("*") if p.is_file())
    assert [n for n in names if not n.startswith("qr/")] == [
        n for n in cli_names if not n.startswith("qr/")
    ]
    assert len([n for n in names if n.startswith("qr/")]) == 75
    rows = list(
        csv.reader(io.StringIO(archive.read("results.csv").decode("utf-8-sig")), delimiter=";")
    )
    assert rows[0] == ["line", "number", "name", "job", "level", "status", "url"]
    assert {row[5] for row in rows[1:]} == {"issued"}
    # A certificate revoked since is left out of the pack made afterwards.
    revoked = rows[1][1]
    revocation.revoke("lsp-contoh", revoked, "fraud", note=None, actor="cli", now=NOW)
    later = zipfile.ZipFile(
        io.BytesIO(tab.get(confirmed.headers["Location"].replace("/result", "/prints.zip")).data)
    )
    assert len([n for n in later.namelist() if n.startswith("qr/")]) == 74
    printed = "".join(later.read(n).decode() for n in later.namelist() if n.endswith(".html"))
    assert revoked not in printed
    assert "revoked" in later.read("results.csv").decode("utf-8-sig")


@pytest.fixture
def skk_issue_batch(env, team):
    """Issue the same cohort with `skk issue-batch` for another agency; its output folder."""
    from click.testing import CliRunner

    from verifier.cli import main

    def run(out: Path) -> Path:
        result = CliRunner().invoke(
            main, ["issue-batch", "--agency", OTHER, str(COHORT), "--out", str(out)], env=env
        )
        assert result.exit_code == 0, result.output
        return out

    return run


def test_cohort_problems_are_listed_with_line_and_column(team, tab):
    _signed_in(tab, team["operator"])
    bad = COHORT.read_bytes().replace(NIK.encode(), b"12345678", 1)
    bad = bad.replace(b",SI012033,4,", b",SI012033,9,", 1)
    preview = tab.get(_upload(tab, bad).headers["Location"])
    text = _text(preview)
    assert preview.status_code == 422 and 'id="problems"' in text
    assert re.search(r"<tr><td>2</td><td>nik</td>", text)
    assert re.search(r"<tr><td>3</td><td>jenjang</td>", text)
    assert "12345678" not in text and 'id="confirm"' not in text
    headerless = tab.get(_upload(tab, b"just,some\nthing,else\n").headers["Location"])
    assert headerless.status_code == 422 and 'id="form-error"' in _text(headerless)
    empty = _upload(tab, b"")
    assert empty.status_code == 422
    assert CredentialRecord.select().count() == 0


def test_an_upload_is_forgotten_after_a_day(team, tab, clock):
    _signed_in(tab, team["operator"])
    location = _upload(tab, COHORT.read_bytes()).headers["Location"]
    clock.advance(24 * 3600 + 1)
    _signed_in(tab, team["operator"])
    assert tab.get(location).status_code == 404
    _upload(tab, COHORT.read_bytes())  # a new upload sweeps the old one away
    assert CohortImport.select().count() == 1


# -- keys, API keys, users ------------------------------------------------------------------------


def test_the_keys_page_says_whether_this_host_signs(team, tab, contoh, settings):
    """As `skk keys list`: "signs here" only with the private file present (issue 14, item 4)."""
    _signed_in(tab, team["admin"])

    def signs_here() -> str:
        row = re.search(rf"<code>{contoh.kid}</code>.*?</tr>", _text(tab.get("/console/keys")))
        return re.findall(r"<td>([^<]*)</td>", row.group(0))[-1]

    assert signs_here() == "ya"
    (settings.keys_dir / f"{contoh.kid}.pem").unlink()
    assert signs_here() == "tidak"


def test_keys_and_api_keys(team, tab, contoh):
    _signed_in(tab, team["admin"])
    assert tab.submit("/console/keys", {"alg": "ES256"}, page="/console/keys").status_code == 303
    page = _text(tab.get("/console/keys"))
    assert contoh.kid in page and page.count("ES256") >= 2
    states = {key.kid: key.state for key in registry.list_keys("lsp-contoh")}
    assert states[contoh.kid] == "retired" and list(states.values()).count("active") == 1
    created = _text(tab.submit("/console/apikeys", page="/console/keys"))
    secret = re.search(r'id="api-key-secret">([^<]+)<', created).group(1)
    assert apikeys.authenticate(secret) == "lsp-contoh"
    assert secret not in _text(tab.get("/console/keys"))  # shown once
    key_id = secret.split("_")[1]
    assert tab.submit(f"/console/apikeys/{key_id}/revoke", page="/console/keys").status_code == 303
    assert apikeys.list_keys("lsp-contoh")[0].revoked_at is not None
    actions = [row.action for row in AuditEvent.select().where(AuditEvent.actor == "user:adi")]
    assert {"key_generated", "apikey_created", "apikey_revoked"} <= set(actions)
    assert secret not in repr([row.__data__ for row in AuditEvent.select()])


def test_users_add_reset_disable(team, tab, second_tab):
    _signed_in(tab, team["admin"])
    added = _text(
        tab.submit("/console/users", {"username": "Wati", "role": "viewer"}, page="/console/users")
    )
    one_time = re.search(r'id="one-time-password-value">([^<]+)<', added).group(1)
    assert staff_accounts.get("wati").agency_id == "lsp-contoh"
    assert accounts.sign_in("wati", one_time, "", now=NOW).account is not None
    taken = tab.submit(
        "/console/users", {"username": "wati", "role": "viewer"}, page="/console/users"
    )
    assert taken.status_code == 422
    reset = _text(tab.submit("/console/users/oki/reset", page="/console/users"))
    fresh = re.search(r'id="one-time-password-value">([^<]+)<', reset).group(1)
    assert accounts.sign_in("oki", fresh, "", now=NOW).account.must_change_password
    own = tab.submit("/console/users/adi/disable", page="/console/users")
    assert own.status_code == 409 and not staff_accounts.get("adi").disabled
    assert tab.submit("/console/users/vera/disable", page="/console/users").status_code == 303
    assert staff_accounts.get("vera").disabled
    dumped = repr([row.__data__ for row in AuditEvent.select()])
    assert one_time not in dumped and fresh not in dumped


# -- audit page -----------------------------------------------------------------------------------


def test_audit_page_filters_and_exports_csv(team, tab, issue):
    number = issue(holder_name="=HYPERLINK(1)").credential.number
    revocation.suspend(
        "lsp-contoh", number, "investigation", note="+62 812", actor="user:adi", now=NOW + 5
    )
    _signed_in(tab, team["viewer"])
    page = _text(tab.get("/console/audit?action=suspend"))
    assert number in page and page.count("<tr><td><time") == 1
    by_actor = _text(tab.get("/console/audit?actor=user:vera"))
    rows = re.findall(r"<tr><td><time.*?</tr>", by_actor, re.DOTALL)
    assert len(rows) == 3  # her password change and enrolment (make_staff), her sign-in
    assert all("<td>user:vera</td>" in row for row in rows)
    assert tab.get("/console/audit?action=bogus").status_code == 422
    # jobs_import is recorded without an agency: no agency's filter offers or takes it.
    assert 'value="jobs_import"' not in page and 'value="suspend"' in page
    assert tab.get("/console/audit?action=jobs_import").status_code == 422
    for page_number in ("0", "x", "\u00b2"):  # "²" is a digit to str.isdigit, not to int()
        assert tab.get(f"/console/audit?page={page_number}").status_code == 422
    export = tab.get("/console/audit.csv?action=suspend")
    assert export.mimetype == "text/csv" and export.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["id", "at", "actor", "action"]
    assert [row[3] for row in rows[1:]] == ["suspend"]
    assert rows[1][7] == "'+62 812"  # a spreadsheet formula never runs
    assert tab.get("/console/audit.csv?from=kemarin").status_code == 422


# -- pages: language, no script, no secrets -------------------------------------------------------


def test_pages_follow_the_language_and_carry_no_script(team, tab, issue):
    number = issue().credential.number
    _signed_in(tab, team["admin"])
    pages = [
        "/console/",
        "/console/issue",
        "/console/cohort",
        "/console/search",
        "/console/credentials",
        _path(number),
        _path(number, "/revoke"),
        "/console/audit",
        "/console/keys",
        "/console/users",
        "/console/settings",
        "/console/password",
    ]
    for path in pages:
        answer = tab.get(path)
        assert answer.status_code == 200, path
        text = _text(answer)
        assert "<script" not in text.lower()
        assert not re.search(r"<[^>]+\son[a-z]+=", text), path
        assert "script-src" not in answer.headers["Content-Security-Policy"]
        assert answer.headers["Cache-Control"] == "no-store"
        assert '<html lang="id">' in text, path
    english = _text(tab.get("/console/?lang=en"))
    assert '<html lang="en">' in english and "Recent actions" in english
    indonesian = _text(tab.get("/console/"))
    assert "Recent actions" not in indonesian


def test_no_password_or_nik_in_any_log_page_or_audit_row(team, tab, caplog):
    caplog.set_level(logging.DEBUG)
    seen = []
    operator = team["operator"]
    seen.append(tab.sign_in(operator, password="salah " + PASSWORD))
    seen.append(tab.sign_in(Staff(PASSWORD, PASSWORD, "", "")))
    seen.append(tab.sign_in(operator))
    seen.append(_issue_form(tab, nik=NIK))
    seen.append(tab.submit("/console/search", {"by": "nik", "query": NIK}, page="/console/search"))
    seen.append(_upload(tab, COHORT.read_bytes()))
    seen.append(tab.get(seen[-1].headers["Location"]))
    seen.append(
        tab.submit(
            "/console/password",
            {"current": PASSWORD, "new": "x", "confirm": "x"},
            page="/console/password",
        )
    )
    for answer in seen:
        text = _text(answer) + repr(dict(answer.headers))
        assert PASSWORD not in text and not any(nik in text for nik in COHORT_NIKS)
    rows = repr([row.__data__ for row in AuditEvent.select()])
    assert PASSWORD not in rows and NIK not in rows
    assert PASSWORD not in caplog.text and NIK not in caplog.text
    sessions_dump = repr([row.__data__ for row in StaffSession.select()])
    assert PASSWORD not in sessions_dump and NIK not in sessions_dump
    # The uploaded file waits encrypted: not one of its NIKs is stored in the clear.
    stored = b"".join(bytes(row.content) for row in CohortImport.select())
    assert stored and not any(nik.encode() in stored for nik in COHORT_NIKS)


def test_an_api_revocation_waits_for_an_admin_under_four_eyes(
    team, tab, console_app, issue, service
):
    signed = issue()
    number = signed.credential.number
    approvals.turn_on("lsp-contoh", actor="user:adi", now=NOW)
    created = apikeys.create("lsp-contoh", NOW)
    api = console_app.test_client()
    answer = api.post(
        f"/api/v1/credentials/{quote(number)}/revoke",
        json={"reason": "fraud"},
        headers={"Authorization": f"Bearer {created['api_key']}"},
    )
    assert answer.status_code == 202
    body = answer.get_json()
    assert body["status"] == "pending_approval" and body["number"] == number
    assert service.verify(signed.token).status.value == "valid"
    _signed_in(tab, team["admin"])
    assert tab.submit(f"/console/approvals/{body['approval']}/approve").status_code == 303
    assert service.verify(signed.token).status.value == "revoked"
    revoked = AuditEvent.get(AuditEvent.action == "revoke")
    assert revoked.actor == f"apikey:{created['key_id']}+user:adi"


def test_an_upload_cannot_be_read_once_the_pepper_changed(team, tab, database, env, clock):
    _signed_in(tab, team["operator"])
    location = _upload(tab, COHORT.read_bytes()).headers["Location"]
    changed = create_app(
        {**env, "SKK_NIK_PEPPER": "another pepper", "TESTING": True, "CONSOLE_CLOCK": clock}
    )
    other = _signed_in(ConsoleClient(changed.test_client(), clock), team["operator"])
    assert other.get(location).status_code == 404
    assert CredentialRecord.select().count() == 0


def test_a_host_without_the_key_passphrase_cannot_make_keys(team, database, env, clock, contoh):
    app = create_app({**env, "SKK_KEY_PASSPHRASE": "", "TESTING": True, "CONSOLE_CLOCK": clock})
    admin = _signed_in(ConsoleClient(app.test_client(), clock), team["admin"])
    refused = admin.submit("/console/keys", {"alg": "EdDSA"}, page="/console/keys")
    assert refused.status_code == 503 and 'id="form-error"' in _text(refused)
    assert [key.kid for key in registry.list_keys("lsp-contoh")] == [contoh.kid]
