"""Cohort issuance, all or nothing: check every row, then sign and store them in one transaction.

Every problem of every row is collected before anything is signed, and a file with any problem
issues nothing. Rows already issued earlier (same agency, NIK and job, not expired; or the same
number for the same person) are reported as ``existing``, so re-running a file issues nothing twice;
when such a certificate has since been revoked or suspended, the row says ``revoked`` or
``suspended`` instead, and print packs leave it out (:data:`PRINTABLE`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from verifier.core.credential import Credential, number_key, parse_instant
from verifier.core.errors import InvalidInput, RowProblem
from verifier.core.jobs import JobMaster
from verifier.core.keys import SigningKey
from verifier.core.nik import check_nik, nik_hmac
from verifier.core.text import fold
from verifier.core.trust import AgencyInfo
from verifier.issuance import issuer
from verifier.issuance.cohort_file import CohortFile, CohortRow
from verifier.store import credentials, job_masters, revocation
from verifier.store.credentials import SignedCredential

#: IssueRequest field -> cohort column, to name the column a domain error belongs to.
_FIELD_COLUMN = {
    "holder_name": "name",
    "level": "level",
    "job_code": "job_code",
    "job_title": "job_title",
    "number": "number",
    "valid_from": "valid_from",
    "nik": "nik",
}
_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
#: Entry statuses whose certificate a print pack holds: never a revoked or suspended one.
PRINTABLE = frozenset({"issued", "existing"})


class CohortRejected(InvalidInput):
    """The file has problems; nothing was issued."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(
            f"{len(problems)} problem(s) in the file; nothing was issued", field="file"
        )
        self.problems = problems


@dataclass(frozen=True)
class CohortEntry:
    """One row's outcome: its credential and token, newly ``issued``, already ``existing``, or
    existing but ``revoked`` or ``suspended`` since."""

    line: int
    credential: Credential
    token: str
    status: str


@dataclass
class _Candidate:
    row: CohortRow
    credential: Credential
    nik_digest: str | None
    number_given: bool


@dataclass(frozen=True)
class PreparedCohort:
    """Checked and signed, not yet stored: every entry by line, and the new credentials."""

    agency: AgencyInfo
    entries: list[CohortEntry]
    signed: list[SignedCredential]

    @property
    def issued(self) -> int:
        """How many rows are new."""
        return len(self.signed)

    @property
    def existing(self) -> int:
        """How many rows were issued before."""
        return len(self.entries) - len(self.signed)

    def summary(self, urls: Sequence[str]) -> dict[str, Any]:
        """``{"issued", "existing", "results"}``: one result per row in file order, with its
        verify URL; what ``skk issue-batch --json`` prints and ``POST
        /api/v1/credentials/batch`` returns."""
        results = [
            {
                "line": entry.line,
                "number": entry.credential.number,
                "name": entry.credential.holder_name,
                "job": entry.credential.job_title,
                "level": entry.credential.level,
                "status": entry.status,
                "verify_url": url,
            }
            for entry, url in zip(self.entries, urls, strict=True)
        ]
        return {"issued": self.issued, "existing": self.existing, "results": results}


def prepare(
    cohort: CohortFile,
    agency: AgencyInfo,
    signer: SigningKey,
    *,
    pepper: str | None,
    now: int,
) -> PreparedCohort:
    """Check all rows and sign the new ones, touching nothing; CohortRejected on any problem."""
    candidates, existing = plan(cohort, agency, pepper=pepper, now=now)
    signed = [issuer.sign_credential(c.credential, signer, c.nik_digest) for c in candidates]
    issued = [
        CohortEntry(c.row.line, s.credential, s.token, "issued")
        for c, s in zip(candidates, signed, strict=True)
    ]
    return PreparedCohort(agency, sorted(issued + existing, key=lambda entry: entry.line), signed)


def commit(prepared: PreparedCohort) -> None:
    """Store every new credential in one short transaction (all or nothing); Conflict when
    another import of the agency issued any of them meanwhile (store.credentials.insert_cohort)."""
    credentials.insert_cohort(prepared.signed)


