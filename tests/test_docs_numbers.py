"""Docs that stay true (issue 14, item 8): every number the README, docs/*.md and the privacy
notice state about the service is read out of the text and compared with the constant the code
uses, so a doc left behind by a change fails here instead of misleading an operator.

Nothing is hard-coded on the code side: defaults come from Settings and the modules' constants,
so a changed limit (e.g. /cek's) only needs its docs to follow.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from limits import parse_many

from verifier.config import (
    DEFAULT_BASE_URL,
    DEFAULT_LEEWAY_SECONDS,
    DEFAULT_OFFLINE_MAX_AGE,
    DEFAULT_RATE_LIMITS,
    MAX_LEEWAY_SECONDS,
    MAX_OFFLINE_MAX_AGE,
    MAX_PROXY_HOPS,
    MIN_OFFLINE_MAX_AGE,
    RateLimit,
)
from verifier.core.crew.roster import MAX_WORKERS
from verifier.staff import imports
from verifier.store import (
    cohort_imports,
    idempotency,
    nik_match,
    outbox,
    projects,
    pruning,
    staff_devices,
    staff_sessions,
)
from verifier.store.migrations import SCHEMA_VERSION
from verifier.web import batch_api, crew_api
from verifier.web.factory import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DEPLOY = ROOT / "docs" / "deploy.md"
OPERATIONS = ROOT / "docs" / "operations.md"
OFFLINE = ROOT / "docs" / "offline.md"
CONSOLE = ROOT / "docs" / "console.md"
CREW = ROOT / "docs" / "crew-check.md"
PRIVACY = ROOT / "verifier" / "templates" / "privacy.html"
DOCS = (README, DEPLOY, OPERATIONS, OFFLINE, CONSOLE, CREW)
#: Where the settings are read: the app's and gunicorn's.
SETTINGS_SOURCES = (ROOT / "verifier" / "config.py", ROOT / "verifier" / "gunicorn_conf.py")

MIB, KIB, DAY, HOUR, MINUTE = 2**20, 2**10, 86_400, 3_600, 60
UNITS = {"second": 1, "minute": MINUTE, "hour": HOUR, "day": DAY, "week": 7 * DAY}


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def flat(path: Path) -> str:
    """The text with line breaks as spaces: a sentence may wrap anywhere."""
    return " ".join(text(path).split())


def found(pattern: str, path: Path, count: int = 1) -> list[tuple[str, ...]]:
    """Every match of ``pattern`` in the flattened text; at least ``count`` of them, or the doc
    no longer says what this test checks (which must fail too, never pass silently)."""
    matches = [m.groups() for m in re.finditer(pattern, flat(path))]
    assert len(matches) >= count, f"{path.name} no longer states /{pattern}/"
    return matches


def seconds(amount: str, unit: str) -> int:
    """``"a"``/``"one"``/``"30"`` and ``"days"``/``"hour"`` as seconds."""
    number = 1 if amount in ("a", "an", "one") else int(amount.replace(",", ""))
    return number * UNITS[unit.rstrip("s")]


def section(path: Path, number: int) -> str:
    """Section ``## N.`` of a doc, up to the next ``## `` heading."""
    match = re.search(rf"^## {number}\. .*?(?=^## |\Z)", text(path), re.MULTILINE | re.DOTALL)
    assert match, f"{path.name} has no section {number}"
    return match.group(0)


def table_rows(markdown: str) -> list[list[str]]:
    """The cells of every table row (header and separator rows included)."""
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in markdown.splitlines()
        if line.startswith("|")
    ]


def names(cell: str) -> set[str]:
    """The ``SKK_*`` names in a table's first cell (```SKK_BIND`, `SKK_WORKERS```)."""
    return set(re.findall(r"`(SKK_[A-Z_]*[A-Z])`", cell))


def code_settings() -> set[str]:
    """Every SKK_* variable the code reads: literal names, and each rate limit's variable."""
    literal = {
        name
        for source in SETTINGS_SOURCES
        for name in re.findall(r'"(SKK_[A-Z_]*[A-Z])"', text(source))
    }
    return literal | {limit.variable for limit in RateLimit}


# -- schema version ---------------------------------------------------------------------------


