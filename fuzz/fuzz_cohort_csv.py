"""Fuzz the cohort importer: CSV and .xlsx reading, then every row check (``make fuzz``).

Three properties, sharing ``--examples`` inputs (default 50,000: half to the first):

* participant lists assembled the way people and Excel write them (any header alias, case and
  padding, ``;`` ``,`` or tab, quotes, CRLF, BOM or Windows-1252, leading apostrophes, NIKs in
  scientific notation, odd levels and dates, control characters) are read and every row checked
  against a real database: the result is a plan or ``InvalidInput`` (``CohortRejected`` lists
  the problems), never another exception, and no problem message repeats a NIK of the file;
* arbitrary bytes given to the reader raise nothing but ``InvalidInput``;
* arbitrary bytes behind the .xlsx (ZIP) magic raise nothing but ``InvalidInput``.
"""

from __future__ import annotations

import contextlib
import re
import sys

import _harness
from hypothesis import strategies as st

from tests.helpers import NOW
from verifier.core.errors import InvalidInput
from verifier.issuance import cohort
from verifier.issuance.cohort_file import COLUMNS, XLSX_MAGIC, read_cohort
from verifier.store import registry

_NIK_RUN = re.compile(r"\d{16}")
NIKS = st.sampled_from(
    ["3575040003930001", "3273010001900042", "9973010001900042", "1175040003930001"]
) | st.integers(10**13, 10**18 - 1).map(str)
CELLS = st.one_of(
    st.text(max_size=30),
    NIKS,
    NIKS.map(lambda nik: "'" + nik),
    NIKS.map(lambda nik: f"{nik[0]},{nik[1:6]}E+15"),
    st.sampled_from(
        [
            "ME063100",
            "SI013013",
            "me063100",
            "XX000000",
            "Operator Wheel Excavator",
            "3",
            "3.0",
            "0",
            "10",
            "²",
            "٣",
            "-1",
            " 4 ",
            "15/05/2025",
            "2025-05-15",
            "31/02/2025",
            "00/00/0000",
            "2025-13-01",
            "9999-12-31",
            "0001-01-01",
            "ME063100 3 00001234 2025",
            "A\x00B",
            "\x1b[31m",
            "=1+1",
            '"quoted"',
        ]
    ),
    st.text(st.characters(codec="utf-8") | st.sampled_from("\x00\r\n;,\t\"'"), max_size=12),
)
HEADERS = st.sampled_from(
    [alias for aliases in COLUMNS.values() for alias in aliases]
    + ["No.", "Nama Lengkap", "", "nik"]
)


def _quote(cell: str, delimiter: str) -> str:
    if any(ch in cell for ch in f'{delimiter}"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


@st.composite
def _header(draw: st.DrawFn) -> list[str]:
    """Usually every column needed (any alias, order, case, padding) plus extras; sometimes any."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.lists(HEADERS, min_size=1, max_size=8))
    needed = [
        draw(st.sampled_from(COLUMNS[column]))
        for column in (
            "name",
            "level",
            draw(st.sampled_from(["job_code", "job_title"])),
            draw(st.sampled_from(["nik", "number"])),
        )
    ]
    extras = draw(st.lists(HEADERS, max_size=3))
    names = draw(st.permutations(needed + extras))
    return [
        draw(st.sampled_from([name, name.upper(), f" {name} ", name.replace("_", " ")]))
        for name in names
    ]


@st.composite
def participant_lists(draw: st.DrawFn) -> bytes:
    """A CSV file as an agency might send it."""
    delimiter = draw(st.sampled_from([";", ",", "\t"]))
    header = draw(_header())
    width = len(header)
    rows = [
        [draw(CELLS) for _ in range(draw(st.sampled_from([width, width, width - 1, width + 1])))]
        for _ in range(draw(st.integers(0, 5)))
    ]
    end = draw(st.sampled_from(["\n", "\r\n"]))
    text = end.join(
        delimiter.join(_quote(cell, delimiter) for cell in row) for row in [header, *rows]
    )
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    return text.encode(encoding, errors="replace")


def main() -> int:
    """Run the three properties; exit status 1 if any failed."""
    args = _harness.arguments(__doc__.splitlines()[0])
    with _harness.world():
        agency = registry.get_agency("lsp-contoh")

        def planned(data: object) -> None:
            assert isinstance(data, bytes)
            try:
                cohort.plan(read_cohort(data), agency, pepper=_harness.PEPPER, now=NOW)
            except cohort.CohortRejected as rejected:
                niks = set(_NIK_RUN.findall(data.decode("utf-8", "replace")))
                for problem in rejected.problems:
                    assert not niks & set(_NIK_RUN.findall(problem.message)), problem
            except InvalidInput as refused:
                assert not _NIK_RUN.search(refused.message), refused.message

        def read(data: object) -> None:
            assert isinstance(data, bytes)
            with contextlib.suppress(InvalidInput):
                read_cohort(data)

        return _harness.run_all(
            [
                ("participant lists", participant_lists(), planned, 2),
                ("arbitrary bytes", st.binary(max_size=2000), read, 1),
                ("arbitrary .xlsx", st.binary(max_size=2000).map(XLSX_MAGIC.__add__), read, 1),
            ],
            args,
        )


if __name__ == "__main__":
    sys.exit(main())
