"""Guards that keep a fresh clone passing: nothing read from beside the repository, and the
environment exactly as locked.

Both are cheap (a parse of a few dozen files, a read of installed metadata), so they run every
time; they fail with the file and line, or the package, that broke the promise.
"""

from __future__ import annotations

import ast
import os
import re
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
GUARDED = ("tests", "benchmarks", "fuzz")
#: Top-level folders the tests may name: system programs and kernel files, never data.
SYSTEM_FOLDERS = frozenset({"usr", "bin", "proc", "dev", "sys"})
#: Calls whose string arguments are paths; a string joined with ``/`` is one too.
PATH_CALLS = frozenset({"open", "Path", "PurePath", "PosixPath", "join"})
DEV_LOCK = ROOT / "requirements-dev.txt"
_PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


#: The throw-away files test_the_guard_sees_each_way_out writes (one per process, so pytest-xdist
#: workers never share one); not part of the suite the scan guards.
PROBE_PREFIX = "_probe_escape"


def _guarded_files() -> list[Path]:
    return sorted(
        path
        for folder in GUARDED
        for path in (ROOT / folder).rglob("*.py")
        if not path.name.startswith(PROBE_PREFIX)
    )


def _path_problem(value: str) -> str | None:
    """Why the path ``value`` lies outside the repository, if it does."""
    if ".." in Path(value).parts:
        return f"relative path {value!r} climbs out"
    top = value.split("/")[1] if value.startswith("/") and len(value) > 1 else ""
    if top and top not in SYSTEM_FOLDERS and Path("/", top).is_dir():
        return f"absolute path {value!r}"
    return None


def _path_strings(node: ast.AST) -> list[str]:
    """The string constants ``node`` uses as paths: arguments of open/Path/join, operands of /."""
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        candidates = node.args if name in PATH_CALLS else []
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        candidates = [node.left, node.right]
    else:
        return []
    return [
        arg.value
        for arg in candidates
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
    ]


def _escapes(node: ast.AST, depth: int) -> str | None:
    """Why ``node`` addresses a path outside the repository, for a file ``depth`` folders deep."""
    for value in _path_strings(node):
        problem = _path_problem(value)
        if problem is not None:
            return problem
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "parents"
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, int)
        and node.slice.value > depth
    ):
        return f"parents[{node.slice.value}] is above the repository"
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        chain, inner = 0, node
        while isinstance(inner, ast.Attribute) and inner.attr == "parent":
            chain, inner = chain + 1, inner.value
        if chain > depth + 1:  # __file__ .parent is the file's own folder
            return f"{chain} × .parent is above the repository"
    return None


def escapes_in(path: Path) -> list[str]:
    """Every place in ``path`` that names a file outside the repository."""
    depth = len(path.relative_to(ROOT).parts) - 1  # folders between the file and ROOT
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        reason = _escapes(node, depth)
        if reason is not None:
            found.append(f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}: {reason}")
    return found


def test_tests_benchmarks_and_fuzzers_read_nothing_outside_the_repository() -> None:
    files = _guarded_files()
    assert len(files) > 30  # the scan really saw the suite
    problems = [problem for path in files for problem in escapes_in(path)]
    assert problems == []


@pytest.mark.parametrize(
    "source",
    [
        'Path(__file__).resolve().parents[2] / "shared" / "x.csv"',
        'Path(__file__).parent.parent.parent / "x.csv"',
        'open("../shared/fixtures/x.csv")',
        'Path("/work/shared/vectors/x.json")',
        'os.path.join(HERE, "..", "..", "x")',
    ],
)
def test_the_guard_sees_each_way_out(tmp_path: Path, source: str) -> None:
    probe = ROOT / "tests" / f"{PROBE_PREFIX}_{os.getpid()}.py"
    # Parsed in place (depth matters), then removed; never imported.
    probe.write_text(f"import os\nfrom pathlib import Path\nX = {source}\n", encoding="utf-8")
    try:
        assert escapes_in(probe)
    finally:
        probe.unlink()


def test_reading_inside_the_repository_passes_the_guard() -> None:
    for source in (
        'Path(__file__).resolve().parent / "data" / "x.csv"',
        'Path(__file__).resolve().parents[1] / "gunicorn.conf.py"',
        'Path("/usr/bin/chromium")',
        'Path("/proc/self/status")',
    ):
        tree = ast.parse(source)
        assert all(_escapes(node, 1) is None for node in ast.walk(tree)), source


def locked_versions(lock: Path) -> dict[str, str]:
    """``{normalised name: version}`` of every requirement the lock pins for this interpreter."""
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = _PINNED.match(line)
        if match is None:
            continue
        name, version, marker = match.groups()
        if marker is None or Marker(marker).evaluate():
            pins[canonicalize_name(name)] = version
    return pins


def test_installed_versions_are_the_locked_ones() -> None:
    pins = locked_versions(DEV_LOCK)
    assert {"flask", "pyjwt", "cryptography", "pytest"} <= pins.keys()
    installed = {
        canonicalize_name(dist.metadata["Name"]): dist.version for dist in metadata.distributions()
    }
    differing = {
        name: (version, installed.get(name))
        for name, version in pins.items()
        if installed.get(name) != version
    }
    assert differing == {}, (
        "installed differs from requirements-dev.txt (run `make test`, "
        f"which reinstalls from the lock): {differing}"
    )


def test_every_declared_dependency_is_locked() -> None:
    pins = locked_versions(DEV_LOCK)
    requirements = metadata.requires("skk-verifier") or []
    declared = {canonicalize_name(Requirement(req).name) for req in requirements}
    assert declared - pins.keys() == set()