def test_schema_version_in_the_docs_is_the_codes() -> None:
    for path in (DEPLOY, README, OPERATIONS):
        for (version,) in found(r"created schema version (\d+)", path, 0):
            assert int(version) == SCHEMA_VERSION, path.name
        for before, after in found(r"upgraded schema from version (\d+) to (\d+)", path, 0):
            assert (int(before), int(after)) == (SCHEMA_VERSION - 1, SCHEMA_VERSION), path.name
    assert found(r"created schema version (\d+)", DEPLOY)
    assert found(r"upgraded schema from version (\d+) to (\d+)", DEPLOY)


# -- body limits --------------------------------------------------------------------------------


def _proxy_bytes(size: str, unit: str) -> int:
    return int(size) * {"k": KIB, "m": MIB}[unit]


def test_batch_body_and_row_limits_match_the_code() -> None:
    ((size, unit, mib, rows),) = found(
        r"client_max_body_size (\d+)([km]); # the app allows (\d+) MiB, ([\d,]+) rows", DEPLOY
    )
    assert int(mib) * MIB == batch_api.MAX_BODY_BYTES
    assert int(rows.replace(",", "")) == batch_api.MAX_ROWS
    # The proxy lets through what the app takes, so the app answers with its own 413.
    assert _proxy_bytes(size, unit) >= batch_api.MAX_BODY_BYTES
    ((mib, rows),) = found(r"at most (\d+) MiB and ([\d,]+) rows", README)
    assert (int(mib) * MIB, int(rows.replace(",", ""))) == (
        batch_api.MAX_BODY_BYTES,
        batch_api.MAX_ROWS,
    )
    ((rows, mib),) = found(r"at most ([\d,]+) rows, (\d+) MiB", CONSOLE)
    assert (int(rows.replace(",", "")), int(mib) * MIB) == (
        imports.MAX_ROWS,
        batch_api.MAX_BODY_BYTES,
    )
    ((mib,),) = found(r"takes cohort uploads of (\d+) MiB", DEPLOY)
    assert int(mib) * MIB == batch_api.MAX_BODY_BYTES


def test_crew_list_limits_match_the_code() -> None:
    ((workers, mib),) = found(
        r"Crew lists \(docs/crew-check.md\): up to ([\d,]+) workers, "
        r"(\d+) MiB",
        DEPLOY,
    )
    assert int(workers.replace(",", "")) == MAX_WORKERS
    assert int(mib) * MIB == crew_api.MAX_BODY_BYTES
    ((mib,),) = found(r"The body limit of these routes is (\d+) MiB", CREW)
    assert int(mib) * MIB == crew_api.MAX_BODY_BYTES
    crew_location = re.search(
        r"location ~ \^/\(api/v1/crew-check.*?client_max_body_size "
        r"(\d+)([km]);",
        text(DEPLOY),
        re.DOTALL,
    )
    assert crew_location and _proxy_bytes(*crew_location.groups()) >= crew_api.MAX_BODY_BYTES


def test_the_small_body_limit_matches_the_app() -> None:
    ((size, unit, kib),) = found(
        r"client_max_body_size (\d+)([km]); # the app refuses over (\d+) KiB with 413", DEPLOY
    )
    assert int(kib) * KIB == DEFAULTS["MAX_CONTENT_LENGTH"]
    assert _proxy_bytes(size, unit) >= DEFAULTS["MAX_CONTENT_LENGTH"]


# -- settings and their defaults ------------------------------------------------------------------


def test_every_setting_the_code_reads_is_in_both_settings_tables() -> None:
    wanted = code_settings()
    readme = {name for row in table_rows(text(README)) for name in names(row[0])}
    assert wanted <= readme, f"missing from the README's table: {sorted(wanted - readme)}"
    deploy = {
        name
        for number in (3, 8)
        for row in table_rows(section(DEPLOY, number))
        for name in names(row[0]) | names(row[1] if len(row) > 1 else "")
    }
    assert wanted <= deploy, f"missing from deploy.md §3/§8: {sorted(wanted - deploy)}"
    # ... and no table documents a setting the code no longer reads.
    assert readme <= wanted and deploy <= wanted, sorted((readme | deploy) - wanted)


def _readme_defaults() -> dict[str, str]:
    rows = table_rows(section_by_title(README, "## Configuration"))
    return {name: row[1] for row in rows for name in names(row[0])}


