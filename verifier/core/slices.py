"""Cutting a sequence into consecutive slices: rows per SQL statement, pages per print file."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

Item = TypeVar("Item")


def slices(items: Sequence[Item], size: int) -> Iterator[Sequence[Item]]:
    """``items`` in consecutive slices of at most ``size`` (at least 1), in order."""
    if size < 1:
        raise ValueError("slice size must be at least 1")
    for start in range(0, len(items), size):
        yield items[start : start + size]
