"""Text as people type it: cleaned before it is stored, folded before it is compared.

Names and titles are stored NFC, trimmed, with single spaces (:func:`clean_text`). Two spellings
of one name or title that differ only in case, spacing or Unicode composition fold to the same
string (:func:`fold`): the manual check, cohort re-runs and job titles all compare that way.
Text written into a spreadsheet cell is made inert first (:func:`formula_safe`).
"""

from __future__ import annotations

import unicodedata

#: A cell starting with one of these is run as a formula by spreadsheets (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def single_spaced(text: str) -> str:
    """Trimmed, each run of white space made one space."""
    return " ".join(text.split())


def clean_text(raw: str) -> str:
    """What issuance does to typed text before checking it: NFC, trimmed, single spaces."""
    return single_spaced(unicodedata.normalize("NFC", raw))


def fold(text: str) -> str:
    """The form in which texts compare case- and spacing-insensitively.

    Cleaned, case-folded, then NFC again: case folding can decompose a character (``ǰ`` becomes
    ``j`` plus a combining caron), which would otherwise differ from its composed twin.
    """
    return unicodedata.normalize("NFC", clean_text(text).casefold())


def formula_safe(cell: str) -> str:
    """The cell, with a quote before a leading = + - @ (or tab, CR) so a spreadsheet shows it as
    text instead of running it (results.csv, the console's audit export)."""
    return "'" + cell if cell.startswith(_FORMULA_PREFIXES) else cell


def unreadable_csv(error: Exception) -> str:
    """What a ``csv.Error`` says about a spreadsheet's CSV, in words for whoever saved it (the
    reader refuses a cell over its 128 KiB field limit; no honest cell comes near it)."""
    if "field larger than field limit" in str(error):
        return "a cell is larger than 128 KiB: not a spreadsheet's CSV"
    return f"cannot be read as CSV ({error})"
