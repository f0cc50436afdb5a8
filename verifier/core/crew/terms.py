"""A project's terms as owners type them: name, dates (YYYY-MM-DD, days in WIB), requirements.

Each problem is an InvalidInput naming the field, and never repeats text that could be a NIK.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from verifier.core.credential import JOB_CODE_RE, check_text
from verifier.core.crew.evaluation import ProjectTerms, Requirement
from verifier.core.errors import InvalidInput
from verifier.core.nik import holds_nik_like
from verifier.core.text import clean_text

MAX_PROJECT_NAME = 200
MAX_REQUIREMENTS = 100
#: Dates outside these years are typing errors, not projects.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def project_name(raw: str | None, *, required: bool = False) -> str | None:
    """A project name: text of at most 200 characters, never holding a NIK."""
    name = clean_text(raw or "")
    if not name:
        if required:
            raise InvalidInput("name is required", field="name")
        return None
    if holds_nik_like(name):
        raise InvalidInput("a project name must not hold a NIK", field="name")
    try:
        return check_text(name, "project name", MAX_PROJECT_NAME)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="name") from None


def calendar_date(raw: str | None, field: str, *, required: bool = False) -> date | None:
    """A ``YYYY-MM-DD`` date between 2000 and 2100."""
    text = (raw or "").strip()
    if not text:
        if required:
            raise InvalidInput(f"{field} is required (YYYY-MM-DD)", field=field)
        return None
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None or not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidInput(
            f"{field} must be a date like 2026-12-31, between {FIRST_YEAR} and {LAST_YEAR}",
            field=field,
        )
    return day


def requirements(items: Sequence[Mapping[str, Any]]) -> tuple[Requirement, ...]:
    """Requirements from ``[{"job_code", "min_level"}]``; a job code at most once."""
    if len(items) > MAX_REQUIREMENTS:
        raise InvalidInput(f"at most {MAX_REQUIREMENTS} requirements", field="requirements")
    found: dict[str, Requirement] = {}
    for index, item in enumerate(items):
        where = f"requirements[{index}]"
        code = item.get("job_code")
        level = item.get("min_level")
        if not isinstance(code, str) or not JOB_CODE_RE.fullmatch(code.strip().upper()):
            raise InvalidInput(
                f"{where}.job_code must be a job code like ME063100", field="requirements"
            )
        if type(level) is not int or not 1 <= level <= 9:
            raise InvalidInput(
                f"{where}.min_level must be a whole number from 1 to 9", field="requirements"
            )
        code = code.strip().upper()
        if code in found:
            raise InvalidInput(f"{where}: job code {code} is listed twice", field="requirements")
        found[code] = Requirement(code, level)
    return tuple(found.values())


def requirements_text(raw: str | None) -> tuple[Requirement, ...]:
    """Requirements typed as ``ME063100:3, SI013017:2`` (the page's field and the query form)."""
    items: list[dict[str, Any]] = []
    for part in (raw or "").replace(";", ",").replace("\n", ",").split(","):
        if not part.strip():
            continue
        code, colon, level = part.partition(":")
        if not colon or not level.strip().isascii() or not level.strip().isdigit():
            raise InvalidInput(
                "requirements must look like ME063100:3, SI013017:2 (job code, "
                "colon, minimum level)",
                field="requirements",
            )
        items.append({"job_code": code, "min_level": int(level.strip())})
    return requirements(items)


def one_off(name: str | None, ends: str | None, required: tuple[Requirement, ...]) -> ProjectTerms:
    """The terms of a one-off check: everything optional."""
    return ProjectTerms(project_name(name), None, calendar_date(ends, "ends"), required)


def watched(
    name: str | None, starts: str | None, ends: str | None, required: tuple[Requirement, ...]
) -> ProjectTerms:
    """The terms of a watched project: name and both dates required, ends not before starts."""
    start = calendar_date(starts, "starts", required=True)
    end = calendar_date(ends, "ends", required=True)
    assert start is not None and end is not None
    if end < start:
        raise InvalidInput("ends must not be before starts", field="ends")
    return ProjectTerms(project_name(name, required=True), start, end, required)
