"""Hostile input, as properties: no byte-level mutation of a valid token verifies unless it still
carries the very bytes that were signed, and no mutation of a QR payload breaks the decoder.

The mutation strategies and the two checks are plain module-level functions so that ``make fuzz``
(``fuzz/``) runs the same properties with tens of thousands of examples. Here they run a few
hundred, derandomised, so ``make test`` stays fast and gives the same verdict on every run.
Exhaustive loops cover every single-byte change; hypothesis covers stacked mutations.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Literal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import DrawFn, SearchStrategy

from tests.helpers import NOW
from verifier.core import jws, links, qr_payload
from verifier.core.errors import Conflict, InvalidInput, NotFound
from verifier.core.verify import SHOWS_CREDENTIAL, Status
from verifier.issuance import cohort
from verifier.issuance.cohort_file import read_cohort
from verifier.store import records, registry, revocation
from verifier.verification import VerificationService

#: Examples per property in ``make test`` (SKK_PROPERTY_EXAMPLES for a longer local run;
#: ``make fuzz`` draws from the same strategies with its own, much larger counts).
EXAMPLES = int(os.environ.get("SKK_PROPERTY_EXAMPLES", "300"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # same examples every run: a red build is reproducible, never a fluke
    deadline=None,  # a noisy 2-core machine must not turn a slow example into a failure
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: Statuses that exist only after rule 4: the signature verified against a registered key.
SIGNATURE_VERIFIED = SHOWS_CREDENTIAL | {Status.KEY_REVOKED, Status.LEVEL_NOT_AUTHORIZED}
#: What a payload that decodes to some other token may verify as: never anything signed.
UNSIGNED = frozenset(
    {Status.MALFORMED, Status.UNKNOWN_ISSUER, Status.UNKNOWN_KEY, Status.BAD_SIGNATURE}
)
# Ed25519 group order (RFC 8032 §5.1) and the P-256 order (SEC 2 §2.4.2).
ED25519_L = 2**252 + 27742317777372353535851937790883648493
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


# --- mutations ---------------------------------------------------------------------------------


def _segment_bounds(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each '.'-separated segment, so every segment gets its share of changes."""
    bounds, start = [], 0
    for index, byte in enumerate(data + b"."):
        if byte == ord("."):
            bounds.append((start, index))
            start = index + 1
    return bounds


@st.composite
def _one_mutation(draw: DrawFn, data: bytes) -> bytes:
    """One byte-level change: flip, replace, insert, delete, swap case, pad, dots, truncate."""
    bounds = _segment_bounds(data)
    start, end = draw(st.sampled_from(bounds))
    at = draw(st.integers(start, max(start, end - 1))) if data else 0
    kind = draw(
        st.sampled_from(
            ["flip", "replace", "insert", "delete", "case", "pad", "dot", "truncate", "swap"]
        )
    )
    event(f"mutation {kind}")
    inside = at < len(data)  # an empty last segment ("a.b.") has no byte to change
    if kind == "flip" and inside:
        bit = draw(st.integers(0, 7))
        return data[:at] + bytes([data[at] ^ (1 << bit)]) + data[at + 1 :]
    if kind == "replace" and inside:
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    if kind == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    if kind == "delete":
        return data[:at] + data[at + draw(st.integers(1, 4)) :]
    if kind == "case" and inside:
        return data[:at] + data[at : at + 1].swapcase() + data[at + 1 :]
    if kind == "pad":
        return data[:end] + draw(st.sampled_from([b"=", b"==", b"%3D", b" ", b"\n"])) + data[end:]
    if kind == "dot":
        return data[:at] + draw(st.sampled_from([b".", b"", b".."])) + data[at + 1 :]
    if kind == "truncate":
        return data[:at]
    # swap two neighbouring bytes (a transposition, as a person copying a token would make)
    return data[:at] + data[at + 1 : at + 2] + data[at : at + 1] + data[at + 2 :]


@st.composite
def mutated(draw: DrawFn, original: str) -> str:
    """1-3 stacked byte-level mutations of ``original``, read back one character per byte."""
    data = original.encode("ascii")
    for _ in range(draw(st.integers(1, 3))):
        data = draw(_one_mutation(data))
    # Latin-1 maps every byte to one code point, so non-UTF-8 bytes reach the parser too.
    return data.decode("latin-1")


