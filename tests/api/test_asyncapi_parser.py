"""The AsyncAPI documents load in the standard AsyncAPI parser (``@asyncapi/parser`` from npm,
installed by ``make`` from package-lock.json) with no error and no warning: the committed
partner catalog, the one notify serves, and each service's ``/asyncapi``. Independent tools
(code generators, AsyncAPI Studio, a partner's CI) use this parser, not our code.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.test_api_contracts import service_app
from tests.reliability.flow import SERVICES

ROOT = Path(__file__).parents[2]
VALIDATE = ROOT / "tests" / "tools" / "asyncapi-validate.mjs"
PARTNER_CATALOG = ROOT / "docs" / "events" / "partner" / "asyncapi.json"
# What the parser may still say: advice (e.g. that a newer AsyncAPI version exists).
ACCEPTED = {"information", "hint"}


def parse(text: str) -> list[dict[str, Any]]:
    """The parser's diagnostics on the document ``text``."""
    parsed = subprocess.run(
        ["node", str(VALIDATE)],
        input=text,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert parsed.stdout, (
        f"the parser did not run (make node_modules/.installed?):\n{parsed.stderr}"
    )
    diagnostics: list[dict[str, Any]] = json.loads(parsed.stdout)
    return diagnostics


def assert_loads_cleanly(text: str) -> None:
    diagnostics = parse(text)
    faults = [d for d in diagnostics if d["severity"] not in ACCEPTED]
    assert faults == [], json.dumps(diagnostics, indent=2)


async def served(service: str, path: str, tmp_path: Path) -> str:
    transport = httpx.ASGITransport(service_app(service, tmp_path))
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        response = await client.get(path)
    assert response.status_code == 200
    return response.text


def test_the_parser_reports_a_reference_that_does_not_resolve() -> None:
    document = json.loads(PARTNER_CATALOG.read_text(encoding="utf-8"))
    message = next(iter(document["components"]["messages"].values()))
    message["payload"] = {"$ref": "#/components/schemas/NoSuchSchema"}
    diagnostics = parse(json.dumps(document))
    assert {(d["severity"], d["code"]) for d in diagnostics} >= {("error", "invalid-ref")}


def test_the_committed_partner_catalog_loads_cleanly() -> None:
    assert_loads_cleanly(PARTNER_CATALOG.read_text(encoding="utf-8"))


async def test_the_partner_catalog_notify_serves_loads_cleanly(tmp_path: Path) -> None:
    assert_loads_cleanly(await served("notify", "/partner/asyncapi.json", tmp_path))


@pytest.mark.parametrize("service", SERVICES)
async def test_each_service_asyncapi_loads_cleanly(service: str, tmp_path: Path) -> None:
    assert_loads_cleanly(await served(service, "/asyncapi", tmp_path))
