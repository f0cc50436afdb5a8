"""A crew roster: the workers to check, from JSON members or from a spreadsheet's rows.

Each worker is either a scanned credential (the verify URL, QR payload or JWS, as scanned) or
agency + certificate number + holder name, as the manual check takes them. Every problem of
every row is collected with its line and column before anything is checked; messages never
repeat a cell that could hold a NIK, and a roster never holds one. Pure: the rows of a file are
read by ``verifier.crew.roster_file`` (the cohort reader with :data:`COLUMNS`), and the agency a
row names is resolved by a function the caller passes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from verifier.core.credential import (
    MAX_TEXT_LENGTH,
    check_number,
    check_text,
    has_control_characters,
)
from verifier.core.crew.worker import RosterWorker
from verifier.core.errors import InvalidInput, RowProblem
from verifier.core.nik import holds_nik_like
from verifier.core.text import clean_text

#: Workers in one check or one crew (issue 11).
MAX_WORKERS = 2000
#: A scanned verify URL is ~250 characters, a plain JWS ~400; anything this long is not one.
MAX_CREDENTIAL_LENGTH = 4096
MAX_REF_LENGTH = 100
MAX_AGENCY_LENGTH = 200
#: A worker's members (JSON) and canonical columns (files).
FIELDS = ("ref", "credential", "agency", "number", "holder_name")
_BY_NUMBER = ("agency", "number", "holder_name")
#: Typed agency (its id or its name) -> the registered agency's id, or None.
AgencyResolver = Callable[[str], str | None]

#: The roster's columns in a file: Indonesian headers first, English aliases after
#: (docs/crew-check.md). Other columns, such as "No." or a NIK, are ignored.
COLUMNS: dict[str, tuple[str, ...]] = {
    "ref": ("ref", "referensi"),
    "credential": ("kredensial", "credential", "qr"),
    "agency": ("lembaga", "agency"),
    "number": ("nomor", "nomor_sertifikat", "number"),
    "holder_name": ("nama", "holder_name", "name"),
}
#: Cells where a typed leading apostrophe (Excel's "treat as text") is not part of the value.
APOSTROPHE_COLUMNS = frozenset({"ref", "number"})
#: Cells Excel must not have turned into scientific notation (it loses digits).
EXACT_DIGIT_COLUMNS = frozenset({"number"})


def missing_columns(present: set[str]) -> list[str]:
    """What a file's header lacks: a credential column, or all three of the number columns."""
    if "credential" in present or set(_BY_NUMBER) <= present:
        return []
    return ["kredensial/credential, or lembaga/agency + nomor/number + nama/holder_name"]


class TableRow(Protocol):
    """A spreadsheet row as the file reader gives it (``verifier.issuance.cohort_file``)."""

    @property
    def line(self) -> int:
        """Its line in the file."""

    @property
    def cells(self) -> Mapping[str, str]:
        """Its cells by canonical column."""

    @property
    def places(self) -> Mapping[str, str]:
        """Each column's Excel cell ("C5"), empty for CSV."""

    @property
    def mangled(self) -> frozenset[str]:
        """Columns whose cell Excel stored in scientific notation."""


class RosterRejected(InvalidInput):
    """The roster has problems; nothing was checked or stored."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(
            f"{len(problems)} problem(s) in the list; nothing was checked", field="workers"
        )
        self.problems = problems


def from_members(
    workers: Sequence[Mapping[str, str | None]], agency_of: AgencyResolver
) -> list[RosterWorker]:
    """Workers from JSON objects whose members are strings (the web layer checked the types);
    a problem's ``line`` is the worker's 1-based place in the list, its column the member."""
    if not workers:
        raise InvalidInput("the list has no workers", field="workers")
    check_count(len(workers))
    rows = [_Row(index, None, dict(worker), {}) for index, worker in enumerate(workers, 1)]
    return _checked(rows, agency_of)


def from_table(
    rows: Sequence[TableRow], headers: Mapping[str, str], agency_of: AgencyResolver
) -> list[RosterWorker]:
    """Workers from a spreadsheet's rows; a problem names the row's line, the column as the
    file's header ``headers`` names it, and the Excel cell (the reader bounds their number)."""
    checked = [
        _Row(index, row.line, dict(row.cells), _places(row), headers, row.mangled)
        for index, row in enumerate(rows, 1)
    ]
    return _checked(checked, agency_of)


def _places(row: TableRow) -> dict[str, str]:
    return {column: cell for column, cell in row.places.items() if cell}


def check_count(count: int) -> None:
    """InvalidInput when a list has more workers than one check takes."""
    if count > MAX_WORKERS:
        raise InvalidInput(f"at most {MAX_WORKERS} workers per check, not {count}", field="workers")


