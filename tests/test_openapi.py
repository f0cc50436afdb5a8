"""The OpenAPI document against the app: every route documented and vice versa, schemas valid
JSON Schema 2020-12, examples and real responses valid against them."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.helpers import NOW
from verifier.store import apikeys
from verifier.web.openapi import document

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
API_PREFIXES = ("/api/", "/.well-known/", "/healthz", "/openapi.json")
PAGE_PREFIXES = ("/v/", "/V/")
NIK = "3201000000000017"


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    """The document as served (with an example server)."""
    return document("https://sertifikat.example.id")


def _openapi_path(rule: str) -> str:
    """Werkzeug's ``/a/<conv:name>`` as OpenAPI's ``/a/{name}``; /V/ is the alias of /v/."""
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)
    return "/v/" + path[3:] if path.startswith("/V/") else path


def _routes(app, prefixes: tuple[str, ...]) -> set[tuple[str, str]]:
    return {
        (_openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(prefixes)
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def _documented(doc: dict[str, Any], prefixes: tuple[str, ...]) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in doc["paths"].items()
        if path.startswith(prefixes)
        for method in item
        if method in HTTP_METHODS
    }


def test_document_is_openapi_3_1(doc):
    assert doc["openapi"] == "3.1.0"
    assert doc["jsonSchemaDialect"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["info"]["title"] and doc["info"]["version"]


def test_every_api_route_is_documented_and_vice_versa(app, doc):
    assert _routes(app, API_PREFIXES) == _documented(doc, API_PREFIXES)


def test_qr_landing_page_is_documented(app, doc):
    routes = _routes(app, PAGE_PREFIXES)
    assert routes and routes == _documented(doc, ("/v/",))
    responses = doc["paths"]["/v/{payload}"]["get"]["responses"]
    assert set(responses) == {"200", "429", "503"}  # rate limit and database down, as pages
    assert all("text/html" in response["content"] for response in responses.values())


def test_document_passes_the_openapi_validator(doc):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)


@pytest.mark.parametrize("status", ["200", "400", "413", "415", "422", "429", "503"])
def test_verify_documents_its_status_codes(doc, status):
    assert status in doc["paths"]["/api/v1/verify"]["post"]["responses"]


def test_agency_operations_require_the_api_key_and_document_401(doc):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            agency = path.startswith(("/api/v1/credentials", "/api/v1/audit"))
            owner = path.startswith("/api/v1/projects")
            optional = path == "/api/v1/crew-check"  # public; a project owner's key does more
            assert ("security" in operation) is (agency or owner or optional), (path, method)
            if agency:
                assert operation["security"] == [{"apiKey": []}], (path, method)
            if owner:
                assert operation["security"] == [{"ownerKey": []}], (path, method)
            if optional:
                assert operation["security"] == [{}, {"ownerKey": []}]
            if agency or owner or optional:
                assert {"401", "429", "503"} <= set(operation["responses"]), (path, method)


def test_both_nik_search_forms_and_the_list_are_documented(doc):
    from verifier.web.agency_api import LIST_PARAMETERS

    query = doc["paths"]["/api/v1/credentials"]["get"]["parameters"]
    assert query[0]["name"] == "nik"
    # Every parameter the view accepts is documented, and only those.
    assert {p["name"] for p in query} == LIST_PARAMETERS | {"nik"}
    assert not any(p["required"] for p in query)
    assert "post" in doc["paths"]["/api/v1/credentials/search"]


def test_audit_parameters_are_documented(doc):
    from verifier.web.agency_api import AUDIT_PARAMETERS

    query = doc["paths"]["/api/v1/audit"]["get"]["parameters"]
    assert {p["name"] for p in query} == AUDIT_PARAMETERS


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def test_every_reference_resolves(doc):
    for ref in _refs(doc):
        target: Any = doc
        assert ref.startswith("#/"), ref
        for part in ref[2:].split("/"):
            target = target[part]


@pytest.mark.parametrize("name", sorted(document("https://x.example")["components"]["schemas"]))
def test_component_schemas_are_json_schema_2020_12(doc, name):
    Draft202012Validator.check_schema(doc["components"]["schemas"][name])


def _validator(doc: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """Validate against ``schema`` with ``#/components/...`` references resolving in ``doc``."""
    root = {**schema, "components": doc["components"]}
    return Draft202012Validator(root)


