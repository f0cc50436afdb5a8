"""Revocation store: SPEC §5 rules, reason codes, append-only history, keyed by canonical number."""

from __future__ import annotations

import pytest

from tests.helpers import NOW
from verifier.core.errors import Conflict, InvalidInput, NotFound
from verifier.store import revocation
from verifier.store.models import RevocationEvent


@pytest.fixture
def number(contoh, issue) -> str:
    """A credential issued here."""
    return issue(number="41011 7112 3 00001234 2025").credential.number


def act(action: str, number: str, reason: str = "fraud", at: int = NOW, note: str | None = None):
    if action == "reinstate":
        return revocation.reinstate("lsp-contoh", number, note=note, actor="test", now=at)
    apply = getattr(revocation, action)
    return apply("lsp-contoh", number, reason, note=note, actor="test", now=at)


def test_revoke_records_state_and_history(number, database) -> None:
    change = act("revoke", number, note="bukti palsu")
    assert change.to_dict() == {
        "agency": "lsp-contoh",
        "number": number,
        "status": "revoked",
        "at": "2026-01-15T00:00:00Z",
        "reason": "fraud",
        "changed": True,
    }
    assert revocation.lookup("lsp-contoh", number).status == "revoked"
    [event] = revocation.history("lsp-contoh")
    assert (event["action"], event["note"], event["actor"]) == ("revoke", "bukti palsu", "test")


def test_repeat_is_a_no_op_keeping_first_time_and_reason(number) -> None:
    act("suspend", number, "investigation", at=NOW)
    again = act("suspend", number, "other", at=NOW + 100)
    assert (again.changed, again.at, again.reason) == (False, NOW, "investigation")
    act("revoke", number, "fraud", at=NOW + 200)
    final = act("revoke", number, "misuse", at=NOW + 300)
    assert (final.changed, final.at, final.reason) == (False, NOW + 200, "fraud")
    assert len(revocation.history("lsp-contoh")) == 2


def test_revoking_a_suspended_credential_is_allowed(number) -> None:
    act("suspend", number, "investigation")
    assert act("revoke", number, "fraud").status == "revoked"


@pytest.mark.parametrize("action", ["suspend", "reinstate"])
def test_revoked_is_final(number, action) -> None:
    act("revoke", number)
    with pytest.raises(Conflict, match="revoked"):
        act(action, number, "other")


def test_reinstate_lifts_suspension_and_removes_record(number, database) -> None:
    act("suspend", number, "investigation")
    change = act("reinstate", number)
    assert (change.status, change.changed, change.reason) == ("active", True, None)
    assert revocation.lookup("lsp-contoh", number) is None
    assert act("reinstate", number).changed is False
    assert [e["action"] for e in revocation.history("lsp-contoh", number)] == [
        "suspend",
        "reinstate",
    ]


def test_repeated_reinstate_keeps_the_time_of_the_first(number) -> None:
    assert act("reinstate", number).at is None  # never changed: no time to keep
    act("suspend", number, "investigation", at=NOW)
    first = act("reinstate", number, at=NOW + 100)
    again = act("reinstate", number, at=NOW + 500)
    assert (first.at, again.at, again.changed) == (NOW + 100, NOW + 100, False)


def test_number_is_canonicalised(number, database) -> None:
    act("revoke", "  41011   7112 3 00001234  2025 ")
    assert revocation.lookup("lsp-contoh", number).status == "revoked"


@pytest.mark.parametrize("reason", revocation.REASONS)
def test_every_reason_code_accepted(number, reason) -> None:
    assert act("suspend", number, reason).reason == reason


def test_unknown_reason_refused(number) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        act("revoke", number, "bored")
    assert excinfo.value.field == "reason"


def test_note_with_a_nik_refused(number) -> None:
    with pytest.raises(InvalidInput, match="NIK") as excinfo:
        act("revoke", number, note="pemilik NIK 3575040003930001")
    assert "3575040003930001" not in excinfo.value.message
    assert RevocationEvent.select().count() == 0


def test_number_never_issued_here_refused(contoh) -> None:
    with pytest.raises(NotFound):
        act("revoke", "NEVER 1")


def test_other_agency_cannot_touch_the_record(number, make_agency, make_key) -> None:
    make_agency("lsp-lain")
    make_key("lsp-lain")
    with pytest.raises(NotFound):
        revocation.revoke("lsp-lain", number, "fraud", note=None, actor="x", now=NOW)


def test_unknown_agency_refused(contoh) -> None:
    with pytest.raises(NotFound):
        revocation.revoke("lsp-hantu", "X 1", "fraud", note=None, actor="x", now=NOW)
