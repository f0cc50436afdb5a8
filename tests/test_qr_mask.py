"""The mask verifier.qr.mask picks, and the symbol it leaves, are segno's own, byte for byte."""

from __future__ import annotations

import io
import random

import segno
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from segno import consts, encoder

from verifier.qr import mask, render


def segno_svg(symbol: segno.QRCode) -> bytes:
    buffer = io.BytesIO()
    symbol.save(buffer, kind="svg", scale=render.SVG_SCALE, border=render.BORDER, xmldecl=True)
    return buffer.getvalue()


def test_make_qr_is_segnos_own_symbol_with_its_automatic_mask() -> None:
    rng = random.Random(7)
    prefix = "HTTPS://SERTIFIKAT.EXAMPLE.ID/V/"
    masks = set()
    for _ in range(64):
        url = prefix + "".join(rng.choice("0123456789") for _ in range(rng.randint(300, 420)))
        expected = segno.make(
            [(prefix, consts.MODE_ALPHANUMERIC), (url[len(prefix) :], consts.MODE_NUMERIC)],
            error="q",
            boost_error=False,
            micro=False,
        )
        ours = render.make_qr(url)
        assert (ours.mask, ours.version, ours.matrix) == (
            expected.mask,
            expected.version,
            expected.matrix,
        )
        assert render.qr_svg(url).encode() == segno_svg(expected)
        masks.add(ours.mask)
    assert masks == set(range(8))  # every mask won at least once: no branch left untested


@settings(max_examples=60, deadline=None)
@given(
    length=st.integers(min_value=1, max_value=1200),
    seed=st.integers(min_value=0, max_value=2**32),
    alphabet=st.sampled_from(
        [
            "0123456789",
            "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:",
            "abcdefghijklmnopqrstuvwxyz0123456789/",
        ]
    ),
    level=st.sampled_from("lmqh"),
)
def test_mask_choice_matches_segno_at_every_level_and_size(
    length: int, seed: int, alphabet: str, level: str
) -> None:
    rng = random.Random(seed)
    text = "".join(rng.choice(alphabet) for _ in range(length))
    try:
        expected = segno.make(text, error=level, micro=False, boost_error=False)
    except segno.DataOverflowError:
        assume(False)
    symbol = segno.make(text, error=level, micro=False, boost_error=False, mask=0)
    mask.remask(symbol, mask.best_mask(symbol))
    assert (symbol.mask, symbol.matrix) == (expected.mask, expected.matrix)


@settings(max_examples=200, deadline=None)
@given(
    version=st.integers(min_value=1, max_value=12),
    seed=st.integers(min_value=0, max_value=2**32),
    pieces=st.lists(
        st.sampled_from(["1011101", "0000", "1111", "10", "0", "1"]), min_size=1, max_size=12
    ),
)
def test_penalty_is_segnos_on_any_modules(version: int, seed: int, pieces: list[str]) -> None:
    """Scored on modules built from finder-like runs, overlaps and long runs, where the counting
    rules are easiest to get subtly wrong."""
    rng = random.Random(seed)
    layout = mask._layout(version)
    size = layout.size
    rows = []
    for _ in range(size):
        text = ""
        while len(text) < size:
            text += rng.choice(pieces) if rng.random() < 0.8 else rng.choice("01")
        rows.append(bytearray(int(bit) for bit in text[:size]))
    columns = [bytes(column) for column in zip(*rows, strict=True)]
    expected = sum(encoder.mask_scores(tuple(rows), size, size))
    assert mask._penalty(mask._pack(rows + columns), layout) == expected