def plan(
    cohort: CohortFile, agency: AgencyInfo, *, pepper: str | None, now: int
) -> tuple[list[_Candidate], list[CohortEntry]]:
    """New candidates and existing entries; CohortRejected listing every problem otherwise."""
    problems: list[RowProblem] = []
    candidates = []
    master = job_masters.active_master()  # once: every row against the same version
    for row in cohort.rows:
        row_problems, candidate = _check_row(row, cohort, agency, master, pepper, now)
        problems += row_problems
        if candidate is not None:
            candidates.append(candidate)
    problems += _duplicates_in_file(candidates, cohort)
    fresh, existing, found = _against_database(candidates, cohort, agency, now)
    problems += found
    # The date bounds hold for new certificates only: a file re-sent years later reports its
    # rows issued back then as existing.
    problems += [p for c in fresh for p in _out_of_bounds(c.row, cohort, c.credential, now)]
    if problems:
        raise CohortRejected(sorted(problems, key=lambda p: (p.line, p.column)))
    _reassign_colliding_numbers(fresh, now)
    return fresh, existing


def _problem(row: CohortRow, cohort: CohortFile, column: str, message: str) -> RowProblem:
    cell = row.places.get(column)
    header = cohort.headers.get(column, column)
    return RowProblem(row.line, header, f"{message} (cell {cell})" if cell else message)


def _check_row(
    row: CohortRow,
    cohort: CohortFile,
    agency: AgencyInfo,
    master: JobMaster,
    pepper: str | None,
    now: int,
) -> tuple[list[RowProblem], _Candidate | None]:
    problems: list[RowProblem] = []
    cells = row.cells

    def fail(column: str, message: str) -> None:
        problems.append(_problem(row, cohort, column, message))

    digest = None
    if "nik" in row.mangled:
        fail(
            "nik",
            "Excel turned this NIK into a number in scientific notation and lost digits; "
            "format the column as Text and type the NIK again",
        )
    elif cells.get("nik"):
        try:
            digest = nik_hmac(check_nik(cells["nik"]), agency.id, pepper)
        except InvalidInput as exc:
            fail("nik", exc.message)
    if not cells.get("nik") and not cells.get("number"):
        fail("nik", "each row needs a NIK or a certificate number")
    if not cells.get("name"):
        fail("name", "name is empty")
    level = _level(cells.get("level", ""))
    if level is None:
        fail("level", "level (jenjang) must be a whole number from 1 to 9")
    valid_from = _date(cells.get("valid_from", ""))
    if valid_from is False:
        fail("valid_from", "valid_from must be a date like 2025-05-15 or 15/05/2025")
    if level is None or valid_from is False:
        return problems, None
    # The rest is checked even when the row already failed above, so that one pass over the
    # file reports a bad NIK and an unknown job of the same row together.
    request = issuer.IssueRequest(
        agency_id=agency.id,
        holder_name=cells.get("name") or "-",  # an empty name is reported above, not here
        level=level,
        job_code=cells.get("job_code") or None,
        job_title=None if cells.get("job_code") else cells.get("job_title") or None,
        number=cells.get("number") or None,
        valid_from=valid_from,
        allow_expired=True,  # the date bounds are checked once the row is known to be new
        allow_future=True,
    )
    try:
        credential = issuer.build_credential(request, agency, now, master)
    except InvalidInput as exc:
        column = _FIELD_COLUMN.get(exc.field or "", "name")
        if column == "job_code" and request.job_code is None:
            column = "job_title"
        fail(column, exc.message)
        return problems, None
    if problems:
        return problems + _out_of_bounds(row, cohort, credential, now), None
    return [], _Candidate(row, credential, digest, request.number is not None)


def _out_of_bounds(
    row: CohortRow, cohort: CohortFile, credential: Credential, now: int
) -> list[RowProblem]:
    """The row's problem when its certificate, if issued now, would break the date bounds."""
    try:
        issuer.check_valid_from(credential.valid_from, now, allow_expired=False, allow_future=False)
    except InvalidInput as exc:
        return [_problem(row, cohort, "valid_from", exc.message)]
    return []


def _level(text: str) -> int | None:
    value = text.strip()
    value = value.removesuffix(".0")  # a level Excel stored as the number 3.0
    # isdigit() is true for "²" too, which int() refuses: ASCII digits only.
    return int(value) if value.isascii() and value.isdigit() and 1 <= int(value) <= 9 else None


def _date(text: str) -> int | bool | None:
    """NumericDate of a date cell; None when empty; False when unreadable."""
    if not text:
        return None
    match = _DMY.fullmatch(text)
    try:
        if match:  # dd/mm/yyyy, the Indonesian way of writing dates
            day, month, year = (int(part) for part in match.groups())
            return int(datetime(year, month, day, tzinfo=UTC).timestamp())
        return parse_instant(text)
    except ValueError:
        return False


