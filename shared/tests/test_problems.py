"""Every error is problem+json, names the field or rule at fault, in Arabic or French (Arabic,
or the service's default language, when the caller names neither)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, ValidationError

from fursa.shared import problems
from fursa.shared.observability import RequestMiddleware
from fursa.shared.problems import Problem
from fursa.shared.settings import ServiceSettings


class Learner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    birth_date: date


def build_app(**install: Any) -> FastAPI:
    app = FastAPI()
    problems.install(app, **install)
    app.add_middleware(RequestMiddleware, service="problems-test", max_body_bytes=1000)
    problems.register_messages(
        {"center_full": {"fr": "Le centre {center} est complet.", "ar": "المركز {center} ممتلئ."}}
    )

    @app.post("/learners")
    async def create(learner: Learner) -> dict[str, str]:
        if learner.name == "full":
            raise Problem.rule("center_full", status=409, center="Al-Nasr")
        if learner.name == "boom":
            raise RuntimeError("secret internals")
        return {"name": learner.name}

    return app


async def post(
    body: object, language: str = "", content: bytes | None = None, app: FastAPI | None = None
) -> httpx.Response:
    transport = httpx.ASGITransport(app or build_app(), raise_app_exceptions=False)
    headers = {"Accept-Language": language} if language else {}
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        if content is not None:
            headers["Content-Type"] = "application/json"
            return await client.post("/learners", content=content, headers=headers)
        return await client.post("/learners", json=body, headers=headers)


async def test_invalid_field_is_named_in_french_when_asked() -> None:
    response = await post({"name": "Salma", "birth_date": "1st of March"}, language="fr")
    assert response.status_code == 422
    assert response.headers["content-language"] == "fr"
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation"
    assert body["errors"] == [
        {"field": "birth_date", "rule": "date_from_datetime_parsing", "message": "date invalide"}
    ]


@pytest.mark.parametrize("language", ["", "en-US,en;q=0.9", "de, *;q=0.1", "fr;q=0"])
async def test_arabic_when_the_caller_names_neither_language(language: str) -> None:
    response = await post({"name": "Salma", "birth_date": "1st of March"}, language=language)
    assert response.status_code == 422
    assert response.headers["content-language"] == "ar"
    assert response.json()["title"] == "يحتوي الطلب على حقول غير صالحة."
    assert response.json()["errors"][0]["message"] == "تاريخ غير صالح"


async def test_the_default_language_is_a_setting() -> None:
    french = build_app(default_language="fr")
    response = await post({"name": "Salma"}, app=french)
    assert response.headers["content-language"] == "fr"
    assert response.json()["errors"][0]["message"] == "champ obligatoire"
    # The caller's choice still wins over the default.
    arabic = await post({"name": "Salma"}, language="ar", app=french)
    assert arabic.headers["content-language"] == "ar"
    # An oversized body is refused before routing, in the default language too.
    refused = await post(None, content=b'{"name": "' + b"x" * 2000 + b'"}', app=french)
    assert refused.status_code == 413
    assert refused.json()["title"] == "Le corps de la requête dépasse 1000 octets."


def test_the_default_language_is_arabic_or_french() -> None:
    with pytest.raises(ValueError, match="default_language"):
        problems.install(FastAPI(), default_language="en")  # type: ignore[arg-type]


def test_services_default_to_arabic_and_read_the_setting_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert ServiceSettings().default_language == "ar"
    monkeypatch.setenv("DEFAULT_LANGUAGE", "fr")
    assert ServiceSettings().default_language == "fr"
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")
    with pytest.raises(ValidationError, match="default_language"):
        ServiceSettings()


async def test_arabic_is_chosen_by_accept_language() -> None:
    response = await post({"name": "Salma"}, language="ar-MA,fr;q=0.5")
    assert response.headers["content-language"] == "ar"
    assert response.json()["errors"][0] == {
        "field": "birth_date",
        "rule": "missing",
        "message": "حقل إلزامي",
    }


async def test_unknown_field_is_refused() -> None:
    response = await post({"name": "Salma", "birth_date": "2011-03-01", "role": "admin"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "role"
    assert response.json()["errors"][0]["rule"] == "extra_forbidden"


async def test_domain_rule_names_the_rule_in_the_callers_language() -> None:
    response = await post({"name": "full", "birth_date": "2011-03-01"}, language="ar")
    assert response.status_code == 409
    assert response.json()["code"] == "center_full"
    assert response.json()["title"] == "المركز Al-Nasr ممتلئ."


async def test_oversized_body_is_refused_with_413() -> None:
    response = await post(None, content=b'{"name": "' + b"x" * 2000 + b'"}')
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_oversized_body_streamed_without_a_length_is_refused_with_413() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * 100
        yield b'", "birth_date": "2011-03-01"}'

    transport = httpx.ASGITransport(build_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post(
            "/learners", content=chunks(), headers={"Content-Type": "application/json"}
        )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["params"] == {"limit": 1000}


async def test_unexpected_error_is_a_500_problem_without_internals() -> None:
    response = await post({"name": "boom", "birth_date": "2011-03-01"})
    assert response.status_code == 500
    assert "secret internals" not in response.text
    assert response.json()["code"] == "internal"


async def test_body_that_is_not_json_names_the_body() -> None:
    response = await post(None, content=b'{"name": "Salma",', language="fr")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "body", "rule": "json_invalid", "message": "JSON invalide"}
    ]
