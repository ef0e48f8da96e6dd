"""The console's shell without the services: catalogues, vendored assets, headers, sessions,
CSRF and what production refuses."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from fursa.console import offline
from fursa.console.app import CONTENT_SECURITY_POLICY, create_app
from fursa.console.i18n import LANGUAGES, catalogue_path
from fursa.console.offline import RELEASE_MARK, service_worker_source, static_digest
from fursa.console.sessions import COOKIE
from fursa.console.settings import ConsoleSettings
from fursa.shared.auth import TokenVerifier

PACKAGE = Path(__file__).parents[1] / "src/fursa/console"
ROOT = Path(__file__).parents[3]


def extracted_messages() -> set[str | tuple[str, str]]:
    """Every message the templates and the code ask for (as ``pybabel extract`` finds them)."""
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        PACKAGE,
        method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        keywords={"_": None, "gettext": (2,), "ngettext": (1, 2)},
    ):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_of_the_pages_is_translated_and_none_is_stale(language: str) -> None:
    with catalogue_path(language).open("rb") as po:  # type: ignore[arg-type]
        catalog = read_po(po)
    translated = {message.id for message in catalog if message.id and all_said(message.string)}
    asked = extracted_messages()
    assert asked - translated == set(), f"untranslated in {language}"
    assert translated - asked == set(), f"stale in {language}"


def all_said(string: str | tuple[str, ...]) -> bool:
    return all(string) if isinstance(string, tuple) else bool(string)


def test_the_vendored_htmx_is_the_one_the_lock_pins() -> None:
    vendored = (PACKAGE / "static/htmx.min.js").read_bytes()
    installed = ROOT / "node_modules/htmx.org/dist/htmx.min.js"
    assert vendored == installed.read_bytes()


@pytest.fixture
async def console() -> AsyncIterator[httpx.AsyncClient]:
    """The console in development, its services unreachable (nothing listens on port 9)."""
    settings = ConsoleSettings(
        enrollment_url="http://127.0.0.1:9",
        training_url="http://127.0.0.1:9",
        certification_url="http://127.0.0.1:9",
        notify_url="http://127.0.0.1:9",
    )
    app = create_app(settings)
    app.state.token_verifier = TokenVerifier(dev_secret=settings.auth_dev_key.get_secret_value())
    async with (
        httpx.AsyncClient(timeout=5) as http,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://console.test"
        ) as client,
    ):
        app.state.http = http
        yield client


async def test_pages_carry_a_strict_content_security_policy_and_no_inline_script(
    console: httpx.AsyncClient,
) -> None:
    response = await console.get("/sign-in", headers={"Accept-Language": "fr"})
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert "<script>" not in response.text
    assert 'dir="ltr"' in response.text
    assert "Connexion de développement" in response.text


async def test_the_session_cookie_is_encrypted_http_only_secure_and_lax(
    console: httpx.AsyncClient,
) -> None:
    response = await console.get("/sign-in")
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith(f"{COOKIE}=")
    assert "httponly" in cookie
    assert "secure" in cookie
    assert "samesite=lax" in cookie
    assert "csrf" not in response.cookies[COOKIE]  # encrypted, not merely signed JSON


async def test_a_form_without_the_sessions_csrf_token_is_refused(
    console: httpx.AsyncClient,
) -> None:
    await console.get("/sign-in")
    response = await console.post("/sign-out", data={"csrf_token": "forged"})
    assert response.status_code == 403
    response = await console.post("/language", data={"language": "fr"})
    assert response.status_code == 403


async def test_a_page_without_a_person_sends_to_the_sign_in(console: httpx.AsyncClient) -> None:
    response = await console.get("/learners")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in"


async def test_a_tampered_session_cookie_signs_nobody_in(console: httpx.AsyncClient) -> None:
    console.cookies.set(COOKIE, "gAAAAABforged", domain="console.test")
    response = await console.get("/learners")
    assert response.headers["location"] == "/sign-in"


def test_production_refuses_every_development_default() -> None:
    with pytest.raises(ValueError, match="FURSA_CONSOLE_OIDC_ISSUER") as refused:
        ConsoleSettings(mode="production")
    assert "FURSA_CONSOLE_SESSION_KEY" in str(refused.value)
    assert "FURSA_CONSOLE_PUBLIC_BASE_URL" in str(refused.value)


async def test_production_has_no_development_sign_in() -> None:
    settings = ConsoleSettings(
        mode="production",
        oidc_issuer="https://id.example.test",
        oidc_client_secret="a-secret",  # type: ignore[arg-type]
        session_key="a-production-session-key",  # type: ignore[arg-type]
        public_base_url="https://console.example.test",
    )
    app = create_app(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://console.test"
    ) as client:
        page = await client.get("/sign-in")
        assert "/sign-in/development" not in page.text
        assert "/sign-in/start" in page.text
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        response = await client.post(
            "/sign-in/development", data={"csrf_token": token, "role": "admin"}
        )
        assert response.status_code == 404


async def test_the_service_worker_names_its_cache_after_this_releases_static_files(
    console: httpx.AsyncClient,
) -> None:
    response = await console.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert f'var CACHE = "fursa-console-{static_digest(offline.STATIC)}";' in response.text
    assert RELEASE_MARK not in response.text


def test_a_release_that_changes_a_static_file_brings_a_new_service_worker(
    tmp_path: Path,
) -> None:
    """Browsers install a new worker only when its bytes change; its activation then deletes
    the earlier release's cache, so a phone stops serving the old scripts and styles."""
    release = tmp_path / "static"
    shutil.copytree(offline.STATIC, release)
    before = service_worker_source(release)
    assert service_worker_source(release) == before
    (release / "attendance.js").write_text("// the next release\n", encoding="utf-8")
    after = service_worker_source(release)
    assert after != before
    assert "caches.delete(name)" in after
