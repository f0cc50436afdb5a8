"""One worker of a crew as the owner gave it: its own module, so that the pure evaluation
(``verifier.core.crew.evaluation``) needs nothing of the roster's checks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RosterWorker:
    """One worker as given: a scanned credential, or agency + number + holder name."""

    position: int  # 1-based place in the list
    line: int | None  # line in the file; None for JSON
    ref: str | None
    credential: str | None = None
    agency: str | None = None
    number: str | None = None
    holder_name: str | None = None

    @property
    def by_number(self) -> bool:
        """Given by agency, number and name rather than by a scanned credential."""
        return self.credential is None
