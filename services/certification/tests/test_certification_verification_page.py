"""The public verification page in a real browser: Debian's headless Chromium driven by
Playwright (never a downloaded browser), against the certification service served by uvicorn
over real HTTP. A missing Chromium fails the test with the command that installs it.

Only the certification service is needed, so these run with the service's own tests (marked
slow: a browser per test) rather than in the whole-platform group. The page is photographed
in Arabic and French, on a phone (390 px) and a desktop (1280 px), in each of its verdicts;
``FURSA_VERIFY_SCREENSHOTS=docs/verify`` keeps the photographs for docs/verify.md.
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from nats.js import JetStreamContext
from PIL import Image
from playwright.async_api import Browser, Page

from fursa.certification import service
from fursa.certification.app import create_app
from fursa.certification.models import Certificate
from fursa.certification.settings import CertificationSettings
from fursa.certification.verification_page import TEXT
from fursa.shared.auth import Principal, Role
from fursa.shared.contracts import Pathway, RevocationReason
from fursa.shared.natsserver import NatsServer, free_port
from fursa.shared.testing.browser import chromium
from fursa.shared.testing.builders import learner_enrolled, uuid_of
from fursa.shared.testing.kernel import wait_until

pytestmark = pytest.mark.slow

# How far an element's text stands from the element's right and left edges, in pixels.
TEXT_GAPS = """e => {
    const range = document.createRange();
    range.selectNodeContents(e);
    const text = range.getBoundingClientRect(), box = e.getBoundingClientRect();
    return [box.right - text.right, text.left - box.left];
}"""
# Whether the page is wider than the window: a phone would scroll sideways.
OVERFLOWS = "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
PHONE, DESKTOP = 390, 1280
OFFICER = Principal(subject="officer", role=Role.ENTRAIDE_OFFICER, region_code="07")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


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


async def certified(app: FastAPI, n: int = 1) -> Certificate:
    runtime = app.state.runtime
    enrolled = learner_enrolled(n).model_copy(update={"center_name": "Centre Al-Nasr"})
    async with runtime.uow.begin() as tx:
        await service.learner_enrolled(tx, enrolled=enrolled)
    async with runtime.uow.begin() as tx:
        certificate = await service.issue_certificate(
            tx,
            enrollment_id=uuid_of("enrollment", n),
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

    await service.revoke(
        app.state.runtime.uow,
        number=certificate.number,
        reason=RevocationReason.FRAUD,
        officer=OFFICER,
    )
    await page.reload()
    assert await page.locator("#verdict").get_attribute("data-status") == "revoked"
    assert "Ce certificat a été révoqué" in await page.locator("#verdict").inner_text()


async def test_on_a_phone_the_arabic_page_fits_and_reads_right_to_left(
    served: tuple[str, FastAPI], browser: Browser
) -> None:
    base, app = served
    certificate = await certified(app)
    page = await browser.new_page(viewport={"width": PHONE, "height": 844}, locale="ar-MA")
    await page.goto(f"{base}/verify/{certificate.number}?token={certificate.verification_token}")
    assert await page.locator("html").get_attribute("dir") == "rtl"
    assert await direction_of(page, "main") == "rtl"
    assert not await page.evaluate(OVERFLOWS)
    # The form's field and button stay inside the window, the field wide enough to type in.
    field = await page.locator("#number-input").bounding_box()
    button = await page.get_by_role("button", name=TEXT["form_button"].ar).bounding_box()
    assert field is not None
    assert button is not None
    for box in (field, button):
        assert 0 <= box["x"] <= box["x"] + box["width"] <= PHONE
    assert field["width"] > PHONE / 2


async def test_a_number_typed_in_the_form_opens_its_page(
    served: tuple[str, FastAPI], browser: Browser
) -> None:
    base, app = served
    certificate = await certified(app)
    page = await browser.new_page(viewport={"width": PHONE, "height": 844}, locale="fr-FR")
    await page.goto(f"{base}/verify")
    await page.get_by_label(TEXT["form_label"].fr).fill(f"  {certificate.number.lower()} ")
    await page.get_by_role("button", name=TEXT["form_button"].fr).click()
    await page.wait_for_url(f"{base}/verify/{certificate.number}?lang=fr")
    assert await page.locator("#verdict").get_attribute("data-status") == "active"


def keep(screenshot: bytes, name: str, tmp_path: Path) -> None:
    """A screenshot in 64 colours (a tenth of the size, the text as sharp), kept where
    ``FURSA_VERIFY_SCREENSHOTS`` says (else with the test's files)."""
    folder = Path(os.environ.get("FURSA_VERIFY_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    shot = Image.open(io.BytesIO(screenshot)).convert("RGB")
    shot.quantize(colors=64).save(folder / f"{name}.png", optimize=True)


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
@pytest.mark.parametrize("lang", ["ar", "fr"])
async def test_every_verdict_fits_the_window_in_both_languages(
    served: tuple[str, FastAPI], browser: Browser, tmp_path: Path, lang: str, width: int
) -> None:
    base, app = served
    valid, revoked = await certified(app, 1), await certified(app, 2)
    await service.revoke(
        app.state.runtime.uow, number=revoked.number, reason=RevocationReason.FRAUD, officer=OFFICER
    )
    verdicts = {
        "valid": (f"/verify/{valid.number}?token={valid.verification_token}", 200, "active"),
        "revoked": (f"/verify/{revoked.number}", 200, "revoked"),
        "unknown": ("/verify/MS-2026-999999", 404, "unknown"),
        # A link cut short in a message: the token no longer matches.
        "damaged": (
            f"/verify/{valid.number}?token={valid.verification_token[:24]}",
            422,
            "damaged",
        ),
    }
    page = await browser.new_page(viewport={"width": width, "height": 800}, locale=lang)
    for name, (path, status, data_status) in verdicts.items():
        response = await page.goto(f"{base}{path}")
        assert response is not None
        assert response.status == status, name
        assert await page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
        assert await page.locator("#verdict").get_attribute("data-status") == data_status
        assert not await page.evaluate(OVERFLOWS), name
        # The emblem the service serves itself has loaded.
        assert await page.locator("img.emblem").evaluate("img => img.naturalWidth > 0")
        keep(await page.screenshot(full_page=True), f"{name}-{lang}-{width}", tmp_path)
