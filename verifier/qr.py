"""Token <-> QR content and images (SPEC §4).

The QR holds ``<BASE>/V/<payload>``: scheme and host upper-cased (both are case-insensitive) so
the prefix fits QR alphanumeric mode at 5.5 bits a character, and the all-digit payload
(qr_payload) fits numeric mode at 3.33 bits a digit. Error correction is exactly Q, never boosted,
so a given credential always gives the same symbol size.

The data mask is the one segno itself would choose, found faster (verifier.qr_mask).
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import segno
import zxingcpp
from PIL import Image
from segno import consts

from verifier import qr_mask
from verifier.errors import InvalidInput, UnreadableInput
from verifier.qr_payload import decode_payload, encode_payload

__all__ = [
    "credential_qr",
    "credential_url",
    "decode_payload",
    "encode_payload",
    "extract_token",
    "make_qr",
    "qr_png",
    "qr_svg",
    "qr_version",
    "read_qr_image",
    "write_qr",
]

ERROR_LEVEL = "q"
#: Quiet zone in modules; ISO/IEC 18004 requires 4 for reliable scanning.
BORDER = 4
#: Pixels per module in PNGs: a version-11 symbol becomes 690 px, about 6 cm at 300 dpi.
PNG_SCALE = 10
#: Units per module in SVGs (they scale freely; this only sets the default display size).
SVG_SCALE = 4
PATH_MARK = "/V/"
_QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
_BASE_URL_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)([^/?#@\s]+@)?([^/?#@\s]+)(/[^?#\s]*)?")
#: Refuse images over 40 megapixels rather than let a crafted file exhaust memory.
_MAX_IMAGE_PIXELS = 40_000_000
_QR_FORMAT = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def credential_url(base_url: str, token: str) -> str:
    """Exactly what the QR encodes: ``<BASE>/V/<payload>`` with scheme and host upper-cased."""
    return f"{_url_prefix(base_url)}{PATH_MARK}{encode_payload(token)}"


def credential_qr(base_url: str, token: str) -> tuple[str, str]:
    """A credential's verify URL and the SVG of its QR code, together: one task for a worker."""
    url = credential_url(base_url, token)
    return url, qr_svg(url)


def _url_prefix(base_url: str) -> str:
    match = _BASE_URL_RE.fullmatch(base_url.rstrip("/"))
    if match is None:
        raise InvalidInput(
            f"base URL must look like https://host[/path], not {base_url!r}", field="base_url"
        )
    scheme, userinfo, host, path = match.groups()
    # The path (and user info) may be case-sensitive on the server; only these two are not.
    return f"{scheme.upper()}{userinfo or ''}{host.upper()}{path or ''}"


def extract_token(text: str) -> str:
    """The JWS in a JWS, a payload or a whole verify URL (what follows the last /v/ or /V/)."""
    value = text.strip()
    cut = _after_last_mark(value)
    if cut is not None:
        value = re.split(r"[?#]", value[cut:], maxsplit=1)[0]
    return decode_payload(value)


def _after_last_mark(url: str) -> int | None:
    """Index just after the last ``/v/`` or ``/V/`` (overlaps count: ``/v/v/1`` gives ``1``)."""
    found = max(url.rfind("/v/"), url.rfind("/V/"))
    return None if found < 0 else found + len(PATH_MARK)


def make_qr(url: str) -> segno.QRCode:
    """The QR symbol for ``url``: level Q, alphanumeric prefix, numeric payload where possible."""
    cut = _after_last_mark(url) or 0
    parts = [part for part in (url[:cut], url[cut:]) if part]
    segments = [_segment(part) for part in parts]
    utf8 = not url.isascii()
    try:
        # Mask 0 first, then switched to the mask segno would pick (see verifier.qr_mask).
        symbol = _make(segments, utf8, mask=0)
    except segno.DataOverflowError as exc:
        raise InvalidInput(f"URL of {len(url)} characters is too long for a QR code") from exc
    qr_mask.remask(symbol, qr_mask.best_mask(symbol))
    return symbol


def _make(segments: list[tuple[str, int] | tuple[str, int, str]], eci: bool,
          mask: int) -> segno.QRCode:
    # segno.make takes a list of (content, mode[, encoding]) segments (encoder.prepare_data),
    # though its type hints name only a single str, bytes or int.
    return segno.make(
        segments,  # type: ignore[arg-type]
        error=ERROR_LEVEL,
        boost_error=False,
        micro=False,
        eci=eci,
        mask=mask,
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
    return qr_mask.version_of(make_qr(url))


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


def read_qr_image(path: Path) -> str:
    """Text of the QR code in an image file; UnreadableInput if there is none."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its limit; a bomb must be an error, not a warning.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.width * image.height > _MAX_IMAGE_PIXELS:
                    raise UnreadableInput(f"{path}: image is too large to scan", field="file")
                found = zxingcpp.read_barcodes(_flatten(image), formats=_QR_FORMAT)
    except FileNotFoundError:
        raise UnreadableInput(f"file not found: {path}", field="file") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnreadableInput(f"{path}: image is too large to scan", field="file") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        reason = getattr(exc, "strerror", None) or "not a readable image"
        raise UnreadableInput(f"cannot read {path}: {reason}", field="file") from None
    texts = [barcode.text for barcode in found if barcode.text]
    if not texts:
        raise UnreadableInput(f"no QR code found in {path}", field="file")
    # A printed certificate may carry other QR codes; prefer the one that is a verify link.
    links = [text for text in texts if _after_last_mark(text) is not None]
    return (links or texts)[0]


def _flatten(image: Image.Image) -> Image.Image:
    """Greyscale on white: transparent pixels would otherwise read as black."""
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("L")