def token_mutations(token: str) -> SearchStrategy[str]:
    """Mutations of a token, also inside a verify URL (the other form a phone hands over)."""
    prefix = "https://sertifikat.example.id/v/"
    return mutated(token) | mutated(token).map(prefix.__add__) | mutated(prefix + token)


@st.composite
def _digit_mutation(draw: DrawFn, payload: str) -> str:
    digits = list(payload)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, max(0, len(digits) - 1)))
        kind = draw(st.sampled_from(["replace", "insert", "delete", "swap", "truncate", "zero"]))
        digit = draw(st.sampled_from("0123456789"))
        if kind == "replace" and digits:
            digits[at] = digit
        elif kind == "insert":
            digits.insert(at, digit)
        elif kind == "delete" and digits:
            del digits[at]
        elif kind == "swap" and at + 1 < len(digits):
            digits[at], digits[at + 1] = digits[at + 1], digits[at]
        elif kind == "truncate":
            del digits[at:]
        else:
            digits.insert(1, "0")  # a leading zero after the version digit
    return "".join(digits)


def payload_mutations(payload: str) -> SearchStrategy[str]:
    """Damage a compact payload: digit edits (as a misread QR would), or any byte-level change."""
    return _digit_mutation(payload) | mutated(payload)


# --- the two properties ------------------------------------------------------------------------


def check_token_mutation(service: VerificationService, original: str, text: str) -> Status:
    """A mutation verifies past rule 4 only if it still is the original's signed bytes.

    The parser is strict (unpadded canonical base64url, no second spelling of any segment), so
    only the identical token gets that far, possibly inside a verify URL or with white space
    around it: both the same signed bytes and the same token text are asserted.
    """
    result = service.verify(text, at=NOW)
    if result.status in SIGNATURE_VERIFIED:
        extracted = links.extract_token(text)
        signed, received = jws.parse(original), jws.parse(extracted)
        assert (received.signing_input, received.signature) == (
            signed.signing_input,
            signed.signature,
        ), f"{text!r} verified with other bytes"
        assert extracted == original
        assert result.status is Status.VALID
    return result.status


def check_payload_mutation(
    service: VerificationService | None, original_token: str, payload: str
) -> str:
    """A damaged payload decodes to exactly the original token, or fails cleanly.

    Clean failure: MalformedToken from the decoder, or (a 10-bit check value lets about one
    damaged payload in a thousand through) a different token that verification then refuses.
    Any other exception fails the property. Returns what happened, for statistics.
    """
    try:
        token = qr_payload.decode_payload(payload)
    except jws.MalformedToken:
        return "malformed payload"
    assert isinstance(token, str)
    if token == original_token:
        return "original token"
    if not (payload.isascii() and payload.isdigit()):
        assert token == payload  # the plain-JWS fallback is handed on untouched
        return "plain fallback"
    if service is not None:
        status = service.verify(token, at=NOW).status
        assert status in UNSIGNED, f"damaged payload {payload!r} decoded to a {status} token"
    return "other token, refused"


def _extracted(text: str) -> str | None:
    """The JWS the verification service would judge, or None when it is malformed before that."""
    try:
        return links.extract_token(text)
    except jws.MalformedToken:
        return None


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def token(contoh, issue) -> str:
    """A valid Ed25519 credential of the reference agency."""
    signed = issue()
    return signed.token


@pytest.fixture
def es256_token(make_agency, make_key, issue) -> str:
    """A valid ES256 credential of another agency."""
    make_agency("lsp-pe", levels=(1, 9))
    make_key("lsp-pe", alg="ES256")
    return issue(agency_id="lsp-pe").token


# --- exhaustive single-byte changes ------------------------------------------------------------


def _all_single_changes(token: str) -> list[str]:
    """Every bit flip, deletion, case swap and adjacent swap; padding after every segment."""
    data = token.encode("ascii")
    changed = set()
    for at in range(len(data)):
        for bit in range(8):
            changed.add(data[:at] + bytes([data[at] ^ (1 << bit)]) + data[at + 1 :])
        changed.add(data[:at] + data[at + 1 :])
        changed.add(data[:at] + data[at : at + 1].swapcase() + data[at + 1 :])
        changed.add(data[:at] + data[at + 1 : at + 2] + data[at : at + 1] + data[at + 2 :])
    for _, end in _segment_bounds(data):
        for pad in (b"=", b"=="):
            changed.add(data[:end] + pad + data[end:])
    changed.discard(data)
    return [item.decode("latin-1") for item in changed]


