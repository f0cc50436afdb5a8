"""Reading a participant list as agencies keep it: CSV saved by Excel (any locale) or .xlsx.

Excel in an Indonesian locale writes ``;``-separated CSV, often with a UTF-8 byte-order mark or in
Windows-1252, CRLF line ends, stray blank lines, padded cells and NIKs typed with a leading
apostrophe. Worse, it silently turns a 16-digit NIK into a float (``3,57504E+15``), losing digits:
such a cell is reported by name, never guessed at. Nothing here ever echoes a NIK.

The columns are a :class:`Layout`: the cohort's by default; a crew roster
(``verifier.crew.roster_file``) reads its own columns with the same reader.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from verifier.core.errors import InvalidInput
from verifier.core.text import unreadable_csv

#: Canonical column -> accepted headers (Indonesian first, English aliases).
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("nama", "name"),
    "nik": ("nik",),
    "job_code": ("kode_jabatan", "job_code"),
    "job_title": ("jabatan", "job_title"),
    "level": ("jenjang", "level"),
    "number": ("nomor", "number"),
    "valid_from": ("berlaku_mulai", "valid_from"),
    "association": ("asosiasi", "association"),
}
#: The downloadable template (``/templates/cohort.csv``): every column under its Indonesian
#: header, and example rows (one by job code, one by job title; never a NIK, not even a made-up
#: one: the template is public).
TEMPLATE_HEADER = [aliases[0] for aliases in COLUMNS.values()]
TEMPLATE_ROWS = [
    ["Rina Marlina", "", "ME063100", "", "3", "LSP-2026-0001", "2026-02-01", ""],
    [
        "Budi Santoso",
        "",
        "",
        "Tukang Pasang Bata",
        "1",
        "LSP-2026-0002",
        "01/02/2026",
        "Asosiasi Contoh",
    ],
]
#: Cells where a typed leading apostrophe (Excel's "treat as text") is not part of the value.
_APOSTROPHE_COLUMNS = frozenset({"nik", "number", "job_code", "level", "valid_from"})
_SCIENTIFIC = re.compile(r"[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]+")
XLSX_MAGIC = b"PK\x03\x04"
#: Unpacked size of an .xlsx read by default (`skk issue-batch`): about 40 times the twelve-
#: column 5,000-row file, far beyond any cohort, far below what would exhaust memory.
MAX_XLSX_UNPACKED_BYTES = 160 * 1024 * 1024


def _missing_cohort_columns(present: set[str]) -> list[str]:
    missing = [COLUMNS[c][0] + "/" + COLUMNS[c][1] for c in ("name", "level") if c not in present]
    if not {"job_code", "job_title"} & present:
        missing.append("kode_jabatan/job_code or jabatan/job_title")
    if not {"nik", "number"} & present:
        missing.append("nik or nomor/number")
    return missing


@dataclass(frozen=True)
class Layout:
    """The columns a kind of list has: canonical column -> accepted headers, which columns a
    header must have (``missing`` names those lacking), and the cells Excel's habits touch."""

    columns: dict[str, tuple[str, ...]]
    missing: Callable[[set[str]], list[str]]
    #: Cells where a typed leading apostrophe (Excel's "treat as text") is not part of the value.
    apostrophe: frozenset[str]
    #: Cells that must never be in scientific notation (Excel has then lost their digits).
    exact_digits: frozenset[str]
    #: What a row is and what a file is read for, as messages say it.
    row_noun: str = "participant"
    purpose: str = "batch"

    def column_of(self, header: str) -> str | None:
        """The canonical column a header text names, if any."""
        return next((column for column, aliases in self.columns.items() if header in aliases), None)


COHORT_LAYOUT = Layout(
    COLUMNS, _missing_cohort_columns, _APOSTROPHE_COLUMNS, frozenset({"nik", "number"})
)


@dataclass(frozen=True)
class CohortRow:
    """One participant: its line in the file and its cells by canonical column."""

    line: int
    cells: dict[str, str]
    #: Excel cell of each column, like "C5", for messages; empty for CSV (the line says it all).
    places: dict[str, str] = field(default_factory=dict)
    #: Columns whose cell Excel stored as a number in scientific notation (digits lost).
    mangled: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CohortFile:
    """All participant rows plus the header names the file used."""

    rows: list[CohortRow]
    headers: dict[str, str]  # canonical column -> header text in the file


def read_cohort(
    data: bytes,
    *,
    filename: str = "",
    max_rows: int | None = None,
    max_unpacked_bytes: int = MAX_XLSX_UNPACKED_BYTES,
    layout: Layout = COHORT_LAYOUT,
) -> CohortFile:
    """Parse CSV or .xlsx bytes (told apart by content, not by name) into rows."""
    if data.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx"):
        _check_unpacked_size(data, max_unpacked_bytes)
        cohort = _read_xlsx(data, max_rows, layout)
    else:
        cohort = _read_csv(data, max_rows, layout)
    if not cohort.rows:
        raise InvalidInput(f"the file has a header but no {layout.row_noun} rows", field="file")
    if max_rows is not None and len(cohort.rows) > max_rows:
        raise InvalidInput(
            f"the file has more than {max_rows} rows; at most {max_rows} per {layout.purpose}",
            field="file",
        )
    return cohort


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's plain "CSV" on Windows writes the ANSI code page, Windows-1252 for Indonesian.
        return data.decode("cp1252", errors="replace")


