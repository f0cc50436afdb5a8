"""NIK match: true/false only for credentials with a NIK on record, misses locked per credential."""

from __future__ import annotations

import pytest

from tests.helpers import DAY, NOW
from verifier.core.errors import InvalidInput, TooManyAttempts
from verifier.store.models import NikMiss
from verifier.store.nik_match import MAX_MISSES, match_nik

NIK = "3575040003930001"
OTHER_NIK = "3575040003930002"


@pytest.fixture
def number(contoh, issue) -> str:
    return issue(nik=NIK, number="SKK 1").credential.number


def ask(number: str, nik: str, settings, at: int = NOW):
    return match_nik("lsp-contoh", number, nik, settings.nik_pepper, at)


def test_match_and_miss(number, settings) -> None:
    assert ask(number, NIK, settings) is True
    assert ask(" SKK  1 ", NIK, settings) is True  # canonical number
    assert ask(number, OTHER_NIK, settings) is False
    assert NikMiss.select().count() == 1


def test_no_nik_on_record_or_unknown_number_is_none(contoh, issue, settings) -> None:
    without = issue(number="SKK 2").credential.number
    assert ask(without, NIK, settings) is None
    assert ask("SKK 404", NIK, settings) is None


def test_misses_lock_the_credential_for_a_day_even_for_the_right_nik(number, settings) -> None:
    for _ in range(MAX_MISSES):
        assert ask(number, OTHER_NIK, settings) is False
    with pytest.raises(TooManyAttempts) as locked:
        ask(number, NIK, settings, at=NOW + 60)
    assert locked.value.retry_after == DAY - 60  # when the first miss leaves the window
    assert ask(number, NIK, settings, at=NOW + DAY + 1) is True


def test_the_lock_lifts_when_the_oldest_of_the_last_misses_leaves_the_window(
    number, settings
) -> None:
    for minute in range(MAX_MISSES + 2):  # more misses than the limit, a minute apart
        NikMiss.create(agency="lsp-contoh", number=number, at=NOW + 60 * minute)
    later = NOW + 60 * (MAX_MISSES + 2)
    with pytest.raises(TooManyAttempts) as locked:
        ask(number, NIK, settings, at=later)
    oldest_counted = NOW + 60 * 2  # the last MAX_MISSES misses start here
    assert locked.value.retry_after == oldest_counted + DAY - later


def test_lock_is_per_credential(number, issue, settings) -> None:
    other = issue(nik=NIK, number="SKK 3").credential.number
    for _ in range(MAX_MISSES):
        ask(number, OTHER_NIK, settings)
    assert ask(other, NIK, settings) is True


def test_invalid_nik_is_a_domain_error_without_echo(number, settings) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        ask(number, "35750400039300", settings)
    assert "35750400039300" not in excinfo.value.message
    assert NikMiss.select().count() == 0
