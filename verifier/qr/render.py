"""QR symbols for verify links (SPEC §4): SVG and PNG, error correction exactly Q.

The link (:mod:`verifier.core.links`) is split into an alphanumeric prefix and the all-digit
payload, each encoded in the densest QR mode that holds it exactly. Error correction is exactly
Q, never boosted, so a given credential always gives the same symbol size.

The data mask is the one segno itself would choose, found faster (:mod:`verifier.qr.mask`).
"""

from __future__ import annotations

import io
from pathlib import Path

import segno
from segno import consts

from verifier.core.errors import InvalidInput, UnreadableInput
from verifier.core.links import after_last_mark, credential_url
from verifier.qr import mask

ERROR_LEVEL = "q"
#: Quiet zone in modules; ISO/IEC 18004 requires 4 for reliable scanning.
BORDER = 4
#: Pixels per module in PNGs: a version-11 symbol becomes 690 px, about 6 cm at 300 dpi.
PNG_SCALE = 10
#: Units per module in SVGs (they scale freely; this only sets the default display size).
SVG_SCALE = 4
_QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def credential_qr(base_url: str, token: str) -> tuple[str, str]:
    """A credential's verify URL and the SVG of its QR code, together: one task for a worker."""
    url = credential_url(base_url, token)
    return url, qr_svg(url)


def make_qr(url: str) -> segno.QRCode:
    """The QR symbol for ``url``: level Q, alphanumeric prefix, numeric payload where possible."""
    cut = after_last_mark(url) or 0
    parts = [part for part in (url[:cut], url[cut:]) if part]
    segments = [_segment(part) for part in parts]
    utf8 = not url.isascii()
    try:
        # Mask 0 first, then switched to the mask segno would pick (see verifier.qr.mask).
        symbol = _make(segments, utf8, mask_number=0)
    except segno.DataOverflowError as exc:
        raise InvalidInput(f"URL of {len(url)} characters is too long for a QR code") from exc
    mask.remask(symbol, mask.best_mask(symbol))
    return symbol


def _make(
    segments: list[tuple[str, int] | tuple[str, int, str]], eci: bool, mask_number: int
) -> segno.QRCode:
    # segno.make takes a list of (content, mode[, encoding]) segments (encoder.prepare_data),
    # though its type hints name only a single str, bytes or int.
    return segno.make(
        segments,  # type: ignore[arg-type]
        error=ERROR_LEVEL,
        boost_error=False,
        micro=False,
        eci=eci,
        mask=mask_number,
    )


def _segment(text: str) -> tuple[str, int] | tuple[str, int, str]:
    """One QR segment in the densest mode that holds ``text`` exactly."""
    # segno wants its mode constants here; the names ("numeric", ...) work only for make(mode=).
    if text.isascii() and text.isdigit():
        return (text, consts.MODE_NUMERIC)
    if all(ch in _QR_ALPHANUMERIC for ch in text):
        return (text, consts.MODE_ALPHANUMERIC)
    if text.isascii():
        return (text, consts.MODE_BYTE)
    return (text, consts.MODE_BYTE, "utf-8")  # with an ECI header: readers need not guess


def qr_version(url: str) -> int:
    """QR version (1-40) of the symbol for ``url``; for size measurements."""
    return mask.version_of(make_qr(url))


def qr_png(url: str, scale: int = PNG_SCALE) -> bytes:
    """PNG image of the QR for ``url`` with a 4-module quiet zone."""
    buffer = io.BytesIO()
    make_qr(url).save(buffer, kind="png", scale=scale, border=BORDER)
    return buffer.getvalue()


def qr_svg(url: str) -> str:
    """Standalone SVG document of the QR for ``url`` with a 4-module quiet zone."""
    buffer = io.BytesIO()
    make_qr(url).save(buffer, kind="svg", scale=SVG_SCALE, border=BORDER, xmldecl=True)
    return buffer.getvalue().decode("utf-8")


#: Pixels per module of the sign-in QR codes: big modules for cheap phone cameras.
ENROLMENT_SCALE = 5


def enrolment_qr_data_uri(otpauth_uri: str) -> str:
    """An ``otpauth://`` URI (a second-factor enrolment) as an SVG ``data:`` URI to put in a
    page; error correction M, as authenticator apps expect, not the certificates' Q."""
    symbol = segno.make(otpauth_uri, error="m", boost_error=False)
    return symbol.svg_data_uri(scale=ENROLMENT_SCALE, border=BORDER)


#: The image formats :func:`write_qr` writes, chosen by the file's suffix.
QR_FILE_SUFFIXES = (".png", ".svg")


def write_qr(url: str, path: Path) -> None:
    """Write the QR for ``url`` to ``path`` as PNG or SVG, chosen by the file suffix."""
    suffix = path.suffix.lower()
    if suffix == ".png":
        data = qr_png(url)
    elif suffix == ".svg":
        data = qr_svg(url).encode("utf-8")
    else:
        raise InvalidInput(
            f"QR file must end in .png or .svg, not {suffix or 'no suffix'!r}", field="qr"
        )
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise UnreadableInput(f"cannot write {path}: {exc.strerror or exc}", field="qr") from None
