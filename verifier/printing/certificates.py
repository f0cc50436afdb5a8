"""Printable HTML: A4 certificates (one per page) and ID-card sheets (8 cards per A4 page).

Rendered with plain Jinja2 (no Flask) from ``templates/print/``, autoescaped. The documents are
self-contained: inline CSS and inline SVG QR codes, no script, no external asset, so a cohort's
files open and print identically offline. Large cohorts are split into files of at most
:data:`PAGES_PER_FILE` pages, because browsers and print spoolers slow down badly on bigger ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import jinja2
from markupsafe import Markup

from verifier.config import PACKAGE_DIR
from verifier.core import jobs
from verifier.core.credential import Credential, to_iso
from verifier.core.slices import slices

__all__ = [
    "CARDS_PER_PAGE",
    "PAGES_PER_FILE",
    "PrintItem",
    "indonesian_date",
    "inline_svg",
    "render_cards",
    "render_certificates",
]

#: Pages per HTML file; read at call time, so tests may lower it.
PAGES_PER_FILE = 500
#: Cards of 85.6 x 54 mm (ISO/IEC 7810 ID-1) per A4 sheet: 2 columns x 4 rows.
CARDS_PER_PAGE = 8
TEMPLATE_DIR = PACKAGE_DIR / "templates" / "print"

_MONTHS = tuple(
    "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember".split()
)
#: KKNI jenjang groups (DOMAIN.md): operator 1-3, teknisi/analis 4-6, ahli 7-9.
_LEVEL_GROUPS = {"operator": "Operator", "technician": "Teknisi/Analis", "expert": "Ahli"}
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>\s*")
_SVG_ROOT = re.compile(r"\A<svg\b[^>]*>")
_SIZE_ATTRIBUTE = re.compile(r'\s(width|height)="([0-9.]+)"')


@dataclass(frozen=True)
class PrintItem:
    """One certificate to print: the credential, its agency's name, its QR URL and QR SVG."""

    credential: Credential
    agency_name: str
    url: str
    qr_svg: str


@dataclass(frozen=True)
class _View:
    """What the templates show for one item, already formatted (templates stay logic-free)."""

    number: str
    holder_name: str
    job_title: str
    job_code: str | None
    level: str
    level_group: str
    agency_name: str
    issued_on: str
    valid_from: str
    valid_until: str
    url: str
    qr: Markup
    name_size: str
    job_size: str


def indonesian_date(instant: int) -> str:
    """NumericDate as a UTC calendar date in Bahasa Indonesia, e.g. ``15 Mei 2025``."""
    # UTC, like the API and the verify page, so paper and screen always show the same date.
    year, month, day = to_iso(instant)[:-10].rsplit("-", 2)
    return f"{int(day)} {_MONTHS[int(month) - 1]} {int(year)}"


def render_certificates(items: Sequence[PrintItem], domain: str) -> list[str]:
    """HTML documents of A4 certificates, one per page, at most PAGES_PER_FILE pages each."""
    template = _environment().get_template("certificate.html")
    chunks = list(slices(items, PAGES_PER_FILE))
    return [
        template.render(
            views=[_view(item) for item in chunk],
            domain=domain,
            part=index,
            parts=len(chunks),
        )
        for index, chunk in enumerate(chunks, start=1)
    ]


def render_cards(items: Sequence[PrintItem], domain: str) -> list[str]:
    """HTML documents of ID-card sheets, CARDS_PER_PAGE per A4 page, PAGES_PER_FILE pages each."""
    template = _environment().get_template("cards.html")
    chunks = list(slices(items, PAGES_PER_FILE * CARDS_PER_PAGE))
    return [
        template.render(
            sheets=[[_view(item) for item in sheet] for sheet in slices(chunk, CARDS_PER_PAGE)],
            domain=domain,
            part=index,
            parts=len(chunks),
        )
        for index, chunk in enumerate(chunks, start=1)
    ]


@cache
def _environment() -> jinja2.Environment:
    # Built on first use, not at import; StrictUndefined turns a template typo into an error
    # instead of a silently blank field on thousands of printed certificates.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _view(item: PrintItem) -> _View:
    cred = item.credential
    return _View(
        number=cred.number,
        holder_name=cred.holder_name,
        job_title=cred.job_title,
        job_code=cred.job_code,
        level=f"Jenjang {cred.level} (KKNI)",
        level_group=_LEVEL_GROUPS[jobs.level_group(cred.level)],
        agency_name=item.agency_name,
        issued_on=indonesian_date(cred.issued_at),
        valid_from=indonesian_date(cred.valid_from),
        valid_until=indonesian_date(cred.expires_at),
        url=item.url,
        qr=inline_svg(item.qr_svg),
        name_size=_size_class(cred.holder_name, 30, 60),
        job_size=_size_class(cred.job_title, 40, 70),
    )


def _size_class(text: str, long: int, very_long: int) -> str:
    """CSS class that shrinks text which would overflow its box (names and titles reach 100)."""
    if len(text) > very_long:
        return "xlong"
    return "long" if len(text) > long else ""


def inline_svg(svg: str) -> Markup:
    """An SVG document as markup to inline in HTML: no XML declaration, sized by CSS."""
    body = _XML_DECLARATION.sub("", svg, count=1).strip()
    root = _SVG_ROOT.match(body)
    # Only our own segno output is inlined unescaped; anything else is a programming error.
    if root is None or not body.endswith("</svg>") or "<script" in body.lower():
        raise ValueError("qr_svg must be a single SVG document")
    tag = root.group(0)
    sizes = dict(_SIZE_ATTRIBUTE.findall(tag))
    if "viewBox" not in tag and {"width", "height"} <= sizes.keys():
        # segno writes width/height but no viewBox; without one, CSS sizing would crop the
        # symbol instead of scaling it.
        tag = _SIZE_ATTRIBUTE.sub("", tag)
        tag = tag.replace("<svg", f'<svg viewBox="0 0 {sizes["width"]} {sizes["height"]}"', 1)
    return Markup(tag + body[root.end() :])  # noqa: S704 (segno's SVG, no user markup)
