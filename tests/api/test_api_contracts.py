"""What every service's HTTP API promises, read from the services themselves (their OpenAPI
documents, their tables, their error answers), so that a route or a column added later is held
to it without being listed here:

- every integer a caller sends (query, path, header, body) has a minimum and a maximum, so an
  integer beyond 64 bits is a 422 naming the field, never an overflow in the database;
- every error an operation answers is declared as problem+json with the problem's schema;
- every instant a service stores is read back with its offset (SQLite keeps none), so what the
  service emits from it is RFC 3339 with an offset;
- errors speak the service's default language when the caller names neither Arabic nor French:
  Arabic unless ``FURSA_<SERVICE>_DEFAULT_LANGUAGE`` says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import import_module
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import DateTime, MetaData

from fursa.shared.db import UtcDateTime
from fursa.shared.problems import MEDIA_TYPE as PROBLEM_JSON
from fursa.shared.problems import MESSAGES
from fursa.shared.runtime import ServiceRuntime
from fursa.shared.settings import ServiceSettings
from tests.reliability.flow import SERVICES

METHODS = ("get", "put", "post", "delete", "patch", "options", "head")


def service_app(service: str, tmp_path: Path, **settings: Any) -> FastAPI:
    """The service's application as ``create_app`` builds it (nothing started), its files
    under ``tmp_path``."""
    module = import_module(f"fursa.{service}.app")
    settings_class = {
        "enrollment": "EnrollmentSettings",
        "training": "TrainingSettings",
        "certification": "CertificationSettings",
        "notify": "NotifySettings",
    }[service]
    settings_of: Callable[..., ServiceSettings] = getattr(
        import_module(f"fursa.{service}.settings"), settings_class
    )
    files = {
        "certification": {"signing_keys_file": tmp_path / "signing-keys.json"},
        "notify": {"sink_dir": tmp_path / "sink"},
    }.get(service, {})
    app: FastAPI = module.create_app(
        settings_of(database_url=f"sqlite:///{tmp_path}/{service}.db", **files, **settings)
    )
    return app


def operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, items in document["paths"].items():
        for method, operation in items.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def unbounded_integers(
    document: dict[str, Any], schema: dict[str, Any], where: str, seen: frozenset[str]
) -> Iterator[str]:
    """Where in ``schema`` an integer lacks a minimum or a maximum (``$ref`` followed)."""
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return
        seen = seen | {schema["$ref"]}
        schema = resolve(document, schema)
    types = schema.get("type")
    if types == "integer" or (isinstance(types, list) and "integer" in types):
        has_minimum = "minimum" in schema or "exclusiveMinimum" in schema
        has_maximum = "maximum" in schema or "exclusiveMaximum" in schema
        if not (has_minimum and has_maximum):
            yield where
    for keyword in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for sub in schema.get(keyword, []):
            yield from unbounded_integers(document, sub, where, seen)
    for name, sub in schema.get("properties", {}).items():
        yield from unbounded_integers(document, sub, f"{where}.{name}", seen)
    for keyword, suffix in (("items", "[]"), ("additionalProperties", "{}")):
        if isinstance(schema.get(keyword), dict):
            yield from unbounded_integers(document, schema[keyword], where + suffix, seen)


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Each service's OpenAPI document, as it serves it at /openapi.json."""
    return {
        service: service_app(service, tmp_path_factory.mktemp(service)).openapi()
        for service in SERVICES
    }


@pytest.mark.parametrize("service", SERVICES)
def test_every_integer_a_caller_sends_is_bounded(
    documents: dict[str, dict[str, Any]], service: str
) -> None:
    document = documents[service]
    found = []
    inputs = 0
    for label, operation in operations(document):
        for parameter in operation.get("parameters", []):
            where = f"{label} {parameter['in']} {parameter['name']}"
            inputs += 1
            found += unbounded_integers(document, parameter.get("schema", {}), where, frozenset())
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            inputs += 1
            where = f"{label} body ({media_type})"
            found += unbounded_integers(document, content.get("schema", {}), where, frozenset())
    assert inputs > 0
    assert found == [], f"{service}: integers without a minimum and a maximum: {found}"