@pytest.mark.parametrize("which", ["token", "es256_token"])
def test_every_single_byte_change_is_refused(
    request: pytest.FixtureRequest, service: VerificationService, which: str
) -> None:
    original: str = request.getfixturevalue(which)
    changes = _all_single_changes(original)
    assert len(changes) > 8 * len(original)
    statuses = [check_token_mutation(service, original, text) for text in changes]
    assert Status.VALID not in statuses
    # The signature segment's changes reach rule 4 and fail there, not earlier by accident.
    assert Status.BAD_SIGNATURE in statuses
    assert set(statuses) <= UNSIGNED


def test_the_unchanged_token_and_its_url_verify(token: str, service: VerificationService) -> None:
    for text in (token, f" {token}\n", f"https://x.example/v/{token}?utm=1#top"):
        assert check_token_mutation(service, token, text) is Status.VALID


# --- hypothesis: stacked mutations -------------------------------------------------------------


@PROPERTY
@given(data=st.data())
def test_mutated_token_never_verifies_with_other_bytes(
    token: str, service: VerificationService, data: st.DataObject
) -> None:
    text = data.draw(token_mutations(token))
    status = check_token_mutation(service, token, text)
    event(f"status {status.value}")
    assert (status is Status.VALID) == (_extracted(text) == token)


@PROPERTY
@given(data=st.data())
def test_mutated_payload_decodes_to_the_original_or_fails_cleanly(
    token: str, service: VerificationService, data: st.DataObject
) -> None:
    payload = qr_payload.encode_payload(token)
    assert payload.isdigit()  # the issuer's tokens take the compact form
    event(check_payload_mutation(service, token, data.draw(payload_mutations(payload))))


def test_every_single_digit_change_of_a_payload_fails_cleanly(
    token: str, service: VerificationService
) -> None:
    payload = qr_payload.encode_payload(token)
    outcomes: dict[str, int] = {}
    for at in range(len(payload)):
        for digit in "0123456789":
            for damaged in (
                payload[:at] + digit + payload[at + 1 :],
                payload[:at] + digit + payload[at:],
            ):
                if damaged != payload:
                    outcome = check_payload_mutation(service, token, damaged)
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1
        outcome = check_payload_mutation(service, token, payload[:at] + payload[at + 1 :])
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert "original token" not in outcomes
    assert outcomes["malformed payload"] > 0.99 * sum(outcomes.values())


# --- signature malleability --------------------------------------------------------------------


def _with_signature(
    token: str, transform: Callable[[int, int], tuple[int, int]], little: bool
) -> str:
    """The token with its signature halves (R, S or r, s) replaced by ``transform``."""
    head, _, sig_b64 = token.rpartition(".")
    signature = jws.b64url_decode(sig_b64)
    byteorder: Literal["little", "big"] = "little" if little else "big"
    first = int.from_bytes(signature[:32], byteorder)
    second = int.from_bytes(signature[32:], byteorder)
    first, second = transform(first, second)
    if second >= 2**256:
        return ""
    new = first.to_bytes(32, byteorder) + second.to_bytes(32, byteorder)
    return f"{head}.{jws.b64url_encode(new)}"


def test_ed25519_signature_with_s_plus_l_is_refused(token: str, service) -> None:
    # RFC 8032 §5.1.7: S must be below L, or every signature would have a second spelling.
    twin = _with_signature(token, lambda r, s: (r, s + ED25519_L), little=True)
    assert twin and twin != token
    assert service.verify(twin, at=NOW).status is Status.BAD_SIGNATURE


def test_es256_twin_signature_carries_the_same_signed_bytes_and_is_revoked_with_it(
    es256_token: str, service: VerificationService
) -> None:
    """ECDSA's (r, n - s) also verifies; JOSE has no low-S rule, and refusing high S would refuse
    half of what external ES256 signers produce. The twin signs the very same header and
    payload, so nothing a verifier shows can differ, and revocation (keyed by agency and
    number, never by token hash) covers it too."""
    twin = _with_signature(es256_token, lambda r, s: (r, P256_N - s), little=False)
    assert twin != es256_token
    assert jws.parse(twin).signing_input == jws.parse(es256_token).signing_input
    assert service.verify(twin, at=NOW).status is Status.VALID
    number = jws.parse(es256_token).payload["jti"]
    revocation.revoke("lsp-pe", number, "fraud", note=None, actor="test", now=NOW)
    assert service.verify(twin, at=NOW).status is Status.REVOKED
    assert service.verify(es256_token, at=NOW).status is Status.REVOKED


