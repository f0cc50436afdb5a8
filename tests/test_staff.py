"""Staff accounts (the staff service), sessions and four-eyes approvals (the store), without
Flask, on both stores."""

from __future__ import annotations

import pyotp
import pytest

from tests.console_support import PASSWORD, STEP, make_staff
from tests.helpers import NOW
from verifier.core.errors import Conflict, InvalidInput, NotFound
from verifier.staff import accounts
from verifier.store import approvals, audit, revocation, staff_accounts
from verifier.store import staff_sessions as sessions
from verifier.store.audit import AuditFilter
from verifier.store.models import AuditEvent, StaffSession, StaffUser
from verifier.store.revocation import lookup

NIK = "3575040003930001"


def _events(agency_id: str = "lsp-contoh", **filters) -> list[audit.AuditEntry]:
    return audit.oldest(agency_id, AuditFilter(**filters), after=0, limit=1000)


# -- accounts -------------------------------------------------------------------------------------


def test_new_account_has_a_one_time_password_hashed_with_argon2id(contoh):
    account, password = accounts.add_user("lsp-contoh", "rina", "operator", actor="cli", now=NOW)
    assert account.must_change_password and not account.totp_enrolled and not account.ready
    assert len(password) == 19 and password.count("-") == 3
    stored = StaffUser.get(StaffUser.username == "rina").password_hash
    # Argon2id with RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes).
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and password not in stored
    (event,) = _events(action="user_added")
    assert (event.actor, event.subject, event.reason) == ("cli", "rina", "operator")
    assert password not in repr(event)


@pytest.mark.parametrize(
    "username", ["ab", "Rina", "rina_x", "-rina", "x" * 33, "3575040003930001", "rina@dinas"]
)
def test_bad_usernames_are_refused(contoh, username):
    with pytest.raises(InvalidInput) as refused:
        accounts.add_user("lsp-contoh", username, "viewer", actor="cli", now=NOW)
    assert refused.value.field == "username"


def test_duplicate_username_unknown_role_and_agency(contoh):
    accounts.add_user("lsp-contoh", "rina", "viewer", actor="cli", now=NOW)
    with pytest.raises(Conflict):
        accounts.add_user("lsp-contoh", "rina", "viewer", actor="cli", now=NOW)
    with pytest.raises(InvalidInput, match="role"):
        accounts.add_user("lsp-contoh", "budi", "root", actor="cli", now=NOW)
    with pytest.raises(NotFound):
        accounts.add_user("lsp-lain", "budi", "viewer", actor="cli", now=NOW)


def test_roles_are_ordered(contoh):
    viewer, _ = accounts.add_user("lsp-contoh", "vera", "viewer", actor="cli", now=NOW)
    admin, _ = accounts.add_user("lsp-contoh", "adi", "admin", actor="cli", now=NOW)
    assert viewer.may("viewer") and not viewer.may("operator") and not viewer.may("admin")
    assert admin.may("viewer") and admin.may("operator") and admin.may("admin")


def test_first_sign_in_needs_no_code_then_password_and_enrolment(contoh):
    account, one_time = accounts.add_user("lsp-contoh", "rina", "admin", actor="cli", now=NOW)
    first = accounts.sign_in("rina", one_time, "", now=NOW)
    assert first.account is not None and not first.account.ready
    with pytest.raises(InvalidInput) as same:
        accounts.change_password(account.id, one_time, one_time, now=NOW)
    assert same.value.field == "new"
    with pytest.raises(InvalidInput) as short:
        accounts.change_password(account.id, one_time, "pendek", now=NOW)
    assert short.value.field == "new"
    with pytest.raises(InvalidInput) as wrong:
        accounts.change_password(account.id, "salah", PASSWORD, now=NOW)
    assert wrong.value.field == "current"
    accounts.change_password(account.id, one_time, PASSWORD, now=NOW)
    secret = accounts.enrolment_secret(account.id)
    assert accounts.enrolment_secret(account.id) == secret  # stable until confirmed
    assert accounts.provisioning_uri("rina", secret).startswith("otpauth://totp/")
    with pytest.raises(InvalidInput):
        accounts.confirm_enrolment(
            account.id, "000000" if pyotp.TOTP(secret).at(NOW) != "000000" else "111111", now=NOW
        )
    accounts.confirm_enrolment(account.id, pyotp.TOTP(secret).at(NOW), now=NOW)
    assert staff_accounts.get("rina").ready
    with pytest.raises(Conflict):
        accounts.enrolment_secret(account.id)
    # Now the one-time password is dead and a code is needed.
    assert accounts.sign_in("rina", one_time, "", now=NOW + STEP).failure == "password"
    assert accounts.sign_in("rina", PASSWORD, "", now=NOW + STEP).failure == "code"
    later = NOW + STEP
    assert accounts.sign_in("rina", PASSWORD, pyotp.TOTP(secret).at(later), now=later).account


