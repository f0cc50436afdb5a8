"""Text as people type it: cleaned before it is stored, folded before it is compared.

Names and titles are stored NFC, trimmed, with single spaces (:func:`clean_text`). Two spellings
of one name or title that differ only in case, spacing or Unicode composition fold to the same
string (:func:`fold`): the manual check, cohort re-runs and job titles all compare that way.
"""

from __future__ import annotations

import unicodedata


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
