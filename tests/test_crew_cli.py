"""`skk owner`, `skk apikey create --owner` and `skk notify run --once` through click's runner."""

from __future__ import annotations

import json
import time

import pytest

from tests.helpers import NOW
from verifier.core.crew import terms
from verifier.crew import webhooks
from verifier.store import apikeys, projects
from verifier.store.models import WebhookMessage

from .test_cli import as_json, skk  # noqa: F401 (the skk fixture)


@pytest.fixture
def initialised(skk):  # noqa: F811 (the imported fixture)
    assert skk("init").exit_code == 0


def test_owner_add_and_list(skk, initialised):  # noqa: F811
    added = as_json(skk("owner", "add", "pupr-tol", "--name", " Ditjen  Bina Marga ", "--json"))
    assert added == {"id": "pupr-tol", "name": "Ditjen Bina Marga"}
    assert as_json(skk("owner", "list", "--json")) == [added]
    again = skk("owner", "add", "pupr-tol", "--name", "X")
    assert again.exit_code == 1
    assert again.stderr.startswith("skk: project owner pupr-tol already exists (database ")
    bad = skk("owner", "add", "PUPR TOL", "--name", "X")
    assert bad.exit_code == 1 and "owner id must be" in bad.stderr
    assert skk("owner", "add", "pupr-2").exit_code == 2  # --name is required


def test_owner_keys_are_created_listed_and_revoked_like_agency_keys(skk, initialised):  # noqa: F811
    skk("owner", "add", "pupr-tol", "--name", "Ditjen Bina Marga")
    created = as_json(skk("apikey", "create", "--owner", "pupr-tol", "--json"))
    assert set(created) == {"key_id", "owner", "api_key"} and created["owner"] == "pupr-tol"
    assert created["api_key"].startswith(f"skk_{created['key_id']}_")
    listed = as_json(skk("apikey", "list", "--owner", "pupr-tol", "--json"))
    assert [(k["key_id"], k["owner"], k["revoked"]) for k in listed] == [
        (created["key_id"], "pupr-tol", False)
    ]
    assert created["api_key"] not in skk("apikey", "list", "--json").stdout
    assert as_json(skk("apikey", "revoke", created["key_id"], "--json"))["revoked"] is True
    both = skk("apikey", "create", "--owner", "pupr-tol", "--agency", "lsp-contoh")
    assert both.exit_code == 2 and "exactly one of --agency and --owner" in both.stderr
    assert skk("apikey", "create").exit_code == 2
    missing = skk("apikey", "create", "--owner", "nobody")
    assert missing.exit_code == 1 and "no project owner 'nobody'" in missing.stderr


def test_owner_key_authenticates_only_as_owner(skk, initialised):  # noqa: F811
    skk("owner", "add", "pupr-tol", "--name", "Ditjen Bina Marga")
    key = as_json(skk("apikey", "create", "--owner", "pupr-tol", "--json"))["api_key"]
    assert apikeys.authenticate_owner(key) == "pupr-tol"
    with pytest.raises(Exception, match="unknown or revoked"):
        apikeys.authenticate(key)


def test_notify_run_once_delivers_and_reports(skk, initialised, database):  # noqa: F811
    projects.add_owner("pupr-tol", "Ditjen Bina Marga", NOW)
    project = projects.create_project(
        "pupr-tol", terms.watched("Tol", "2026-01-01", "2099-12-31", ()), NOW
    )
    subscription, _ = webhooks.subscribe(
        project, "http://127.0.0.1:9/closed", NOW, local_allowed=True
    )
    now = int(time.time())  # the command runs on the wall clock
    WebhookMessage.create(
        message_id="msg_test",
        subscription=subscription.id,
        event_type="credential.revoked",
        body="{}",
        created_at=now,
        next_attempt_at=now,
        attempts=0,
    )
    result = skk("notify", "run", "--once", "--json", "--timeout", "2")
    tally = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    assert tally["failed"] == 1 and tally["delivered"] == 0  # nobody listens on port 9
    assert WebhookMessage.get().attempts == 1
    assert skk("notify", "run", "--once", "--lease-seconds", "1").exit_code == 2
