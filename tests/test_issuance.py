"""Issuance: claims we write, refusals naming the field, NIK only as an HMAC, canonical form."""

from __future__ import annotations

import json

import pytest

from tests.helpers import DAY, NOW
from verifier.core import jobs, jws
from verifier.core.credential import add_years, parse_instant
from verifier.core.errors import ConfigurationError, Conflict, InvalidInput
from verifier.core.nik import check_nik, nik_hmac
from verifier.issuance import issuer
from verifier.store import registry
from verifier.store.models import CredentialRecord

NIK = "3575040003930001"


def test_token_is_canonical_with_spec_member_order(contoh, issue) -> None:
    signed = issue(number="41011 7112 3 00001234 2025", nik=NIK)
    header_b64, payload_b64, _ = signed.token.split(".")
    header = jws.b64url_decode(header_b64)
    payload = jws.b64url_decode(payload_b64)
    assert header == f'{{"alg":"EdDSA","kid":"{contoh.kid}","typ":"skk+jwt"}}'.encode()
    claims = json.loads(payload)
    assert list(claims) == ["iss", "jti", "iat", "nbf", "exp", "name", "job", "lvl", "jkc"]
    assert b" " not in payload.replace(b"41011 7112 3 00001234 2025", b"").replace(
        b"Muhammad Rizky Pratama Saputra", b""
    ).replace(b"Operator Wheel Excavator", b"")
    assert claims["exp"] == add_years(claims["nbf"]) and claims["iat"] == NOW
    assert NIK not in signed.token and "nik" not in claims


def test_exp_is_five_calendar_years_with_leap_day_rule() -> None:
    leap = parse_instant("2028-02-29T08:00:00Z")
    assert add_years(leap) == parse_instant("2033-02-28T08:00:00Z")
    assert add_years(parse_instant("2025-05-15")) == parse_instant("2030-05-15")


def test_nik_stored_only_as_agency_scoped_hmac(contoh, issue, make_agency, settings) -> None:
    signed = issue(nik=NIK)
    row = CredentialRecord.get(CredentialRecord.number == signed.credential.number)
    assert row.nik_hmac == nik_hmac(NIK, "lsp-contoh", settings.nik_pepper)
    assert NIK not in row.nik_hmac and len(row.nik_hmac) == 64
    assert nik_hmac(NIK, "lsp-lain", settings.nik_pepper) != row.nik_hmac
    assert nik_hmac(NIK, "lsp-contoh", "other pepper") != row.nik_hmac


@pytest.mark.parametrize(
    "nik, message",
    [
        ("123", "16 digits"),
        ("35750400039300011", "16 digits"),
        ("3575O40003930001", "16 digits"),
        ("３５７５０４０００３９３０００１", "16 digits"),  # full-width digits are not ASCII
        ("1075040003930001", "province"),
        ("9775040003930001", "province"),
    ],
)
def test_invalid_nik_refused_without_echo(nik: str, message: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        check_nik(nik)
    assert message in excinfo.value.message and excinfo.value.field == "nik"
    assert nik not in excinfo.value.message


def test_nik_requires_pepper(contoh, issue, settings) -> None:
    with pytest.raises(ConfigurationError, match="SKK_NIK_PEPPER"):
        nik_hmac(NIK, "lsp-contoh", None)


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"level": 7, "job_code": "SI022027"}, "level"),
        ({"level": 2}, "level"),
        ({"job_code": "XX999999"}, "job_code"),
        ({"job_code": None, "job_title": "Operator Kapal Selam"}, "job_title"),
        ({"job_code": None, "job_title": "Operator Wheel Excavator", "level": 2}, "level"),
        ({"job_code": "ME063100", "job_title": "Operator Wheel Excavator"}, "job_code"),
        ({"holder_name": "   "}, "holder_name"),
        ({"holder_name": "Rina\u202eanileM"}, "holder_name"),
        ({"holder_name": "x" * 101}, "holder_name"),
        ({"number": "-leading dash"}, "number"),
        ({"number": "x" * 41}, "number"),
        ({"level": True}, "level"),
        ({"valid_from": -1}, "valid_from"),
        ({"valid_from": parse_instant("9999-06-01")}, "valid_from"),  # five years on: year 10004
    ],
)
def test_refusals_name_the_field(contoh, issue, fields, field) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        issue(**fields)
    assert excinfo.value.field == field
    assert CredentialRecord.select().count() == 0


def test_level_outside_agency_range_refused(make_agency, make_key, issue) -> None:
    make_agency("dinas-kota", levels=(1, 2))
    make_key("dinas-kota")
    with pytest.raises(InvalidInput, match="outside agency dinas-kota's authorised levels 1-2"):
        issue(agency_id="dinas-kota")