def test_code_is_accepted_once(contoh):
    staff = make_staff("lsp-contoh", "rina", "admin")
    code = staff.code(NOW)
    assert accounts.sign_in("rina", PASSWORD, code, now=NOW).account is not None
    replay = accounts.sign_in("rina", PASSWORD, code, now=NOW)
    assert replay.account is None and replay.failure == "code"
    # An older step is refused too, once a newer one was used.
    assert accounts.sign_in("rina", PASSWORD, staff.code(NOW - STEP), now=NOW).failure == "code"
    assert accounts.sign_in("rina", PASSWORD, staff.code(NOW + STEP), now=NOW).account


def test_code_from_a_drifting_phone_one_step_either_side(contoh):
    staff = make_staff("lsp-contoh", "rina", "admin", at=NOW - 10 * STEP)
    assert accounts.sign_in("rina", PASSWORD, staff.code(NOW - STEP), now=NOW).account
    assert accounts.sign_in("rina", PASSWORD, staff.code(NOW + 2 * STEP), now=NOW).failure == (
        "code"
    )
    assert accounts.sign_in("rina", PASSWORD, "12345", now=NOW).failure == "code"
    assert accounts.sign_in("rina", PASSWORD, "１２３４５６", now=NOW).failure == "code"


def test_failed_sign_ins_are_audited_without_what_was_typed(contoh):
    make_staff("lsp-contoh", "rina", "admin")
    accounts.sign_in("rina", "tebakan-salah-123", "", now=NOW)
    accounts.sign_in(PASSWORD, PASSWORD, "", now=NOW)  # a password typed into the name box
    rows = list(AuditEvent.select().where(AuditEvent.action == "login_failed"))
    assert [(row.agency_id, row.actor, row.reason) for row in rows] == [
        ("lsp-contoh", "user:rina", "password"),
        (None, "anonymous", "account"),
    ]
    dumped = repr([row.__data__ for row in AuditEvent.select()])
    assert PASSWORD not in dumped and "tebakan-salah-123" not in dumped


def test_disable_and_reset_end_sessions(contoh):
    staff = make_staff("lsp-contoh", "rina", "operator")
    user_id = staff_accounts.get("rina").id
    raw = sessions.new_id()
    sessions.create(raw, user_id=user_id, stage="active", data={}, now=NOW)
    assert sessions.load(raw, now=NOW + 1) is not None
    disabled = accounts.disable("rina", actor="user:adi", now=NOW)
    assert disabled.disabled and sessions.load(raw, now=NOW + 1) is None
    assert accounts.sign_in("rina", PASSWORD, staff.code(NOW), now=NOW).failure == "disabled"
    account, password = accounts.reset("rina", actor="user:adi", now=NOW + 5)
    assert account.disabled and account.must_change_password and not account.totp_enrolled
    assert [e.action for e in _events()][-3:] == ["user_disabled", "login_failed", "user_reset"]
    with pytest.raises(NotFound):
        accounts.disable("rina", actor="x", now=NOW, agency_id="lsp-lain")
    assert password


def test_password_change_ends_the_other_sessions(contoh):
    make_staff("lsp-contoh", "rina", "operator")
    user_id = staff_accounts.get("rina").id
    mine, other = sessions.new_id(), sessions.new_id()
    kept = sessions.create(mine, user_id=user_id, stage="active", data={}, now=NOW)
    sessions.create(other, user_id=user_id, stage="active", data={}, now=NOW)
    accounts.change_password(
        user_id, PASSWORD, "yang baru dan panjang", now=NOW, keep_session=kept.id_hash
    )
    assert sessions.load(mine, now=NOW + 1) is not None
    assert sessions.load(other, now=NOW + 1) is None


# -- sessions -------------------------------------------------------------------------------------


def test_sessions_store_only_a_hash_and_time_out(contoh):
    make_staff("lsp-contoh", "rina", "operator")
    user_id = staff_accounts.get("rina").id
    raw = sessions.new_id()
    sessions.create(raw, user_id=user_id, stage="active", data={"x": 1}, now=NOW)
    assert [row.id_hash for row in StaffSession.select()] == [sessions.hash_id(raw)]
    assert raw not in repr([row.__data__ for row in StaffSession.select()])
    loaded = sessions.load(raw, now=NOW + sessions.IDLE_SECONDS - 1)
    assert loaded is not None and loaded.data == {"x": 1}
    assert sessions.load(raw, now=NOW + sessions.IDLE_SECONDS) is None  # idle: ended
    assert StaffSession.select().count() == 0
    # Kept busy, it still ends at the absolute timeout.
    raw = sessions.new_id()
    record = sessions.create(raw, user_id=user_id, stage="active", data={}, now=NOW)
    for at in range(NOW, NOW + sessions.ABSOLUTE_SECONDS, 600):
        assert sessions.load(raw, now=at) is not None
        sessions.save(record, now=at, data_changed=False)
        record.last_seen_at = at
    assert sessions.load(raw, now=NOW + sessions.ABSOLUTE_SECONDS) is None
    assert sessions.load("short", now=NOW) is None