# --- hostile text in certificate numbers and notes (core, both databases) -----------------------


@pytest.fixture
def issued_number(contoh, issue) -> str:
    """The number of a credential lsp-contoh issued."""
    return issue().credential.number


@pytest.mark.parametrize("number", ["ME063100\x003", "\x00", "AB\x1b[31m", "AB\udcff", "A\x7fB"])
def test_control_characters_in_a_number_are_refused_by_name(issued_number, number) -> None:
    for call in (
        lambda: records.get_record("lsp-contoh", number),
        lambda: records.get_token("lsp-contoh", number),
        lambda: revocation.history("lsp-contoh", number),
        lambda: revocation.revoke("lsp-contoh", number, "fraud", note=None, actor="t", now=NOW),
        lambda: revocation.reinstate("lsp-contoh", number, note=None, actor="t", now=NOW),
    ):
        with pytest.raises(InvalidInput) as refused:
            call()
        assert refused.value.field == "number"
        assert refused.value.message == "certificate number must not contain control characters"


@pytest.mark.parametrize("note", ["a\x00b", "\x1b[2J", "bell\x07", "x\udcff", "nel\x85"])
def test_control_characters_in_a_note_are_refused_by_name(issued_number, note) -> None:
    with pytest.raises(InvalidInput) as refused:
        revocation.suspend("lsp-contoh", issued_number, "other", note=note, actor="t", now=NOW)
    assert (refused.value.field, refused.value.message) == (
        "note",
        "note must not contain control characters",
    )
    assert revocation.history("lsp-contoh", issued_number) == []  # nothing half-written


def test_a_multi_line_note_is_kept(issued_number) -> None:
    note = "Dilaporkan pengawas.\r\n\tFoto terlampir di berkas 12."
    revocation.suspend("lsp-contoh", issued_number, "other", note=note, actor="t", now=NOW)
    assert revocation.history("lsp-contoh", issued_number)[0]["note"] == note


_HOSTILE_TEXT = st.text(
    st.characters(codec="utf-8") | st.sampled_from("\x00\x1f\x7f\x85 "), max_size=60
)


@PROPERTY
@given(number=_HOSTILE_TEXT, note=st.none() | _HOSTILE_TEXT)
def test_any_number_or_note_gets_a_result_or_a_named_refusal(issued_number, number, note) -> None:
    """Never a database error (PostgreSQL refuses NUL outright) or any other exception."""
    for call in (
        lambda: records.get_record("lsp-contoh", number),
        lambda: revocation.history("lsp-contoh", number),
        lambda: revocation.suspend("lsp-contoh", number, "other", note=note, actor="t", now=NOW),
        lambda: revocation.suspend(
            "lsp-contoh", issued_number, "other", note=note, actor="t", now=NOW
        ),
    ):
        try:
            call()
        except (InvalidInput, NotFound, Conflict) as refused:
            assert refused.field in ("number", "note")
            event(f"refused: {refused.field}")


# --- cohort importer: regressions found by ``make fuzz`` (fuzz/fuzz_cohort_csv.py) --------------


def _plan(data: bytes) -> list[str]:
    """The problem messages of a cohort file for lsp-contoh (nothing is signed or stored)."""
    agency = registry.get_agency("lsp-contoh")
    with pytest.raises(cohort.CohortRejected) as rejected:
        cohort.plan(read_cohort(data), agency, pepper="test pepper", now=NOW)
    return [f"{p.column}: {p.message}" for p in rejected.value.problems]


@pytest.mark.parametrize("level", ["²", "٣", "3²", "⑶"])
def test_a_level_of_non_ascii_digits_is_a_problem_not_a_crash(contoh, level: str) -> None:
    # str.isdigit() is true for all of these, and int() refuses some of them.
    data = f"nama;nik;kode_jabatan;jenjang\nBudi;3507120001950003;ME063100;{level}\n".encode()
    assert _plan(data) == ["jenjang: level (jenjang) must be a whole number from 1 to 9"]


@pytest.mark.parametrize("column", ["kode_jabatan", "jabatan"])
def test_a_nik_in_the_job_column_is_not_repeated(contoh, column: str) -> None:
    nik = "3507120001950003"  # columns swapped by hand: the NIK where the job goes
    data = f"nama;nomor;{column};jenjang\nBudi;X 1;{nik};3\n".encode()
    problems = _plan(data)
    assert len(problems) == 1 and problems[0].startswith(f"{column}: unknown job")
    assert nik not in problems[0]
