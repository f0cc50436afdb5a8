"""The everyday checks stay what README "Habits" promises: git hooks that fetch nothing and run
the locked tools, the format checked by `make lint`, the unit tier in parallel, mypy strict, a
coverage floor."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
HOOK_IDS = {"ruff-format", "ruff-check", "mypy", "import-linter"}


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _make_target(name: str) -> list[str]:
    """The recipe lines of a Makefile target."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(rf"^{name}:[^\n]*\n((?:\t[^\n]*\n)+)", text, re.MULTILINE)
    assert match is not None, f"no target {name}"
    return [line.strip() for line in match.group(1).splitlines()]


def test_pre_commit_hooks_are_local_and_run_the_locked_tools() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    # A hook repository other than "local" would be cloned from the network at commit time.
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hooks = config["repos"][0]["hooks"]
    assert {hook["id"] for hook in hooks} == HOOK_IDS
    for hook in hooks:
        assert hook["language"] == "system", hook["id"]
        assert hook["entry"].startswith(".venv/bin/"), hook["id"]


def test_lint_checks_the_format_that_fmt_writes() -> None:
    lint, fmt = _make_target("lint"), _make_target("fmt")
    assert "$(BIN)/ruff format --check $(PY_SOURCES)" in lint
    assert "$(BIN)/ruff format $(PY_SOURCES)" in fmt
    assert "$(BIN)/ruff check $(PY_SOURCES)" in lint
    assert "$(BIN)/ruff check --fix $(PY_SOURCES)" in fmt


def test_the_unit_tier_runs_on_every_core() -> None:
    assert "$(BIN)/python -m pytest -m unit -n auto" in _make_target("test-fast")


def test_mypy_is_strict_and_coverage_has_a_floor() -> None:
    tools = _pyproject()["tool"]
    assert tools["mypy"]["strict"] is True
    assert "ignore_errors" not in tools["mypy"]
    floor = tools["coverage"]["report"]["fail_under"]
    assert 80 <= floor < 100