# -- four-eyes ------------------------------------------------------------------------------------


def test_four_eyes_revocation_needs_a_second_admin(contoh, issue):
    number = issue().credential.number
    approvals.turn_on("lsp-contoh", actor="user:adi", now=NOW)
    result = approvals.revoke_or_request(
        "lsp-contoh", number, "fraud", note="palsu", actor="user:adi", now=NOW
    )
    assert isinstance(result, approvals.Approval) and result.outcome is None
    assert lookup("lsp-contoh", number) is None  # nothing revoked yet
    with pytest.raises(Conflict):  # one request at a time
        approvals.request_revocation(
            "lsp-contoh", number, "misuse", note=None, actor="user:budi", now=NOW
        )
    with pytest.raises(Conflict) as own:
        approvals.approve("lsp-contoh", result.id, approver="user:adi", now=NOW + 1)
    assert own.value.field == "approver"
    with pytest.raises(NotFound):
        approvals.approve("lsp-lain", result.id, approver="user:budi", now=NOW + 1)
    done = approvals.approve("lsp-contoh", result.id, approver="user:budi", now=NOW + 2)
    assert done.outcome == "approved" and done.decided_by == "user:budi"
    state = lookup("lsp-contoh", number)
    assert state is not None and (state.status, state.reason) == ("revoked", "fraud")
    revoked = _events(action="revoke")[-1]
    assert revoked.actor == "user:adi+user:budi" and revoked.note == "palsu"
    assert [e.actor for e in _events(actor="user:budi", action="revoke")] == ["user:adi+user:budi"]
    with pytest.raises(NotFound):  # decided: no longer waiting
        approvals.reject("lsp-contoh", result.id, decider="user:budi", now=NOW + 3)


def test_four_eyes_suspension_still_acts_at_once_and_rejection_changes_nothing(contoh, issue):
    number = issue().credential.number
    approvals.turn_on("lsp-contoh", actor="user:adi", now=NOW)
    revocation.suspend("lsp-contoh", number, "investigation", note=None, actor="user:adi", now=NOW)
    request = approvals.request_revocation(
        "lsp-contoh", number, "fraud", note=None, actor="user:adi", now=NOW
    )
    assert [a.id for a in approvals.pending("lsp-contoh", number)] == [request.id]
    approvals.reject("lsp-contoh", request.id, decider="user:adi", now=NOW + 1)  # withdrawn
    state = lookup("lsp-contoh", number)
    assert state is not None and state.status == "suspended"
    assert approvals.pending("lsp-contoh") == []


def test_turning_four_eyes_off_needs_a_second_admin(contoh, issue):
    number = issue().credential.number
    with pytest.raises(Conflict):
        approvals.request_turn_off("lsp-contoh", actor="user:adi", now=NOW)
    approvals.turn_on("lsp-contoh", actor="user:adi", now=NOW)
    request = approvals.request_turn_off("lsp-contoh", actor="user:adi", now=NOW)
    assert approvals.four_eyes("lsp-contoh")
    approvals.approve("lsp-contoh", request.id, approver="user:budi", now=NOW + 1)
    assert not approvals.four_eyes("lsp-contoh")
    change = approvals.revoke_or_request(
        "lsp-contoh", number, "fraud", note=None, actor="user:adi", now=NOW + 2
    )
    assert not isinstance(change, approvals.Approval) and change.status == "revoked"
    actions = [e.action for e in _events()]
    assert (
        actions.index("four_eyes_on")
        < actions.index("four_eyes_off_requested")
        < (actions.index("four_eyes_off"))
    )


def test_revocation_request_checks_like_a_revocation(contoh, issue):
    number = issue().credential.number
    with pytest.raises(InvalidInput):
        approvals.request_revocation("lsp-contoh", number, "because", note=None, actor="x", now=NOW)
    with pytest.raises(InvalidInput):
        approvals.request_revocation(
            "lsp-contoh", number, "fraud", note=f"NIK {NIK}", actor="x", now=NOW
        )
    with pytest.raises(NotFound):
        approvals.request_revocation("lsp-contoh", "NOPE 1", "fraud", note=None, actor="x", now=NOW)