def section_by_title(path: Path, heading: str) -> str:
    match = re.search(
        rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", text(path), re.MULTILINE | re.DOTALL
    )
    assert match, f"{path.name} has no {heading!r}"
    return match.group(0)


def test_setting_defaults_and_bounds_match_the_code() -> None:
    defaults = _readme_defaults()
    assert defaults["SKK_LEEWAY_SECONDS"] == f"`{DEFAULT_LEEWAY_SECONDS}`"
    assert defaults["SKK_OFFLINE_MAX_AGE"] == f"`{DEFAULT_OFFLINE_MAX_AGE}`"
    assert defaults["SKK_BASE_URL"] == f"`{DEFAULT_BASE_URL}`"
    assert defaults["SKK_PROXY_HOPS"] == "`0`"
    gunicorn = text(ROOT / "verifier" / "gunicorn_conf.py")
    bind = re.search(r'"SKK_BIND", "([^"]+)"', gunicorn).group(1)
    workers = re.search(r'"SKK_WORKERS", "(\d+)"', gunicorn).group(1)
    assert defaults["SKK_BIND"] == f"`{bind}`, `{workers}`"
    for path, pattern in (
        (README, r"clock-skew allowance, (\d+)–(\d+)"),
        (DEPLOY, r"clock-skew allowance (\d+)–(\d+)"),
        (OFFLINE, r"`leeway` \| integer (\d+)–(\d+)"),
    ):
        ((low, high),) = found(pattern, path)
        assert (int(low), int(high)) == (0, MAX_LEEWAY_SECONDS), path.name
    ((low, high, unit),) = found(r"\((\d+) s to (\d+) (days)\)", README)
    assert int(low) == MIN_OFFLINE_MAX_AGE and seconds(high, unit) == MAX_OFFLINE_MAX_AGE
    ((age,),) = found(r"stays fresh, default (\d+)", DEPLOY)
    assert int(age) == DEFAULT_OFFLINE_MAX_AGE
    ((age, days),) = found(r"\(default (\d+) s, (\d+) days\)", OFFLINE)
    assert int(age) == DEFAULT_OFFLINE_MAX_AGE == int(days) * DAY
    assert MAX_PROXY_HOPS >= 1  # deploy.md's example sets 1


# -- rate limits -----------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", list(RateLimit), ids=lambda limit: limit.value)
def test_rate_limit_defaults_in_the_docs_are_the_codes(limit: RateLimit) -> None:
    default = DEFAULT_RATE_LIMITS[limit]
    readme = [row for row in table_rows(text(README)) if f"`{limit.variable}`" in row[0]]
    assert len(readme) == 1 and readme[0][1] == f"`{default}`", limit.variable
    deploy = [row for row in table_rows(section(DEPLOY, 8)) if f"`{limit.variable}`" in row[1]]
    assert len(deploy) == 1 and deploy[0][2] == f"`{default}`", limit.variable
    wanted = {
        (item.amount, item.GRANULARITY.seconds * item.multiples) for item in parse_many(default)
    }
    for path in DOCS:
        for line in text(path).splitlines():
            if f"`{limit.variable}`" not in line:
                continue
            # Anywhere else the variable's default is named, in notation or in words.
            for quoted in re.findall(r"`([^`]* per [^`]*)`", line):
                assert quoted == default, (path.name, line)
            for words in re.findall(r"default ((?:\d+ an? \w+(?: and |, )?)+)", line):
                stated = {(int(n), UNITS[u]) for n, u in re.findall(r"(\d+) an? (\w+)", words)}
                assert stated == wanted, (path.name, line)


def test_console_sign_in_limits_in_words_match_the_code() -> None:
    ((account, client, window, unit),) = found(
        r"at most (\d+) per account and (\d+) per client address in (\d+) (minutes)", CONSOLE
    )
    for limit, amount in (
        (RateLimit.CONSOLE_LOGIN_ACCOUNT, account),
        (RateLimit.CONSOLE_LOGIN_CLIENT, client),
    ):
        (item,) = parse_many(DEFAULT_RATE_LIMITS[limit])
        assert (item.amount, item.GRANULARITY.seconds * item.multiples) == (
            int(amount),
            seconds(window, unit),
        )