def test_schema_examples_are_valid(doc):
    for schema in doc["components"]["schemas"].values():
        for example in schema.get("examples", []):
            _validator(doc, schema).validate(example)
        for sub in schema.get("properties", {}).values():
            for example in sub.get("examples", []):
                Draft202012Validator(sub).validate(example)


def _check(doc: dict[str, Any], response, path: str, method: str = "get") -> None:
    """The response body validates against what the document says for its status code."""
    operation = doc["paths"][path][method]
    documented = operation["responses"][str(response.status_code)]
    if "$ref" in documented:
        documented = doc["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
    media = documented["content"][response.mimetype]
    if response.mimetype.endswith("json"):
        _validator(doc, media["schema"]).validate(response.get_json(force=True))


def test_public_responses_match_the_document(client, doc, contoh, issue, make_agency):
    token = issue(now=int(time.time()) - 60, nik=NIK).token
    make_agency("balai-jakons", levels=(7, 9), name="Balai Jasa Konstruksi")
    verify = "/api/v1/verify"
    _check(doc, client.post(verify, json={"token": token}), verify, "post")
    _check(doc, client.post(verify, json={"token": token, "nik": NIK}), verify, "post")
    _check(doc, client.post(verify, json={"token": "x", "nik": NIK}), verify, "post")
    _check(doc, client.post(verify, json={"token": 1}), verify, "post")
    _check(doc, client.post(verify, data="x", content_type="text/plain"), verify, "post")
    _check(doc, client.post(verify, json={"token": "x", "nik": "1"}), verify, "post")
    _check(
        doc, client.post(verify, data="x" * 20000, content_type="application/json"), verify, "post"
    )
    for path in ("/.well-known/jwks.json", "/api/v1/agencies", "/healthz", "/openapi.json"):
        _check(doc, client.get(path), path)


def test_agency_responses_match_the_document(client, doc, contoh):
    auth = {"Authorization": f"Bearer {apikeys.create('lsp-contoh', NOW)['api_key']}"}
    base = "/api/v1/credentials"
    body = {"holder_name": "Rina Marlina", "job_code": "ME063100", "level": 3, "nik": NIK}
    issued = client.post(base, json=body, headers=auth)
    _check(doc, issued, base, "post")
    _check(doc, client.post(base, json={**body, "level": 9}, headers=auth), base, "post")
    _check(
        doc,
        client.post(base, json={**body, "number": issued.get_json()["number"]}, headers=auth),
        base,
        "post",
    )
    _check(doc, client.post(base, json=body), base, "post")
    _check(doc, client.get(f"{base}?nik={NIK}", headers=auth), base)
    _check(
        doc,
        client.post(f"{base}/search", json={"nik": NIK}, headers=auth),
        f"{base}/search",
        "post",
    )
    location = issued.headers["Location"]
    one = f"{base}/{{number}}"
    _check(doc, client.get(location, headers=auth), one)
    _check(doc, client.get(f"{base}/none", headers=auth), one)
    _check(doc, client.get(f"{location}/qr.svg", headers=auth), f"{one}/qr.svg")
    _check(doc, client.get(f"{location}/qr.png", headers=auth), f"{one}/qr.png")
    for action, payload in (
        ("suspend", {"reason": "investigation"}),
        ("reinstate", None),
        ("revoke", {"reason": "fraud", "note": "x"}),
        ("suspend", {"reason": "other"}),
    ):
        response = client.post(f"{location}/{action}", json=payload, headers=auth)
        _check(doc, response, f"{one}/{action}", "post")
    _check(doc, client.get("/api/v1/audit", headers=auth), "/api/v1/audit")