def test_job_title_resolution_is_case_insensitive_and_level_specific(contoh, issue) -> None:
    low = issue(job_code=None, job_title="  tukang PLESTER bangunan   gedung ", level=1)
    high = issue(job_code=None, job_title="Tukang Plester Bangunan Gedung", level=2)
    assert (low.credential.job_code, high.credential.job_code) == ("SI013002", "SI013047")
    assert low.credential.job_title == "Tukang Plester Bangunan Gedung"


def test_name_is_normalised_to_nfc_and_single_spaces(contoh, issue) -> None:
    signed = issue(holder_name="  Ni Luh Putu  Ayu Sukmawati\u0301 ")
    assert signed.credential.holder_name == "Ni Luh Putu Ayu Sukmawatí"


def test_duplicate_number_refused_and_nothing_written(contoh, issue) -> None:
    issue(number="SKK 1")
    with pytest.raises(Conflict, match="already exists"):
        issue(number=" SKK  1 ")
    assert CredentialRecord.select().count() == 1


def test_same_number_allowed_at_another_agency(contoh, issue, make_agency, make_key) -> None:
    make_agency("lsp-lain")
    make_key("lsp-lain")
    issue(number="SKK 1")
    assert issue(agency_id="lsp-lain", number="SKK 1").credential.agency_id == "lsp-lain"


def test_assigned_numbers_are_unique_and_well_formed(contoh, issue) -> None:
    numbers = {issue().credential.number for _ in range(20)}
    assert len(numbers) == 20
    for number in numbers:
        code, level, serial, year = number.split(" ")
        assert (code, level, year) == ("ME063100", "3", "2026") and serial.isdigit()


def test_valid_from_backdated_and_future(contoh, issue) -> None:
    past = issue(valid_from=NOW - 400 * DAY).credential
    assert past.valid_from == NOW - 400 * DAY and past.issued_at == NOW
    future = issue(valid_from=NOW + 10 * DAY).credential
    assert future.expires_at == add_years(NOW + 10 * DAY)


def test_every_master_job_issues_at_its_level(make_agency, make_key, issue) -> None:
    make_agency("lsp-semua", levels=(1, 9))
    make_key("lsp-semua")
    for job in jobs.master():
        signed = issue(agency_id="lsp-semua", job_code=job.code, level=job.level)
        assert (signed.credential.job_title, signed.credential.level) == (job.title, job.level)


def test_signing_key_must_be_active(contoh, issue) -> None:
    registry.retire_key(contoh.kid, NOW)
    with pytest.raises(Conflict, match="no active signing key"):
        issue()


def test_build_credential_is_pure(contoh) -> None:
    agency = registry.get_agency("lsp-contoh")
    request = issuer.IssueRequest("lsp-contoh", "Rina", 3, job_code="ME063100", number="A 1")
    first = issuer.build_credential(request, agency, NOW)
    assert first == issuer.build_credential(request, agency, NOW)
    assert CredentialRecord.select().count() == 0


@pytest.mark.parametrize("number", [NIK, "3575 0400 0393 0001", "3575-0400-0393-0001", "X" + NIK])
def test_a_nik_is_refused_as_certificate_number(contoh, issue, number) -> None:
    """The number is printed, in the QR and shown to every checker: never a NIK."""
    with pytest.raises(InvalidInput, match="must not be a NIK") as excinfo:
        issue(number=number, nik=NIK)
    assert excinfo.value.field == "number" and NIK not in str(excinfo.value)
    assert CredentialRecord.select().count() == 0


@pytest.mark.parametrize("name", [NIK, f"Rina {NIK}", "3575 0400 0393 0001"])
def test_a_nik_is_refused_in_the_holder_name(contoh, issue, name) -> None:
    """The name is signed into the token and shown to every checker: never a NIK."""
    with pytest.raises(InvalidInput, match="must not contain a NIK") as excinfo:
        issue(holder_name=name, nik=NIK)
    assert excinfo.value.field == "holder_name" and NIK not in str(excinfo.value)
    assert CredentialRecord.select().count() == 0


def test_spaced_national_numbers_are_still_accepted(contoh, issue) -> None:
    assert issue(number="41011 7112 3 00001234 2025").credential.number == (
        "41011 7112 3 00001234 2025"
    )


def test_lookups_do_not_repeat_a_nik_typed_as_an_id(database) -> None:
    from verifier.core.errors import NotFound
    from verifier.store import apikeys

    for lookup in (registry.get_agency, registry.get_key, lambda key: apikeys.revoke(key, NOW)):
        with pytest.raises(NotFound) as excinfo:
            lookup(NIK)
        assert NIK not in str(excinfo.value)