def _duplicates_in_file(candidates: list[_Candidate], cohort: CohortFile) -> list[RowProblem]:
    problems = []
    numbers: dict[str, int] = {}
    people: dict[tuple[str, str | None], int] = {}
    for c in candidates:
        if c.number_given:
            # Compared as numbers are found (case, spacing): twins would name one certificate.
            first = numbers.setdefault(number_key(c.credential.number), c.row.line)
            if first != c.row.line:
                problems.append(
                    _problem(
                        c.row, cohort, "number", f"duplicate certificate number, see line {first}"
                    )
                )
        if c.nik_digest is not None:
            key = (c.nik_digest, c.credential.job_code)
            first = people.setdefault(key, c.row.line)
            if first != c.row.line:
                problems.append(_problem(c.row, cohort, "nik", f"same NIK and job as line {first}"))
    return problems


def _same_person(stored: Credential, credential: Credential) -> bool:
    return fold(stored.holder_name) == fold(credential.holder_name) and (
        stored.job_code == credential.job_code and stored.level == credential.level
    )


def _against_database(
    candidates: list[_Candidate], cohort: CohortFile, agency: AgencyInfo, now: int
) -> tuple[list[_Candidate], list[CohortEntry], list[RowProblem]]:
    by_nik = credentials.by_nik_hmac(agency.id, [c.nik_digest for c in candidates if c.nik_digest])
    # A number given again finds its certificate however typed (case, spaces).
    twins = credentials.numbers_as_stored(
        agency.id, [c.credential.number for c in candidates if c.number_given]
    )
    by_number = credentials.by_number(agency.id, [n for forms in twins.values() for n in forms])
    fresh: list[_Candidate] = []
    existing: list[CohortEntry] = []
    problems: list[RowProblem] = []
    for c in candidates:
        earlier = [
            s
            for s in by_nik.get(c.nik_digest or "", [])
            if s.credential.job_code == c.credential.job_code and s.credential.expires_at > now
        ]
        same_number = (
            [
                s
                for number in twins.get(number_key(c.credential.number), [])
                for s in by_number.get(number, [])
            ]
            if c.number_given
            else []
        )
        found = earlier or same_number
        if not found:
            fresh.append(c)
            continue
        stored = found[0]
        if _same_person(stored.credential, c.credential):
            existing.append(CohortEntry(c.row.line, stored.credential, stored.token, "existing"))
        elif earlier:
            problems.append(
                _problem(
                    c.row,
                    cohort,
                    "name",
                    "this NIK already holds a valid certificate for this job under another name",
                )
            )
        else:
            problems.append(
                _problem(
                    c.row, cohort, "number", "certificate number already exists for another person"
                )
            )
    return fresh, with_revocation_state(existing, agency.id), problems


def with_revocation_state(entries: list[CohortEntry], agency_id: str) -> list[CohortEntry]:
    """``entries`` with the status ``revoked`` or ``suspended`` where that is their state now."""
    states = revocation.statuses(agency_id, [entry.credential.number for entry in entries])
    return [
        replace(entry, status=states.get(entry.credential.number, entry.status))
        for entry in entries
    ]


def stored_entries(agency_id: str, lines: Sequence[tuple[int, str, str]]) -> list[CohortEntry]:
    """A cohort issued earlier, from its ``(line, number, status)`` triples, as it stands now:
    the stored credentials, revoked or suspended ones marked so (for a print pack made later)."""
    stored = credentials.by_number(agency_id, [number for _, number, _ in lines])
    entries = [
        CohortEntry(line, stored[number][0].credential, stored[number][0].token, status)
        for line, number, status in lines
        if number in stored
    ]
    return with_revocation_state(entries, agency_id)


def _reassign_colliding_numbers(candidates: list[_Candidate], now: int) -> None:
    """Random serials can, rarely, hit a number already used; draw again before signing."""
    assigned = [c for c in candidates if not c.number_given]
    if not assigned:
        return
    agency_id = assigned[0].credential.agency_id
    # By number_key: a drawn number may not be another one's twin in other case either.
    taken = set(credentials.numbers_as_stored(agency_id, [c.credential.number for c in assigned]))
    taken |= {number_key(c.credential.number) for c in candidates if c.number_given}
    for c in assigned:
        while number_key(c.credential.number) in taken:
            c.credential = issuer.renumbered(c.credential, now)
        taken.add(number_key(c.credential.number))
