"""Text cleaning and folding (verifier.core.text): the one comparison every caller shares."""

from __future__ import annotations

import unicodedata

import pytest

from verifier.core import jobs
from verifier.core.text import clean_text, fold, single_spaced


def test_clean_text_is_nfc_trimmed_and_single_spaced() -> None:
    decomposed = unicodedata.normalize("NFD", "  Made   Suryaningsih\u00e9\t ")
    assert clean_text(decomposed) == "Made Suryaningsih\u00e9"
    assert single_spaced(" a \n\t b ") == "a b"


@pytest.mark.parametrize(
    "spelling",
    ["rina marlina", "RINA MARLINA", "  Rina\t Marlina ", "Rina  Marlina"],
)
def test_spellings_that_differ_in_case_and_spacing_fold_alike(spelling: str) -> None:
    assert fold(spelling) == fold("Rina Marlina")


def test_composition_does_not_matter_even_after_case_folding() -> None:
    # Case folding decomposes U+01F0 (j with caron); NFC again makes both spellings one.
    composed, decomposed = "\u01f0ohan", "J\u030cohan"
    assert fold(composed) == fold(decomposed) == unicodedata.normalize("NFC", "j\u030cohan")
    assert fold("Andr\u00e9") == fold(unicodedata.normalize("NFD", "ANDR\u00c9"))


def test_different_names_stay_different() -> None:
    assert fold("Rina Marlina") != fold("Rina Marlinah")
    assert fold("Rina Marlina") != fold("RinaMarlina")


def test_job_titles_are_found_by_the_same_folding() -> None:
    master = jobs.package_master()
    assert master.find_by_title("  operator   WHEEL excavator ", 3) == master.find_by_code(
        "ME063100"
    )
    assert master.levels_for_title("operator wheel EXCAVATOR") == [3]
