"""The wheel is the product: built from the sources and installed into a fresh virtualenv outside
the checkout, it serves every page and prints certificates from any working directory.

The fresh environment gets the wheel only; its dependencies come from this test environment's
site-packages through a ``.pth`` path line (no network, and no editable-install finder, since a
path line's own ``.pth`` files are not read), so nothing of the checkout can be imported by
accident. ``import verifier`` is checked to resolve inside the fresh environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from . import serving

#: Builds and installs the wheel.
pytestmark = pytest.mark.system

ROOT = serving.ROOT
#: What a source checkout may hold besides the sources; none of it belongs in a build.
NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv",
    "instance",
    "keys",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    ".coverage",
    "node_modules",
)
COHORT = ROOT / "tests" / "data" / "cohort_pasuruan_2025.csv"


def _run(*command: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{command}: {done.stderr or done.stdout}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the sources (so the checkout gets no build/ folder)."""
    work = tmp_path_factory.mktemp("build")
    source = work / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_SOURCES)
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "--wheel-dir",
        work / "dist",
        source,
    )
    (built,) = (work / "dist").glob("skk_verifier-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv holding the wheel, its dependencies reachable by path only."""
    venv = tmp_path_factory.mktemp("installed") / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--quiet",
        "--no-deps",
        "--no-index",
        wheel,
    )
    site = Path(
        _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    )
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "_skk_test_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    return venv


def test_wheel_carries_pages_styles_print_templates_and_translations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for page in ("base", "verify", "check", "privacy", "error", "home", "unavailable"):
        assert f"verifier/templates/{page}.html" in names
    for document in ("_base", "certificate", "cards"):
        assert f"verifier/templates/print/{document}.html" in names
    assert "verifier/static/site.css" in names
    for module in ("sw", "periksa", "verify", "bundle", "render"):  # the offline app
        assert f"verifier/static/offline/{module}.js" in names
    for page in ("periksa", "offline_shell", "offline_missing", "_offline"):
        assert f"verifier/templates/{page}.html" in names
    assert "verifier/translations/en/LC_MESSAGES/messages.mo" in names
    assert "verifier/data/jabatan_kerja_2025.csv" in names
    assert not any(name.startswith(("tests/", "benchmarks/", "keys/")) for name in names)


def test_installed_wheel_serves_every_page_and_prints_from_anywhere(
    venv: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    port = serving.free_port()
    env = serving.server_environment(f"sqlite:///{elsewhere / 'skk.sqlite3'}", elsewhere, port)
    env.pop("PYTHONPATH", None)
    where = _run(
        venv / "bin" / "python",
        "-c",
        "import verifier; print(verifier.__file__)",
        cwd=elsewhere,
        env=env,
    )
    assert Path(where.strip()).is_relative_to(venv)

    skk = venv / "bin" / "skk"
    _run(skk, "init", cwd=elsewhere, env=env)
    demo = json.loads(_run(skk, "demo", "--json", cwd=elsewhere, env=env))
    valid_url = next(item["url"] for item in demo if item["status"] == "valid")
    _run(
        skk,
        "issue-batch",
        "--agency",
        "lsp-demo",
        COHORT,
        "--out",
        elsewhere / "prints",
        cwd=elsewhere,
        env=env,
    )
    certificates = sorted((elsewhere / "prints").rglob("*.html"))
    printed = "".join(path.read_text(encoding="utf-8") for path in certificates)
    assert "Yusuf Simanjuntak" in printed and "@page" in printed  # a fixture holder, A4 styles

    command = (
        str(venv / "bin" / "python"),
        "-m",
        "gunicorn",
        "-c",
        "python:verifier.gunicorn_conf",
        "verifier.wsgi:app",
    )
    with serving.Server(
        env, tmp_path / "access.log", tmp_path / "errors.log", command, cwd=elsewhere
    ) as client:
        verdict = client.request("GET", "/V/" + valid_url.split("/V/", 1)[1])
        assert verdict.status == 200 and b'data-status="valid"' in verdict.body
        assert b"SAH / BERLAKU" in verdict.body and b"<style>" in verdict.body
        check = client.request("GET", "/cek?lang=en")
        assert check.status == 200 and b"Manual check" in check.body
        privacy = client.request("GET", "/privasi")
        assert privacy.status == 200 and b"UU 27/2022" in privacy.body
        offline = client.request("GET", "/periksa")
        assert offline.status == 200 and b"/offline/periksa.js" in offline.body
        assert client.request("GET", "/sw.js").status == 200
        assert client.request("GET", "/offline/pack.json").status == 200
        assert client.request("GET", "/api/v1/offline/bundle").status == 200  # demo's bundle key
        missing = client.request("GET", "/no-such-page")
        assert missing.status == 404 and b"<style>" in missing.body


def test_installed_wheel_keeps_its_data_out_of_site_packages(venv: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKK_")}
    env.pop("PYTHONPATH", None)
    _run(venv / "bin" / "skk", "init", cwd=tmp_path, env=env)
    assert (venv / "var" / "skk-verifier" / "instance" / "skk.sqlite3").is_file()