def test_nik_guessing_lock_in_the_docs_matches_the_code() -> None:
    assert nik_match.WINDOW_SECONDS == DAY  # the docs say "a day" and "per day"
    ((misses,),) = found(
        r"The NIK guessing lock \((\d+) wrong NIKs per credential per day\)", DEPLOY
    )
    assert int(misses) == nik_match.MAX_MISSES
    for (misses,) in found(r"(\d+) misses a day per credential", README, 2):
        assert int(misses) == nik_match.MAX_MISSES


# -- retention -------------------------------------------------------------------------------------


def test_the_privacy_notices_retention_is_what_pruning_does() -> None:
    # "Counters that limit repeated checks: at most one day." Rate counters last one window;
    # no default window is longer than a day, and NIK misses count (and are kept) a day.
    ((amount, unit),) = found(r"Counters that limit repeated checks: at most (one) (day)", PRIVACY)
    kept = seconds(amount, unit)
    longest = max(
        item.GRANULARITY.seconds * item.multiples
        for default in DEFAULT_RATE_LIMITS.values()
        for item in parse_many(default)
    )
    assert longest <= kept and kept >= nik_match.WINDOW_SECONDS
    ((days,),) = found(
        r"messages sent to the owner are deleted (\d+) days after they were "
        r"delivered",
        PRIVACY,
    )
    assert int(days) == outbox.KEEP_DONE_DAYS
    ((hours,),) = found(r"never a NIK\): deleted after (\d+) hours", PRIVACY)
    assert int(hours) * HOUR == idempotency.KEEP_SECONDS
    ((days,),) = found(r"at most (\d+) days after the project's end date", PRIVACY)
    assert int(days) == projects.KEEP_ENDED_DAYS
    ((projects_days, messages_days),) = found(
        r"Projects are deleted (\d+) days after they end and delivered messages after (\d+) "
        r"days",
        README,
    )
    assert (int(projects_days), int(messages_days)) == (
        projects.KEEP_ENDED_DAYS,
        outbox.KEEP_DONE_DAYS,
    )
    ((messages_days, projects_days),) = found(
        r"delivered and given-up messages after (\d+) days, projects \(with crews and "
        r"subscriptions\) (\d+) days",
        CREW,
    )
    assert (int(projects_days), int(messages_days)) == (
        projects.KEEP_ENDED_DAYS,
        outbox.KEEP_DONE_DAYS,
    )


def test_the_prune_table_lists_every_step_with_its_retention() -> None:
    rows = {row[0].strip("`"): row[1] for row in table_rows(section(DEPLOY, 10))[2:]}
    assert list(rows) == [step.table for step in pruning.PRUNE_STEPS]
    assert "at most one day" in rows["rate_counter"]
    assert "a day old" in rows["nik_miss"] and nik_match.WINDOW_SECONDS == DAY
    idle, absolute = re.search(
        r"idle \((\d+) minutes\) or absolute \((\d+) hours\)", rows["staff_session"]
    ).groups()
    assert (int(idle) * MINUTE, int(absolute) * HOUR) == (
        staff_sessions.IDLE_SECONDS,
        staff_sessions.ABSOLUTE_SECONDS,
    )
    assert "within a day" in rows["cohort_import"]
    assert cohort_imports.KEEP_UPLOAD_SECONDS == DAY
    assert rows["webhook_message"].startswith(f"{outbox.KEEP_DONE_DAYS} days after")
    assert rows["project"].startswith(f"{projects.KEEP_ENDED_DAYS} days after")
    assert rows["idempotency_record"].startswith(f"{idempotency.KEEP_SECONDS // HOUR} hours after")
    assert rows["staff_device"].startswith(f"{staff_devices.KEEP_SECONDS // DAY} days after")
    ((days,),) = found(r"a device is forgotten after\s+(\d+) days without a sign-in", CONSOLE)
    assert int(days) * DAY == staff_devices.KEEP_SECONDS
    ((idle, absolute),) = found(
        r"Sessions end after (\d+) minutes idle, (\d+) hours after "
        r"sign-in",
        CONSOLE,
    )
    assert (int(idle) * MINUTE, int(absolute) * HOUR) == (
        staff_sessions.IDLE_SECONDS,
        staff_sessions.ABSOLUTE_SECONDS,
    )
    for path in (README, CONSOLE):  # a console upload waits "at most a day"
        assert found(r"(at most a day)", path)
