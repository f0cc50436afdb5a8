"""Printable certificates and card sheets as HTML, without a browser (tests/test_print_browser.py
prints them in Chromium)."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from functools import cache

import pytest

from verifier.core import links
from verifier.core.credential import Credential, add_years
from verifier.printing import certificates
from verifier.qr import render

BASE_URL = "https://sertifikat.example.id"
DOMAIN = "sertifikat.example.id"
START = 1747267200  # 2025-05-15T00:00:00Z
CERT_PAGE = '<section class="cert">'
CARD_SHEET = '<section class="sheet">'
CARD = '<article class="card">'


def make_credential(serial: int = 1234, **changes: object) -> Credential:
    """The SPEC §4 reference credential with its own serial number and any field replaced."""
    cred = Credential(
        agency_id="lsp-contoh",
        number=f"41011 7112 3 {serial:08d} 2025",
        holder_name="Muhammad Rizky Pratama Saputra",
        job_title="Operator Wheel Excavator",
        job_code="ME063100",
        level=3,
        issued_at=START,
        valid_from=START,
        expires_at=add_years(START),
    )
    return replace(cred, **changes)  # type: ignore[arg-type]


@cache
def _svg(url: str) -> str:
    return render.qr_svg(url)


def make_item(
    serial: int = 1234, agency: str = "LSP Konstruksi Contoh Nusantara", **changes: object
) -> certificates.PrintItem:
    """A PrintItem whose URL (and so QR) is unique to its serial number."""
    url = f"{BASE_URL.upper()}/V/{serial:012d}"
    return certificates.PrintItem(make_credential(serial, **changes), agency, url, _svg(url))


def cheap_items(count: int) -> list[certificates.PrintItem]:
    """Many items sharing one QR: for page counting, where QR generation would only cost time."""
    item = make_item()
    return [replace(item, credential=make_credential(n)) for n in range(count)]


def visible_text(document: str) -> str:
    """The text a reader sees: no style block, no tags, entities decoded, spaces folded."""
    body = re.sub(r"<style>.*?</style>", " ", document, flags=re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_one_certificate_page_per_item() -> None:
    documents = certificates.render_certificates([make_item(n) for n in range(3)], DOMAIN)
    assert len(documents) == 1
    assert documents[0].count(CERT_PAGE) == 3


def test_certificates_split_at_500_pages() -> None:
    documents = certificates.render_certificates(cheap_items(1001), DOMAIN)
    assert [doc.count(CERT_PAGE) for doc in documents] == [500, 500, 1]


def test_split_size_is_read_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(certificates, "PAGES_PER_FILE", 2)
    documents = certificates.render_certificates(cheap_items(5), DOMAIN)
    assert [doc.count(CERT_PAGE) for doc in documents] == [2, 2, 1]
    assert "(berkas 3 dari 3)" in documents[2]


def test_eight_cards_per_sheet() -> None:
    documents = certificates.render_cards([make_item(n) for n in range(10)], DOMAIN)
    assert len(documents) == 1
    sheets = documents[0].split(CARD_SHEET)[1:]
    assert [sheet.count(CARD) for sheet in sheets] == [8, 2]


def test_cards_split_at_500_sheets() -> None:
    documents = certificates.render_cards(cheap_items(4001), DOMAIN)
    assert [doc.count(CARD_SHEET) for doc in documents] == [500, 1]
    assert [doc.count(CARD) for doc in documents] == [4000, 1]


def test_card_files_split_by_sheets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(certificates, "PAGES_PER_FILE", 1)
    documents = certificates.render_cards(cheap_items(17), DOMAIN)
    assert [doc.count(CARD) for doc in documents] == [8, 8, 1]
    assert all(doc.count(CARD_SHEET) == 1 for doc in documents)


def test_no_items_no_files() -> None:
    assert certificates.render_certificates([], DOMAIN) == []
    assert certificates.render_cards([], DOMAIN) == []


@pytest.mark.parametrize("render", [certificates.render_certificates, certificates.render_cards])
def test_everything_is_escaped(render) -> None:
    hostile = "<b>O'Brien & Sons</b>"
    item = make_item(
        holder_name=hostile, job_title="Tukang <i>Besi</i>", agency="Dinas PU & <Tata> Ruang"
    )
    document = render([item], "evil<host>")[0]
    assert "&lt;b&gt;O&#39;Brien &amp; Sons&lt;/b&gt;" in document
    assert "<b>O'Brien" not in document and "<i>" not in document and "<Tata>" not in document
    assert "evil&lt;host&gt;" in document and "evil<host>" not in document
    assert hostile in visible_text(document)


def test_non_ascii_names_are_kept() -> None:
    name = "Nguyễn Văn Đức Ñoño"
    document = certificates.render_certificates([make_item(holder_name=name)], DOMAIN)[0]
    assert '<meta charset="utf-8">' in document
    assert name in document


@pytest.mark.parametrize("render", [certificates.render_certificates, certificates.render_cards])
def test_verification_domain_beside_the_qr(render) -> None:
    text = visible_text(render([make_item()], DOMAIN)[0])
    assert f"Periksa keaslian: pindai QR atau buka {DOMAIN}" in text
    assert f"Hanya alamat {DOMAIN} yang resmi" in text


@pytest.mark.parametrize("render", [certificates.render_certificates, certificates.render_cards])
def test_certificate_fields(render) -> None:
    text = visible_text(render([make_item(1234)], DOMAIN)[0])
    for expected in (
        "Muhammad Rizky Pratama Saputra",
        "Operator Wheel Excavator",
        "ME063100",
        "Jenjang 3 (KKNI)",
        "LSP Konstruksi Contoh Nusantara",
        "41011 7112 3 00001234 2025",
        "Berlaku sampai 15 Mei 2030",
    ):
        assert expected in text


def test_certificate_shows_issue_date_and_no_code_when_absent() -> None:
    text = visible_text(certificates.render_certificates([make_item(job_code=None)], DOMAIN)[0])
    assert "Tanggal terbit 15 Mei 2025" in text
    assert "Kode jabatan kerja" not in text


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (0, "1 Januari 1970"),
        (START, "15 Mei 2025"),
        (1_768_435_200, "15 Januari 2026"),
        (1_709_164_800, "29 Februari 2024"),
        (1_735_689_599, "31 Desember 2024"),  # 23:59:59 UTC: the UTC date, not WIB's
        (2**53, "12 November 285428751"),  # SPEC §2 allows NumericDates to 2**53
    ],
)
def test_indonesian_date(instant: int, expected: str) -> None:
    assert certificates.indonesian_date(instant) == expected


@pytest.mark.parametrize(
    ("level", "group"), [(1, "Operator"), (3, "Operator"), (4, "Teknisi/Analis"), (9, "Ahli")]
)
def test_level_names_kkni_group(level: int, group: str) -> None:
    text = visible_text(certificates.render_certificates([make_item(level=level)], DOMAIN)[0])
    assert f"Jenjang {level} (KKNI) · {group}" in text


@pytest.mark.parametrize("render", [certificates.render_certificates, certificates.render_cards])
def test_each_qr_inlined_once(render) -> None:
    items = [make_item(n) for n in range(9)]
    document = "".join(render(items, DOMAIN))
    assert "<?xml" not in document
    for item in items:
        path = re.search(r' d="([^"]+)"', item.qr_svg)
        assert path is not None
        assert document.count(path.group(1)) == 1
    assert document.count("<svg") == len(items)


def test_inlined_svg_scales_with_css() -> None:
    svg = certificates.inline_svg(render.qr_svg(f"{BASE_URL}/V/1"))
    root = svg[: svg.index(">") + 1]
    assert re.fullmatch(r'<svg viewBox="0 0 (\d+) \1" xmlns="[^"]+" class="segno">', root)


@pytest.mark.parametrize(
    "svg", ["<div>not svg</div>", "<svg><script>alert(1)</script></svg>", "<svg>"]
)
def test_only_svg_documents_are_inlined(svg: str) -> None:
    with pytest.raises(ValueError, match="single SVG"):
        certificates.inline_svg(svg)


@pytest.mark.parametrize("render", [certificates.render_certificates, certificates.render_cards])
def test_self_contained_print_css(render) -> None:
    document = render([make_item(n) for n in range(2)], DOMAIN)[0]
    assert "@page { size: A4;" in document
    assert "break-after: page" in document and "page-break-after: always" in document
    assert not re.search(r"<script|<link|<img|@import|url\(|\ssrc=", document, re.IGNORECASE)


def test_cards_are_id1_size() -> None:
    document = certificates.render_cards([make_item()], DOMAIN)[0]
    assert re.search(r"\.card \{ width: 85\.6mm; height: 54mm;", document)
    assert "grid-template-columns: repeat(2, 85.6mm); grid-auto-rows: 54mm" in document


@pytest.mark.parametrize(
    ("base_url", "domain"),
    [
        ("https://Sertifikat.Example.ID", "sertifikat.example.id"),
        ("https://pu.go.id/skk/", "pu.go.id"),
        ("https://SERTIFIKAT.PU.GO.ID:443", "sertifikat.pu.go.id"),
        ("https://sertifikat.pu.go.id:8443", "sertifikat.pu.go.id:8443"),
        ("http://127.0.0.1:8000", "127.0.0.1:8000"),
        ("https://[::1]:8443", "[::1]:8443"),
    ],
)
def test_verify_domain(base_url: str, domain: str) -> None:
    assert links.verify_domain(base_url) == domain


def test_verify_domain_needs_a_host() -> None:
    with pytest.raises(ValueError, match="no host"):
        links.verify_domain("sertifikat.example.id")