class _Row:
    """A row being checked: its cells, where they are, and what is wrong with them."""

    def __init__(
        self,
        position: int,
        line: int | None,
        cells: dict[str, str | None],
        places: dict[str, str],
        headers: Mapping[str, str] | None = None,
        mangled: frozenset[str] = frozenset(),
    ) -> None:
        self.position = position
        self.line = line
        self.cells = {name: (value or "").strip() for name, value in cells.items()}
        self.places = places
        self.headers = headers
        self.mangled = mangled
        self.problems: list[RowProblem] = []

    def problem(self, column: str, message: str) -> RowProblem:
        """A problem in ``column``, named as the file or the JSON member names it."""
        cell = self.places.get(column)
        header = (self.headers or {}).get(column, column)
        text = f"{message} (cell {cell})" if cell else message
        return RowProblem(self.line if self.line is not None else self.position, header, text)

    def fail(self, column: str, message: str) -> None:
        """Record a problem of this row."""
        self.problems.append(self.problem(column, message))

    def worker(self, agency_of: AgencyResolver) -> RosterWorker | None:
        """The checked worker, or None when the row has problems."""
        ref = self._ref()
        credential = self.cells.get("credential") or None
        if credential is not None:
            self._check_credential(credential)
            given: dict[str, str | None] = {"credential": credential}
        else:
            given = self._by_number(agency_of)
        if self.problems:
            return None
        return RosterWorker(self.position, self.line, ref, **given)

    def _ref(self) -> str | None:
        ref = self.cells.get("ref") or None
        if ref is None:
            return None
        if holds_nik_like(ref):
            self.fail("ref", "a ref must not hold a NIK: a crew list never holds one")
        elif len(ref) > MAX_REF_LENGTH or has_control_characters(ref):
            self.fail(
                "ref",
                f"a ref must be at most {MAX_REF_LENGTH} characters, without control characters",
            )
        return ref

    def _check_credential(self, credential: str) -> None:
        if len(credential) > MAX_CREDENTIAL_LENGTH or has_control_characters(credential):
            self.fail(
                "credential",
                "not a scanned certificate: at most "
                f"{MAX_CREDENTIAL_LENGTH} characters without control "
                "characters (the verify URL, QR text or token)",
            )

    def _by_number(self, agency_of: AgencyResolver) -> dict[str, str | None]:
        agency, number, name = (self.cells.get(field) or None for field in _BY_NUMBER)
        if agency is None and number is None and name is None:
            self.fail(
                "credential",
                "each worker needs a scanned credential, or agency, "
                "certificate number and holder name",
            )
            return {}
        for field, value in zip(_BY_NUMBER, (agency, number, name), strict=True):
            if value is None:
                self.fail(
                    field, f"{field.replace('_', ' ')} is empty (needed with a certificate number)"
                )
        return {
            "agency": self._agency(agency, agency_of),
            "number": self._number(number),
            "holder_name": self._name(name),
        }

    def _agency(self, typed: str | None, agency_of: AgencyResolver) -> str | None:
        if typed is None:
            return None
        known = None
        if len(typed) <= MAX_AGENCY_LENGTH and not has_control_characters(typed):
            known = agency_of(typed)
        if known is None:
            self.fail(
                "agency",
                "not a registered agency: give its id (as GET /api/v1/agencies "
                "lists them) or its full name",
            )
        return known

    def _number(self, number: str | None) -> str | None:
        if number is None:
            return None
        if "number" in self.mangled:
            self.fail(
                "number",
                "Excel turned this number into scientific notation and lost "
                "digits; format the column as Text and type it again",
            )
            return None
        number = " ".join(number.split())
        if holds_nik_like(number):
            self.fail(
                "number",
                "this looks like a NIK, not a certificate number; a crew list never holds a NIK",
            )
            return None
        try:
            check_number(number)
        except ValueError as exc:
            self.fail("number", str(exc))
            return None
        return number

    def _name(self, name: str | None) -> str | None:
        if name is None:
            return None
        name = clean_text(name)
        if holds_nik_like(name):
            self.fail("holder_name", "a name must not hold a NIK: a crew list never holds one")
            return None
        try:
            return check_text(name, "holder name", MAX_TEXT_LENGTH)
        except ValueError as exc:
            self.fail("holder_name", str(exc))
            return None


def _checked(rows: list[_Row], agency_of: AgencyResolver) -> list[RosterWorker]:
    workers = [row.worker(agency_of) for row in rows]
    problems = [problem for row in rows for problem in row.problems]
    if problems:
        raise RosterRejected(problems)
    return [worker for worker in workers if worker is not None]
