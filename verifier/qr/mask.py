"""The data mask segno would choose for a QR symbol, found about 20 times faster.

ISO/IEC 18004 7.8.3: of the eight masks, the one with the lowest penalty (N1 + N2 + N3 + N4),
the first of equals. segno scores each candidate module by module in Python, which is most of the
12-20 ms a symbol costs and dominated cohort printing. Here the symbol is made once with mask 0,
its rows and columns are packed into one integer, and each mask is scored a whole line at a time
with bit operations; the symbol is then switched to the winner in place. The result is segno's own
symbol byte for byte: tests/test_qr_mask.py compares matrices, SVGs and penalties with segno's on
generated symbols of every version and error level, so a segno release that changes its choice
fails the tests rather than the prints.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import segno
from segno import consts, encoder

_MASKS = range(8)
_FINDER_LIKE = "1011101"  # dark:light:dark:dark:dark:light:dark, 1:1:3:1:1 (ISO 18004 7.8.3.1)
#: Light modules between two lines in _Layout's bits.
_GAP = 4
_GAP_DIGITS = b"0" * _GAP
_AS_DIGITS = bytes.maketrans(b"\x00\x01", b"01")
_AS_MODULES = bytes.maketrans(b"01", b"\x00\x01")


@dataclass(frozen=True)
class _Layout:
    """One QR version's module lines as bits of one integer, for scoring masks.

    Rows then columns, each line ``_GAP`` light bits then its modules, the first line highest:
    ``format(bits, "0{width}b")`` spells the lines out as ``0``/``1`` text. The light gap is wider
    than any window the penalty rules look through, so nothing is counted across two lines.
    """

    size: int
    #: Function modules as they are while masks are evaluated (format and version areas light).
    base: int
    #: The encoding region: the modules a mask flips where its condition holds.
    region: int
    #: For each of the 8 masks, the modules it flips.
    flips: tuple[int, ...]
    #: Bits that follow a module of the same line (the gap and each line's first module do not).
    neighbours: int
    #: The same, in rows 1 to size - 1 only: where a 2x2 block with the row above can end.
    below: int

    @property
    def stride(self) -> int:
        """Bits per line, gap included."""
        return self.size + _GAP

    @property
    def width(self) -> int:
        """Bits of all lines, rows and columns."""
        return 2 * self.size * self.stride


@cache
def _layout(version: int) -> _Layout:
    """One version's layout, placed by segno's own functions so both agree module for module.

    segno.encoder is not segno's public API: tests compare whole symbols with segno's own mask
    choice, so a segno release that changes these helpers fails them rather than the prints.
    """
    size = encoder.calc_matrix_size(version)
    function = encoder.make_matrix(size, size)
    encoder.add_finder_patterns(function, size, size)
    encoder.add_alignment_patterns(function, size, size)
    region = [[int(value > 1) for value in row] for row in function]
    flips = tuple(
        _pack_grid(
            [[int(bool(pattern(i, j))) & region[i][j] for j in range(size)] for i in range(size)]
        )
        for pattern in encoder.get_data_mask_functions(is_micro=False)
    )
    line = "0" * (_GAP + 1) + "1" * (size - 1)
    return _Layout(
        size=size,
        base=_pack_grid([[int(value == 1) for value in row] for row in function]),
        region=_pack_grid(region),
        flips=flips,
        neighbours=int(line * (2 * size), 2),
        below=int("0" * len(line) + line * (size - 1) + "0" * (len(line) * size), 2),
    )


def _pack_grid(grid: list[list[int]]) -> int:
    rows = [bytes(row) for row in grid]
    return _pack(rows + [bytes(column) for column in zip(*rows, strict=True)])


def _pack(lines: Iterable[bytes | bytearray]) -> int:
    """Lines of 0/1 modules as one integer, each line preceded by the light gap."""
    return int(b"".join(_GAP_DIGITS + line.translate(_AS_DIGITS) for line in lines), 2)


def best_mask(symbol: segno.QRCode) -> int:
    """The mask segno.make picks by itself (ISO/IEC 18004 7.8.3: lowest penalty, first of equals)
    for a symbol made with mask 0."""
    layout = _layout(version_of(symbol))
    lines = list(symbol.matrix) + [bytes(column) for column in zip(*symbol.matrix, strict=True)]
    # As segno evaluates: the data unmasked, the format and version areas still light.
    plain = (_pack(lines) & layout.region) ^ layout.flips[0] | layout.base
    best, best_score = 0, None
    for mask in _MASKS:
        score = _penalty(plain ^ layout.flips[mask], layout)
        if best_score is None or score < best_score:
            best, best_score = mask, score
    return best


def _penalty(bits: int, layout: _Layout) -> int:
    """N1 + N2 + N3 + N4 of ISO/IEC 18004 7.8.3.1, counted exactly as segno's mask_scores."""
    same = ~(bits ^ (bits >> 1)) & layout.neighbours  # a module equal to the one before it
    five = same & (same >> 1) & (same >> 2) & (same >> 3)  # ... and to the 4 before that
    # A run of 5 + i modules ends i + 1 "five" bits in a row and scores 3 + i (N1 = 3).
    n1 = five.bit_count() + 2 * (five & ~(five >> 1)).bit_count()
    above = ~(bits ^ (bits >> layout.stride))  # a module equal to the one in the line before
    n2 = 3 * (above & (above >> 1) & same & layout.below).bit_count()
    n3 = _finder_like(format(bits, f"0{layout.width}b"))
    dark = bits.bit_count() // 2  # every module is counted once as a row and once as a column
    percent = float(dark) / (layout.size**2)
    n4 = 10 * int(abs(percent * 100 - 50) / 5)
    return n1 + n2 + n3 + n4


def _finder_like(text: str) -> int:
    """segno's N3: 40 for each 1:1:3:1:1 pattern with 4 light modules (or the symbol's edge)
    before or after it, searched for the way segno searches."""
    score = 0
    found = text.find(_FINDER_LIKE)
    while found != -1:
        after = found + len(_FINDER_LIKE)
        if "1" not in text[max(found - 4, 0) : found] or "1" not in text[after : after + 4]:
            score += 40
        else:
            after = found + 4  # the next match may share this one's last three modules
        found = text.find(_FINDER_LIKE, after)
    return score


def remask(symbol: segno.QRCode, mask: int) -> None:
    """Switch a symbol made with mask 0 to ``mask``, in place: flip the encoding region and
    rewrite the format information, both as segno itself places them."""
    if mask == 0:
        return
    version = version_of(symbol)
    layout = _layout(version)
    rows_width = layout.width // 2  # the columns are the low half
    change = (layout.flips[0] ^ layout.flips[mask]) >> rows_width
    text = format(_pack(symbol.matrix) ^ change, f"0{rows_width}b").encode()
    for index, row in enumerate(symbol.matrix):
        start = index * layout.stride + _GAP
        row[:] = text[start : start + layout.size].translate(_AS_MODULES)
    encoder.add_format_info(symbol.matrix, version, consts.ERROR_MAPPING[str(symbol.error)], mask)
    symbol.mask = mask


def version_of(symbol: segno.QRCode) -> int:
    """The version (1-40) of a symbol that is not a Micro QR."""
    version = symbol.version
    assert isinstance(version, int)  # never a Micro QR: make_qr passes micro=False
    return version
