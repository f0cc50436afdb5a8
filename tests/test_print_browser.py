"""Print certificates and card sheets in a real browser and scan every QR from the rendering.

Debian's Chromium (``apt-get install chromium``) is driven by Playwright with that executable;
Playwright never downloads a browser here. Without Chromium the tests skip with that message,
except in CI (``CI=true``), where a missing browser must fail rather than pass unnoticed.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from tests.helpers import NOW
from verifier.core import jobs, links
from verifier.core.verify import Status
from verifier.printing import certificates
from verifier.qr import render

#: Headless Chromium.
pytestmark = pytest.mark.browser

#: CSS pixels per millimetre (CSS fixes 96 px to the inch).
PX_PER_MM = 96 / 25.4
#: Scale screenshots 2x so each QR module covers several pixels, like a phone camera close up.
DEVICE_SCALE = 2
NAMES = [
    "Muhammad Rizky Pratama Saputra",
    "Siti Nurhaliza",
    "<b>O'Brien & Sons</b>",
    "Nguyễn Văn Đức",
    "I Gusti Ngurah Agung Wiryawan",
    "Ñoño Şahin Çelik",
    "Ni Luh Putu Ayu Sri Wahyuni Kusuma Dewi Anak Agung Istri Cokorda Mas Ratna Sari Dewi",
    "Maria Goreti da Costa",
    "Zoë Ørsted-Łukasiewicz",
    "Ahmad",
]
_PDF_PAGE = re.compile(rb"/Type\s*/Page\b")  # \b: not the /Pages tree node
_QR_FORMAT = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


@pytest.fixture
def items(contoh, issue, settings) -> list[certificates.PrintItem]:
    """Ten freshly issued credentials with mixed names, jobs and levels, ready to print."""
    catalogue = [job for job in jobs.master() if job.level <= 6]
    result = []
    for index, name in enumerate(NAMES):
        job = catalogue[index * 3 % len(catalogue)]
        signed = issue(holder_name=name, job_code=job.code, level=job.level)
        url = links.credential_url(settings.base_url, signed.token)
        agency = "LSP Konstruksi Contoh Nusantara"
        result.append(certificates.PrintItem(signed.credential, agency, url, render.qr_svg(url)))
    assert len({item.credential.level for item in result}) > 2
    return result


def test_certificates_print_one_page_each_and_scan(browser, items, service, settings, tmp_path):
    domain = links.verify_domain(settings.base_url)
    (document,) = certificates.render_certificates(items, domain)
    pages = _print(browser, document, tmp_path / "certificates", ".cert", min_qr_mm=45)
    assert _pdf_pages(tmp_path / "certificates.pdf") == len(items)
    assert [len(found) for found in pages] == [1] * len(items)
    _check_scans(pages, items, service)


def test_card_sheets_print_eight_per_page_and_scan(browser, items, service, settings, tmp_path):
    (document,) = certificates.render_cards(items, links.verify_domain(settings.base_url))
    pages = _print(browser, document, tmp_path / "cards", ".sheet", min_qr_mm=30)
    assert _pdf_pages(tmp_path / "cards.pdf") == 2  # 10 cards at 8 a page
    assert [len(found) for found in pages] == [8, 2]
    _check_scans(pages, items, service)


def _print(browser, document: str, stem: Path, page_selector: str, min_qr_mm: float):
    """Open the HTML, print it to ``stem``.pdf, screenshot each page; QR texts found per page."""
    html_file = stem.with_suffix(".html")
    html_file.write_text(document, encoding="utf-8")
    context = browser.new_context(device_scale_factor=DEVICE_SCALE)
    try:
        page = context.new_page()
        page.goto(html_file.as_uri())
        stem.with_suffix(".pdf").write_bytes(page.pdf(format="A4", print_background=True))
        page.emulate_media(media="print")
        _check_layout(page, page_selector, min_qr_mm)
        found = []
        for index, element in enumerate(page.locator(page_selector).all()):
            # One screenshot per printed page: a full-page shot of 10 A4 pages at 2x would pass
            # Chromium's 16,384-pixel texture limit; per page also shows which page lost a QR.
            png = element.screenshot()
            stem.with_name(f"{stem.name}-{index + 1}.png").write_bytes(png)
            found.append(_decode(png))
        return found
    finally:
        context.close()


def _check_layout(page, page_selector: str, min_qr_mm: float) -> None:
    """Nothing spills out of its page or card, and every QR is printed at least min_qr_mm wide."""
    overflowing = page.evaluate(
        """(selector) => [...document.querySelectorAll(selector + ', .card, .info')]
            .filter(el => el.scrollHeight > el.clientHeight + 1).map(el => el.className)""",
        page_selector,
    )
    assert overflowing == []
    widths = page.evaluate(
        "() => [...document.querySelectorAll('.qr svg')].map(s => s.getBoundingClientRect().width)"
    )
    assert widths and min(widths) >= min_qr_mm * PX_PER_MM


def _decode(png: bytes) -> list[str]:
    with Image.open(io.BytesIO(png)) as image:
        found = zxingcpp.read_barcodes(image.convert("L"), formats=_QR_FORMAT)
    return [barcode.text for barcode in found]


def _check_scans(pages: list[list[str]], items: list[certificates.PrintItem], service) -> None:
    """Every credential's URL scanned exactly once, and each scan verifies as valid."""
    scanned = [text for page in pages for text in page]
    assert sorted(scanned) == sorted(item.url for item in items)
    for url in scanned:
        assert service.verify(url, at=NOW).status is Status.VALID


def _pdf_pages(path: Path) -> int:
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    return len(_PDF_PAGE.findall(data))