def _read_csv(data: bytes, max_rows: int | None, layout: Layout) -> CohortFile:
    text = _decode(data)
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((";", ",", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = ((reader.line_num, record) for record in reader)
    try:
        return _rows_from(records, layout, place=lambda column_index, line: "", max_rows=max_rows)
    except csv.Error as exc:  # e.g. a cell over the reader's 128 KiB limit
        raise InvalidInput(f"line {reader.line_num}: {unreadable_csv(exc)}", field="file") from None


def _check_unpacked_size(data: bytes, limit: int) -> None:
    """Refuse an .xlsx whose parts unpack to more than ``limit``, before openpyxl inflates it.

    Deflate packs ~1000:1, so a small file could unpack into gigabytes of XML (a zip bomb).
    zipfile never inflates a member past its declared size, so the central directory's sizes
    are a bound the reader cannot be tricked out of.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        return  # _read_xlsx reports an unreadable .xlsx itself, naming it
    if unpacked > limit:
        raise InvalidInput(f"the .xlsx unpacks to more than {limit / 2**20:g} MiB", field="file")


def _read_xlsx(data: bytes, max_rows: int | None, layout: Layout) -> CohortFile:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InvalidInput(
            f"not a readable .xlsx file ({type(exc).__name__})", field="file"
        ) from None
    try:
        sheet = workbook.worksheets[0]
        records = (
            (index, [_xlsx_text(value) for value in values])
            for index, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        )
        return _rows_from(
            records,
            layout,
            place=lambda column_index, line: f"{get_column_letter(column_index + 1)}{line}",
            max_rows=max_rows,
        )
    finally:
        workbook.close()


class _Number(str):
    """Text of a numeric Excel cell, remembered as such: a NIK there has lost its digits."""


def _xlsx_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return _Number(int(value))
    if isinstance(value, int | float):
        return _Number(value)
    return str(value)


def _rows_from(
    records: Iterable[tuple[int, list[str]]],
    layout: Layout,
    place: Any,
    max_rows: int | None = None,
) -> CohortFile:
    iterator: Iterator[tuple[int, list[str]]] = iter(records)
    _header_line, header = _first_non_blank(iterator, layout)
    columns = _map_header(header, layout)
    headers = {column: header[index].strip() for index, column in columns.items()}
    rows = []
    for line, record in iterator:
        if not any(cell.strip() for cell in record):
            continue  # stray blank lines are common in hand-kept lists
        cells, places, mangled = {}, {}, set()
        for index, column in columns.items():
            raw = record[index] if index < len(record) else ""
            cells[column] = _clean(raw, column in layout.apostrophe)
            places[column] = place(index, line)
            if column in layout.exact_digits and _is_mangled_number(raw, column):
                mangled.add(column)
        rows.append(CohortRow(line, cells, places, frozenset(mangled)))
        if max_rows is not None and len(rows) > max_rows:
            break  # one over is enough to refuse; reading on costs memory and time, nothing else
    return CohortFile(rows, headers)


def _first_non_blank(
    records: Iterator[tuple[int, list[str]]], layout: Layout
) -> tuple[int, list[str]]:
    for line, record in records:
        if any(cell.strip() for cell in record):
            return line, record
    raise InvalidInput(
        f"the file is empty: expected a header row and {layout.row_noun} rows", field="file"
    )


def _map_header(header: list[str], layout: Layout) -> dict[int, str]:
    columns: dict[int, str] = {}
    for index, text in enumerate(header):
        key = re.sub(r"[\s-]+", "_", text.strip().lstrip("\ufeff").lower())
        column = layout.column_of(key)
        if column is None:
            continue  # extra columns such as "No." are allowed and ignored
        if column in columns.values():
            raise InvalidInput(f"column {text.strip()!r} appears twice", field="file")
        columns[index] = column
    missing = layout.missing(set(columns.values()))
    if missing:
        raise InvalidInput(f"missing column(s): {'; '.join(missing)}", field="file")
    return columns


def _clean(raw: str, apostrophe: bool) -> str:
    value = raw.strip()
    if apostrophe and value.startswith("'"):
        value = value[1:].strip()
    return value


def _is_mangled_number(raw: str, column: str) -> bool:
    if isinstance(raw, _Number) and column == "nik":
        return True  # Excel keeps 15 significant digits: a numeric NIK cell is always damaged
    return bool(_SCIENTIFIC.fullmatch(raw.strip().lstrip("'")))
