"""The whole console path in Debian's Chromium, JavaScript off, against the real gunicorn server.

A Dinas staff member given a username and a one-time password signs in, chooses a password,
enrols an authenticator (the test computes the codes with pyotp from ``#totp-secret``), signs in
again with a code, uploads the 75-worker cohort, checks the preview, confirms, downloads the ZIP
whose printed QR codes (rendered in Chromium and decoded with zxing-cpp) all verify ``valid``,
and revokes one certificate, which the public ``/v/`` page then shows as revoked. Nothing of
the NIKs, passwords or the authenticator secret may appear in the server's logs.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import pyotp
import pytest
import zxingcpp
from PIL import Image

from tests.serving import (
    SERVER_KINDS,
    Server,
    free_port,
    fresh_database,
    server_environment,
    skk,
)

COHORT = Path(__file__).parent / "data" / "cohort_pasuruan_2025.csv"
COHORT_NIKS = [line.split(",")[1] for line in COHORT.read_text().splitlines()[1:]]
AGENCY = "dinas-pupr-pasuruan"
NEW_PASSWORD = "sandi pasuruan yang panjang"
_QR_FORMAT = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def _decode(png: bytes) -> list[str]:
    with Image.open(io.BytesIO(png)) as image:
        return [
            code.text for code in zxingcpp.read_barcodes(image.convert("L"), formats=_QR_FORMAT)
        ]


def _sign_in(page, origin: str, username: str, password: str, code: str) -> None:
    page.goto(f"{origin}/console/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.fill("#code", code)
    page.click("button[type=submit]:not(#logout)")


@pytest.mark.browser
@pytest.mark.parametrize("kind", SERVER_KINDS)
def test_a_staff_member_issues_a_cohort_and_revokes_from_a_browser(browser, kind, tmp_path):
    port = free_port()
    env = server_environment(fresh_database(kind, tmp_path), tmp_path, port)
    skk(env, "init")
    skk(
        env,
        "agency",
        "add",
        AGENCY,
        "--name",
        "Dinas PUPR Kabupaten Pasuruan",
        "--levels",
        "1-6",
        "--kind",
        "dinas",
    )
    skk(env, "keys", "generate", "--agency", AGENCY)
    one_time = skk(env, "user", "add", "--agency", AGENCY, "rina", "--role", "admin")[
        "one_time_password"
    ]
    origin = f"http://127.0.0.1:{port}"
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    with Server(env, access, errors) as client:
        # No JavaScript at all: every step must work with plain forms and links.
        context = browser.new_context(
            java_script_enabled=False, accept_downloads=True, locale="id-ID"
        )
        page = context.new_page()

        # First sign-in: the one-time password, then a new password, then the authenticator.
        _sign_in(page, origin, "rina", one_time, "")
        page.wait_for_url("**/console/password")
        page.fill("#current", one_time)
        page.fill("#new", NEW_PASSWORD)
        page.fill("#confirm", NEW_PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url("**/console/totp")
        secret = page.locator("#totp-secret").inner_text().strip()
        totp = pyotp.TOTP(secret)
        page.fill("#code", totp.now())
        page.click("main button[type=submit]")
        page.wait_for_url("**/console/")
        assert page.locator("#count-issued").inner_text() == "0"

        # Every later sign-in needs the password and a new code.
        page.click("#logout")
        page.wait_for_url("**/console/login")
        _sign_in(page, origin, "rina", NEW_PASSWORD, "")
        assert page.locator("#login-error").inner_text()  # (inner_text waits for the page)
        _sign_in(page, origin, "rina", NEW_PASSWORD, totp.at(time.time() + 30))
        page.wait_for_url("**/console/")

        # The cohort from the agency's spreadsheet: preview, confirm, result.
        page.goto(f"{origin}/console/cohort")
        page.set_input_files("#file", str(COHORT))
        page.click("main button[type=submit]")
        assert "75" in page.locator("#preview-summary").inner_text()
        assert page.locator("#rows tbody tr").count() == 75
        page.click("#confirm")
        page.wait_for_url("**/result")
        assert page.locator("#result-summary").inner_text().startswith("75")
        with page.expect_download() as download:
            page.click("#download")
        pack = tmp_path / "pack.zip"
        download.value.save_as(pack)

        # The print pack: every card's QR scans and verifies valid.
        archive = zipfile.ZipFile(pack)
        names = archive.namelist()
        assert "results.csv" in names and "certificates-001.html" in names
        assert len([name for name in names if name.startswith("qr/")]) == 75
        printed = tmp_path / "printed"
        archive.extractall(printed)
        scanned = _scan(browser, printed / "cards-001.html", ".sheet")
        scanned += _scan(browser, printed / "certificates-001.html", ".cert", limit=2)
        assert len(set(scanned)) == 75
        assert all(url.startswith("HTTP://127.0.0.1") for url in scanned)
        for url in set(scanned):
            verdict = client.request("POST", "/api/v1/verify", {"token": url}, record=False)
            assert verdict.json()["status"] == "valid", url
        archive_text = "".join(archive.read(name).decode("utf-8", "replace") for name in names)
        assert not any(nik in archive_text for nik in COHORT_NIKS)

        # Revoke one, behind its confirmation page; the public page then says so.
        page.goto(f"{origin}/console/credentials")
        page.locator("tbody a").first.click()
        number = page.locator("h1").inner_text()
        verify_url = page.locator("#verify-url").inner_text()
        page.click("#step-revoke")
        page.select_option("#reason", "fraud")
        page.fill("#note", "peserta tidak hadir saat uji kompetensi")
        page.click("#confirm")
        assert page.locator("#notice").inner_text()
        assert "s-revoked" in page.locator("#status").inner_html()
        public = browser.new_context(locale="id-ID")
        checker = public.new_page()
        checker.goto(verify_url)
        assert checker.locator("#verdict-word").inner_text() == "DICABUT"
        assert checker.locator(".verdict").get_attribute("data-status") == "revoked"
        public.close()

        # The audit log names her for the issuing and the revocation.
        page.goto(f"{origin}/console/audit?action=revoke")
        assert number in page.content() and "user:rina" in page.content()
        context.close()

    logs = access.read_text() + errors.read_text()
    for secret_text in (one_time, NEW_PASSWORD, secret, *COHORT_NIKS):
        assert secret_text not in logs


def _scan(browser, document: Path, selector: str, limit: int | None = None) -> list[str]:
    """Open a printable file in Chromium, screenshot each printed page, decode its QR codes."""
    context = browser.new_context(device_scale_factor=2)
    try:
        page = context.new_page()
        page.goto(document.as_uri())
        page.emulate_media(media="print")
        found: list[str] = []
        for element in page.locator(selector).all()[:limit]:
            found += _decode(element.screenshot())
        return found
    finally:
        context.close()


def test_console_templates_carry_no_script():
    """The console's templates hold no script and no inline event handler."""
    templates = Path(__file__).resolve().parents[1] / "verifier" / "templates" / "console"
    for template in templates.glob("*.html"):
        text = template.read_text()
        assert "<script" not in text.lower(), template.name
        assert not re.search(r"\son[a-z]+\s*=", text), template.name
