"""The layers hold: the core loads no storage, web or CLI library, and the import contracts in
pyproject.toml (``lint-imports``, run by ``make lint``) fail on an import across a layer, or on
Peewee used outside the store."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

#: A fresh interpreter, and lint-imports as a process.
pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
#: What an offline verifier must be able to run without.
NOT_IN_THE_CORE = ("peewee", "playhouse", "flask", "werkzeug", "click", "segno", "PIL", "zxingcpp")

#: Every module of the core, and verification through its entry point, in a fresh interpreter.
_IMPORT_THE_CORE = """
import importlib, json, pkgutil, sys
import verifier.core
for module in pkgutil.walk_packages(verifier.core.__path__, "verifier.core."):
    importlib.import_module(module.name)
from verifier.core.verify import verify_token
from verifier.core.links import extract_token
assert callable(verify_token) and callable(extract_token)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""

#: What `skk verify --bundle` runs on a laptop: read a bundle, verify against it (docs/offline.md
#: §9), in a fresh interpreter.
_IMPORT_THE_OFFLINE_VERIFIER = """
import json, sys
from verifier.core.bundle import apply_delta, read, read_key_set
from verifier.core.offline import OfflineVerifier, data_age
assert callable(read) and callable(read_key_set) and callable(apply_delta)
assert callable(OfflineVerifier.verify) and callable(data_age)
print(json.dumps(sorted(sys.modules)))
"""


def test_core_loads_no_storage_web_or_cli_library() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_THE_CORE],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    loaded = set(json.loads(done.stdout))
    assert "verifier" in loaded and "cryptography" in loaded  # the check itself ran
    assert loaded.isdisjoint(NOT_IN_THE_CORE), sorted(loaded & set(NOT_IN_THE_CORE))


def test_the_offline_verifier_loads_only_the_core() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_THE_OFFLINE_VERIFIER],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    loaded = set(json.loads(done.stdout))
    assert {"verifier.core.bundle", "verifier.core.offline", "cryptography"} <= loaded
    outside_the_core = {
        name
        for name in loaded
        if name.startswith("verifier.")
        and name != "verifier.core"
        and not name.startswith("verifier.core.")
    }
    assert outside_the_core == set(), sorted(outside_the_core)
    libraries = {name.split(".")[0] for name in loaded}
    assert libraries.isdisjoint(NOT_IN_THE_CORE), sorted(libraries & set(NOT_IN_THE_CORE))


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    # From the copy's own folder, so that the copy, not the installed package, is analysed.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=tree,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
    )


@pytest.fixture
def copy_of_the_package(tmp_path: Path) -> Path:
    """The package's sources and pyproject.toml (which holds the contracts) in a fresh folder."""
    shutil.copytree(
        ROOT / "verifier",
        tmp_path / "verifier",
        ignore=shutil.ignore_patterns("__pycache__", "templates", "static", "translations", "data"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_contracts_hold_for_the_package_as_it_is(copy_of_the_package: Path) -> None:
    done = _lint_imports(copy_of_the_package)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "bad_import", "contract"),
    [
        pytest.param("core/verify.py", "import peewee", "The core imports no", id="core-peewee"),
        pytest.param("core/credential.py", "import flask", "The core imports no", id="core-flask"),
        pytest.param("core/links.py", "import click", "The core imports no", id="core-click"),
        pytest.param(
            "core/trust.py", "from verifier.store import registry", "Layers", id="core-store"
        ),
        pytest.param("core/bundle.py", "import peewee", "The core imports no", id="bundle-peewee"),
        pytest.param(
            "core/offline.py",
            "from verifier.store import bundle_source",
            "Layers",
            id="offline-store",
        ),
        pytest.param("core/jws.py", "from verifier.web import api", "Layers", id="core-web"),
        pytest.param("store/records.py", "from verifier.cli import base", "Layers", id="store-cli"),
        pytest.param(
            "store/registry.py", "from verifier.web import state", "Layers", id="store-web"
        ),
        pytest.param("web/api.py", "from verifier.cli import base", "Layers", id="web-cli"),
        pytest.param("cli/base.py", "from verifier.web import problems", "Layers", id="cli-web"),
        pytest.param("qr/render.py", "from verifier.store import models", "Layers", id="qr-store"),
        pytest.param(
            "web/pages.py", "import peewee", "Only the store speaks Peewee", id="web-peewee"
        ),
        pytest.param(
            "issuance/service.py",
            "from playhouse import db_url",
            "Only the store speaks Peewee",
            id="issuance-playhouse",
        ),
        pytest.param(
            "core/crew/evaluation.py",
            "import peewee",
            "The core imports no",
            id="crew-rules-peewee",
        ),
        pytest.param(
            "core/crew/roster.py",
            "from verifier.issuance import cohort_file",
            "Layers",
            id="crew-rules-reader",
        ),
        pytest.param(
            "store/outbox.py",
            "from verifier.crew import notifier",
            "Layers",
            id="store-crew-service",
        ),
        pytest.param(
            "crew/check.py", "from verifier.web import state", "Layers", id="crew-service-web"
        ),
        pytest.param(
            "printing/crew_report.py",
            "from verifier.crew import check",
            "Layers",
            id="printing-crew-service",
        ),
        pytest.param(
            "crew/notifier.py",
            "import peewee",
            "Only the store speaks Peewee",
            id="crew-service-peewee",
        ),
    ],
)
def test_an_import_across_a_layer_breaks_a_contract(
    copy_of_the_package: Path, module: str, bad_import: str, contract: str
) -> None:
    source = copy_of_the_package / "verifier" / module
    source.write_text(source.read_text() + f"\n{bad_import}  # noqa\n")
    done = _lint_imports(copy_of_the_package)
    assert done.returncode == 1, done.stdout + done.stderr
    broken = [line for line in done.stdout.splitlines() if line.endswith(" BROKEN")]
    # A core module importing the store breaks the pure-core contract too, through the store.
    assert any(line.startswith(contract) for line in broken), done.stdout
