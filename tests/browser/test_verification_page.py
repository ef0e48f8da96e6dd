"""The public verification page in a real browser: Debian's headless Chromium driven by
Playwright (never a downloaded browser), against the certification service served by uvicorn
over real HTTP. A missing Chromium fails the test with the command that installs it."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from nats.js import JetStreamContext
from playwright.async_api import Browser, Page, async_playwright

from fursa.certification import service
from fursa.certification.app import create_app
from fursa.certification.models import Certificate
from fursa.certification.settings import CertificationSettings
from fursa.shared.auth import Principal, Role
from fursa.shared.contracts import Pathway, RevocationReason
from fursa.shared.natsserver import NatsServer, free_port
from fursa.shared.testing.builders import learner_enrolled, uuid_of
from fursa.shared.testing.kernel import wait_until

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
# The machine notes' flags for a headless Chromium in a container without a GPU or a network.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
]

# How far an element's text stands from the element's right and left edges, in pixels.
TEXT_GAPS = """e => {
    const range = document.createRange();
    range.selectNodeContents(e);
    const text = range.getBoundingClientRect(), box = e.getBoundingClientRect();
    return [box.right - text.right, text.left - box.left];
}"""


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (apt-get install chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def served(
    sqlite_url: str, nats_server: NatsServer, js: JetStreamContext, tmp_path: Path
) -> AsyncIterator[tuple[str, FastAPI]]:
    """The certification service on a free port of the loopback, and its address."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(
        CertificationSettings(
            database_url=sqlite_url,
            nats_url=nats_server.url,
            public_base_url=base,
            signing_keys_file=tmp_path / "signing-keys.json",
        )
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        await wait_until(lambda: server.started)
        yield base, app
    finally:
        server.should_exit = True
        await task


async def certified(app: FastAPI) -> Certificate:
    runtime = app.state.runtime
    enrolled = learner_enrolled(1).model_copy(update={"center_name": "Centre Al-Nasr"})
    async with runtime.uow.begin() as tx:
        await service.learner_enrolled(tx, enrolled=enrolled)
    async with runtime.uow.begin() as tx:
        certificate = await service.issue_certificate(
            tx,
            enrollment_id=uuid_of("enrollment", 1),
            pathway=Pathway.VOCATIONAL_TRAINING,
            issuer=app.state.issuer,
            issued_on=date(2026, 6, 30),
        )
    assert certificate is not None
    return certificate


async def direction_of(page: Page, selector: str) -> str:
    direction: str = await page.locator(selector).evaluate("e => getComputedStyle(e).direction")
    return direction


async def test_arabic_page_reads_right_to_left_with_the_name_from_the_qr_token(
    served: tuple[str, FastAPI], browser: Browser, tmp_path: Path
) -> None:
    base, app = served
    certificate = await certified(app)
    page = await browser.new_page(locale="ar-MA")
    response = await page.goto(
        f"{base}/verify/{certificate.number}?token={certificate.verification_token}"
    )
    assert response is not None
    assert response.status == 200

    assert await page.locator("html").get_attribute("lang") == "ar"
    assert await page.locator("html").get_attribute("dir") == "rtl"
    assert await direction_of(page, "#verdict") == "rtl"
    assert (await page.locator("#verdict").inner_text()).strip() == "شهادة صحيحة وسارية المفعول"
    assert "سلمى بنعلي" in await page.locator("#holder").inner_text()
    assert (await page.locator("#number").inner_text()).strip() == certificate.number
    # Right to left for real: the verdict's text starts at the right edge of its box.
    right_gap, left_gap = await page.locator("#verdict").evaluate(TEXT_GAPS)
    assert right_gap < left_gap
    await page.screenshot(path=str(tmp_path / "verify-ar.png"), full_page=True)

    await page.get_by_role("link", name="Français").click()
    await page.wait_for_load_state()
    assert await page.locator("html").get_attribute("dir") == "ltr"
    assert await direction_of(page, "#verdict") == "ltr"
    assert "Certificat authentique et valide" in await page.locator("#verdict").inner_text()
    assert "Salma Benali" in await page.locator("#holder").inner_text()


async def test_french_page_by_number_alone_shows_no_name_and_then_the_revocation(
    served: tuple[str, FastAPI], browser: Browser
) -> None:
    base, app = served
    certificate = await certified(app)
    page = await browser.new_page(locale="fr-FR")
    await page.goto(f"{base}/verify/{certificate.number}")
    assert await page.locator("html").get_attribute("lang") == "fr"
    assert await direction_of(page, "body") == "ltr"
    assert await page.locator("#holder").count() == 0
    assert "Salma" not in await page.content()

    officer = Principal(subject="officer", role=Role.ENTRAIDE_OFFICER, region_code="07")
    await service.revoke(
        app.state.runtime.uow,
        number=certificate.number,
        reason=RevocationReason.FRAUD,
        officer=officer,
    )
    await page.reload()
    assert await page.locator("#verdict").get_attribute("data-status") == "revoked"
    assert "Ce certificat a été révoqué" in await page.locator("#verdict").inner_text()
