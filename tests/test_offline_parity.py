"""The offline verifier in JavaScript reaches the server's verdicts: node replays the vectors the
Python core makes at test time (tests/offline_vectors.py) and every JS unit test in tests/js.

The Python offline verifier is checked against the server while the vectors are made; node then
checks the JavaScript against those vectors (statuses, §3 result objects in both languages,
verdict markup byte for byte, whole offline pages, bundles, deltas and refusals, strict JSON,
base64url, QR payloads and Wycheproof signatures). Any drift between the three fails here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests import offline_vectors
from tests.helpers import NOW
from verifier.core.verify import Status

ROOT = Path(__file__).resolve().parent.parent
JS_TESTS = ROOT / "tests" / "js"
NODE_TIMEOUT = 600  # seconds


def node_executable() -> str:
    """node, which every machine here has; in CI its absence fails rather than skips."""
    found = shutil.which("node")
    if found is None:
        message = "node is not installed: apt-get install nodejs"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} (required in CI)")
        pytest.skip(message)
    return found


@pytest.fixture
def vectors(app, database, store, service, settings) -> dict[str, Any]:
    """The world of every status, a bundle key, and all vectors made from them."""
    return offline_vectors.make_vectors(app, store, service, settings.base_url)


def test_python_offline_verifier_agrees_with_the_server(vectors: dict[str, Any]) -> None:
    """Made while the vectors were (offline_vectors.expected_result asserts each case)."""
    statuses = {case["status"] for case in vectors["cases"]}
    assert statuses == {status.value for status in Status}
    fresh = [case for case in vectors["cases"] if case["now"] == NOW]
    assert not any(case["status"] == "stale_data" for case in fresh)
    assert len(vectors["cases"]) > 300


@pytest.mark.system  # node's test runner as a process
def test_javascript_agrees_with_python(vectors: dict[str, Any], tmp_path: Path) -> None:
    node = node_executable()
    path = tmp_path / "vectors.json"
    path.write_text(json.dumps(vectors), encoding="utf-8")
    files = sorted(str(test) for test in JS_TESTS.glob("*.test.mjs"))
    assert any(name.endswith("parity.test.mjs") for name in files)
    done = subprocess.run(
        [node, "--test", "--test-reporter=tap", *files],
        env={**os.environ, "SKK_PARITY_VECTORS": str(path)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
        check=False,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-30_000:]
    assert "# fail 0" in report and "# pass 0" not in report, report[-5000:]
    print(f"node: {report.splitlines()[-8:]}; vectors {offline_vectors.token_digest(vectors)}")
