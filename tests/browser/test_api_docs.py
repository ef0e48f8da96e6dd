"""Each service's API pages (/docs: Swagger UI, /redoc: ReDoc) in a real browser with every
address but the loopback's blocked, as in a center without internet: the pages' scripts and
styles come from the service itself, and they list the service's operations.

Debian's headless Chromium driven by Playwright (never a downloaded browser), against the four
services of the running platform (real processes, real HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, Route

from fursa.cli.platform import Platform
from fursa.shared.testing.browser import chromium

pytestmark = pytest.mark.slow

# An operation each service's page must show, by its path.
KNOWN_PATHS = {
    "enrollment": "/enrollments/{enrollment_id}",
    "training": "/trainings/{training_id}",
    "certification": "/certificates/{number}",
    "notify": "/deliveries/{delivery_id}/resend",
}
LOOPBACK = "127.0.0.1"
# The one address beyond the loopback a page asks for: ReDoc's "API docs by Redocly" logo, an
# image that removes itself when it cannot load (redoc.standalone.js: `onError`). Nothing the
# page needs to work.
REDOC_ATTRIBUTION = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def offline_page(browser: Browser) -> tuple[Page, list[str]]:
    """A page that reaches only the loopback; returns it and the addresses it was refused."""
    page = await browser.new_page()
    refused: list[str] = []

    async def only_loopback(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).hostname == LOOPBACK:
            await route.continue_()
        else:
            refused.append(url)
            await route.abort("internetdisconnected")

    await page.route("**/*", only_loopback)
    return page, refused


async def test_swagger_ui_and_redoc_list_the_operations_without_internet(
    platform: Platform, browser: Browser, tmp_path: Path
) -> None:
    for service, path in KNOWN_PATHS.items():
        page, refused = await offline_page(browser)
        response = await page.goto(f"{platform.url(service)}/docs")
        assert response is not None
        assert response.status == 200
        operation = page.locator(f'.opblock-summary-path[data-path="{path}"]')
        await operation.first.wait_for(state="visible", timeout=30_000)
        assert await page.locator(".opblock").count() > 5
        await page.screenshot(path=str(tmp_path / f"{service}-docs.png"))
        assert refused == [], f"{service} /docs asked beyond the loopback: {refused}"

        response = await page.goto(f"{platform.url(service)}/redoc")
        assert response is not None
        assert response.status == 200
        await page.locator("[data-section-id^='operation/']").first.wait_for(timeout=30_000)
        assert path in await page.locator("body").inner_text()
        await page.screenshot(path=str(tmp_path / f"{service}-redoc.png"))
        assert set(refused) <= {REDOC_ATTRIBUTION}, f"{service} /redoc asked for {refused}"
        assert await page.locator("img[alt='redocly logo']").count() == 0
        await page.close()