def test_the_walk_finds_an_unbounded_integer() -> None:
    """The check above would see one: in a parameter, and deep in a body behind a $ref."""
    document = {
        "components": {
            "schemas": {
                "Row": {"properties": {"line": {"type": "integer", "minimum": 1}}},
                "Import": {"properties": {"rows": {"items": {"$ref": "#/components/schemas/Row"}}}},
            }
        }
    }
    deep = {"$ref": "#/components/schemas/Import"}
    assert list(unbounded_integers(document, deep, "body", frozenset())) == ["body.rows[].line"]
    bounded = {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 9}, {"type": "null"}]}
    assert list(unbounded_integers(document, bounded, "q", frozenset())) == []
    assert list(unbounded_integers(document, {"type": "integer"}, "q", frozenset())) == ["q"]


@pytest.mark.parametrize("service", SERVICES)
def test_every_error_is_declared_as_a_problem(
    documents: dict[str, dict[str, Any]], service: str
) -> None:
    document = documents[service]
    problem = {"$ref": "#/components/schemas/Problem"}
    assert "HTTPValidationError" not in str(document)
    for label, operation in operations(document):
        responses = operation["responses"]
        if operation.get("security"):
            assert {"401", "403"} <= set(responses), label
        if operation.get("parameters") or operation.get("requestBody"):
            assert "422" in responses, label
        if operation.get("requestBody"):
            assert {"400", "413"} <= set(responses), label
        if "{" in label:
            assert "404" in responses, label
        for status, response in responses.items():
            if not status.startswith("4"):
                continue
            content = response["content"]
            if label == "GET /verify/{number}" and status == "404":
                assert set(content) == {"text/html"}  # the page that says so
                continue
            if label in ("GET /verify", "GET /verify/{number}"):
                # The people's page: a browser reads the refusal on the page itself.
                assert content["text/html"] == {}, (label, status)
                content = {media: c for media, c in content.items() if media != "text/html"}
            assert content == {PROBLEM_JSON: {"schema": problem}}, (label, status)
    properties = document["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "code", "errors"} <= set(properties)


@pytest.mark.parametrize("service", SERVICES)
def test_every_stored_instant_reads_back_with_its_offset(service: str) -> None:
    # The service's own metadata: its tables and the kernel's (outbox, inbox, dead letters).
    metadata: MetaData = import_module(f"fursa.{service}.models").KERNEL.outbox.metadata
    columns = [(table.name, column) for table in metadata.tables.values() for column in table.c]
    instants = [f"{table}.{c.name}" for table, c in columns if isinstance(c.type, UtcDateTime)]
    naive = [f"{table}.{c.name}" for table, c in columns if isinstance(c.type, DateTime)]
    assert {"outbox.created_at", "dead_letter.failed_at"} <= set(instants)
    assert naive == [], f"{service}: instants stored as plain DateTime (read back naive)"


@pytest.mark.parametrize("service", SERVICES)
async def test_errors_speak_arabic_unless_the_setting_says_otherwise(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def not_found(app: FastAPI, headers: dict[str, str]) -> httpx.Response:
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            return await client.get("/no-such-route", headers=headers)

    default = await not_found(service_app(service, tmp_path), {})
    assert default.status_code == 404
    assert default.headers["content-type"] == PROBLEM_JSON
    assert default.headers["content-language"] == "ar"
    assert default.json()["title"] == MESSAGES["not_found"]["ar"]

    french = service_app(service, tmp_path, default_language="fr")
    runtime: ServiceRuntime = french.state.runtime
    assert runtime.settings.default_language == "fr"
    assert (await not_found(french, {})).headers["content-language"] == "fr"
    arabic = await not_found(french, {"Accept-Language": "ar-MA"})
    assert arabic.json()["title"] == MESSAGES["not_found"]["ar"]

    monkeypatch.setenv(f"FURSA_{service.upper()}_DEFAULT_LANGUAGE", "fr")
    from_environment = await not_found(service_app(service, tmp_path), {})
    assert from_environment.json()["title"] == MESSAGES["not_found"]["fr"]
