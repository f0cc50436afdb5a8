"""Reading a QR code from an image file (``skk verify FILE.png``), safely for any file given."""

from __future__ import annotations

import warnings
from pathlib import Path

import zxingcpp
from PIL import Image

from verifier.core.errors import UnreadableInput
from verifier.core.links import after_last_mark

#: Refuse images over 40 megapixels rather than let a crafted file exhaust memory.
_MAX_IMAGE_PIXELS = 40_000_000
_QR_FORMAT = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


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
    verify_links = [text for text in texts if after_last_mark(text) is not None]
    return (verify_links or texts)[0]


def _flatten(image: Image.Image) -> Image.Image:
    """Greyscale on white: transparent pixels would otherwise read as black."""
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("L")
