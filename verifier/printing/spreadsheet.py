"""CSV for spreadsheets, as Excel in an Indonesian locale opens it: a cohort's results.csv, a
crew report, the crew list template."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from verifier.core.text import formula_safe


def excel_csv(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """``;``-separated UTF-8 with BOM and CRLF; formula-safe; None is an empty cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([formula_safe("" if cell is None else str(cell)) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
