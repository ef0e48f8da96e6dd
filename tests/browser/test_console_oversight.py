"""The staff console of the people who award diplomas and steer the programme, in a real
browser over the four services.

One platform for the module, diplomas awaiting an Entraide Nationale officer's approval (the
programme's default policy, not the local platform's automatic one), a cohort of learners taken
through their training to a pass over the services' APIs. Debian's Chromium, driven by
Playwright, signs in with the console's development sign-in (one seeded person per role): the
officer of the seeded center's region approves one learner, holds another with a reason,
previews that diploma and releases it, then approves the whole cohort, downloads
the diplomas and checks them with pdftotext, revokes and re-issues a certificate; an officer of
another region sees none of it. The staff of an association running two centers transfer a
learner from one to the other. Arabic on a 360 px phone, French on a 1280 px screen.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import subprocess
import threading
import time
from base64 import b64encode
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
import nats
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from standardwebhooks import Webhook

from fursa.cli.demo import complete_trainings, enrollment_body
from fursa.cli.platform import CONSOLE, SERVICES, Platform
from fursa.console.i18n import local_number
from fursa.console.sessions import COOKIE, Sealer
from fursa.console.settings import DEV_SESSION_KEY
from fursa.enrollment.demo import DEMO_CENTER_ID
from fursa.shared.auth import DEV_TOKEN_KEY, Role, dev_authorization, mint_dev_token
from fursa.shared.natsserver import free_port

# The journeys of officers, the directorate and administrators run in the order written, on
# one platform: a later journey reads what an earlier one did through the console (a cohort
# approved, a partner onboarded), as the people who use it would. A random order of the whole
# suite keeps this module's tests together and in order (pytest-random-order), and shuffles
# everything else.
pytestmark = [pytest.mark.slow, pytest.mark.random_order(disabled=True)]

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parents[2] / "docs/console"
AXE = Path(__file__).parents[2] / "node_modules/axe-core/axe.min.js"
PHONE = (360, 740)
SCREEN = (1280, 900)
COHORT = 6  # learners who pass their training at the seeded center, 2025/2026
SCHOOL_YEAR = "2025/2026"
NEXT_YEAR = "2026/2027"
PLACES = 3
NEXT_INTAKE = (11, 12, 13, 14, 16)  # aged 14 to 17 in September 2026: two more than places
PATIENCE_S = 120.0
REPORT_PATIENCE_MS = 120_000
T = TypeVar("T")


async def _graduate(platform: Platform) -> list[dict[str, Any]]:
    """Enrol the cohort, take it through its training to a pass, and wait until every diploma
    awaits an officer's approval; the learners as enrolled."""
    async with httpx.AsyncClient(headers=dev_authorization(), timeout=30) as http:
        enrolled = []
        for n in range(COHORT):
            response = await http.post(
                platform.url("enrollment") + "/enrollments",
                json=enrollment_body(n, DEMO_CENTER_ID),
            )
            enrolled.append(response.raise_for_status().json())
        trainings = []
        for learner in enrolled:
            trainings.append(
                await _eventually(
                    http,
                    platform.url("training") + "/trainings",
                    params={"enrollment_id": learner["enrollment_id"]},
                    until=lambda found: len(found) == 1,
                )
            )
        await complete_trainings(http, platform.url("training"), [t[0] for t in trainings])
        await _eventually(
            http,
            platform.url("certification") + "/approvals",
            until=lambda found: len(found) == COHORT,
        )
        # Next year's intake: more learners than places, for the unmet demand.
        enrollment = platform.url("enrollment")
        capacity = {"pathway": "vocational_training", "school_year": NEXT_YEAR, "places": PLACES}
        (
            await http.put(f"{enrollment}/centers/{DEMO_CENTER_ID}/capacity", json=capacity)
        ).raise_for_status()
        for n in NEXT_INTAKE:
            body = {**enrollment_body(n, DEMO_CENTER_ID), "school_year": NEXT_YEAR}
            (await http.post(f"{enrollment}/enrollments", json=body)).raise_for_status()
    return enrolled


async def _eventually(http: httpx.AsyncClient, url: str, *, until: Any, **kwargs: Any) -> Any:
    deadline = time.monotonic() + PATIENCE_S
    while True:
        found = (await http.get(url, **kwargs)).raise_for_status().json()
        if until(found):
            return found
        assert time.monotonic() < deadline, f"{url}: still {found}"
        await asyncio.sleep(0.5)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The four services and the console, diplomas on approval, a cohort that passed."""
    running = Platform(
        var_dir=tmp_path_factory.mktemp("var"),
        ports={**{name: free_port() for name in SERVICES}, CONSOLE: free_port()},
        extra_env={"FURSA_CERTIFICATION_ISSUANCE_POLICY": "{}"},
    )
    try:
        running.start(timeout_s=180)
        running.cohort = asyncio.run(_graduate(running))  # type: ignore[attr-defined]
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def new_context(browser: Browser, *, locale: str, size: tuple[int, int]) -> BrowserContext:
    context = browser.new_context(
        locale=locale,
        viewport={"width": size[0], "height": size[1]},
        device_scale_factor=1,
        accept_downloads=True,
    )
    context.set_default_timeout(30_000)
    return context


def watched(context: BrowserContext) -> tuple[Page, list[str]]:
    """A page, and the Content-Security-Policy violations it reports."""
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return page, violations


def sign_in_as(page: Page, console: str, role: Role) -> None:
    """The development sign-in: the seeded person of that role (bound to the seeded center's
    region, province or association)."""
    page.goto(f"{console}/sign-in")
    page.locator(f'form:has(input[name="role"][value="{role}"]) button').click()
    page.wait_for_load_state()


def fits(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def axe_context(browser: Browser, *, locale: str, size: tuple[int, int]) -> BrowserContext:
    """A context axe can be injected into: inline, which the console's CSP rightly refuses."""
    return browser.new_context(
        locale=locale, viewport={"width": size[0], "height": size[1]}, bypass_csp=True
    )


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it stands."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"
    )
    return list(found)


def pdf_text(pdf: bytes, tmp_path: Path, name: str) -> str:
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / name
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_an_officer_names_the_signatory_and_approves_one_learner_in_french(
    platform: Platform, browser: Browser, tmp_path: Path
) -> None:
    console = platform.url(CONSOLE)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = new_context(browser, locale="fr-FR", size=SCREEN)
    page, violations = watched(context)
    sign_in_as(page, console, Role.ENTRAIDE_OFFICER)
    expect(page.get_by_role("heading", level=1)).to_have_text("Diplômes à approuver")

    page.get_by_role("link", name="Signataires").click()
    page.get_by_label("Nom en arabe").fill("محمد العلوي")
    page.get_by_label("Nom en français").fill("Mohamed Alaoui")
    page.get_by_label("Titre en arabe").fill("المنسق الجهوي للتعاون الوطني")
    page.get_by_label("Titre en français").fill("Latin only")
    page.get_by_label("Titre en arabe").fill("Coordinateur")
    page.get_by_role("button", name="Enregistrer le signataire").click()
    expect(page.locator(".field.invalid")).to_have_count(1)
    expect(page.locator(".field.invalid")).to_contain_text("Titre en arabe")
    page.get_by_label("Titre en arabe").fill("المنسق الجهوي للتعاون الوطني")
    page.get_by_label("Titre en français").fill("Coordinateur régional de l'Entraide Nationale")
    page.get_by_role("button", name="Enregistrer le signataire").click()
    expect(page.get_by_role("status")).to_contain_text("Enregistré")
    page.screenshot(path=str(SCREENSHOTS / "signatories-fr-1280.png"), full_page=True)

    page.get_by_role("link", name="Diplômes").first.click()
    cohort = page.locator(".card.cohort")
    expect(cohort).to_have_count(1)
    expect(cohort).to_contain_text(f"{COHORT} diplômes attendent votre approbation")
    page.screenshot(path=str(SCREENSHOTS / "approvals-fr-1280.png"), full_page=True)
    cohort.get_by_role("link").click()
    previews = page.locator(".diploma-preview")
    expect(previews).to_have_count(COHORT)
    expect(page.locator(".signed")).to_contain_text("Mohamed Alaoui")
    page.screenshot(path=str(SCREENSHOTS / "cohort-fr-1280.png"), full_page=True)

    first = previews.first
    name = first.get_by_role("heading").inner_text().strip()
    first.get_by_role("button", name="Approuver ce diplôme").click()
    expect(page.get_by_role("status")).to_contain_text("1 diplôme approuvé et délivré.")
    expect(previews).to_have_count(COHORT - 1)
    issued = page.locator(".log li", has_text=name)
    expect(issued).to_have_count(1)
    issued.get_by_role("link").first.click()
    expect(page.locator(".facts")).to_contain_text("Valide")
    page.screenshot(path=str(SCREENSHOTS / "certificate-fr-1280.png"), full_page=True)

    diploma = context.request.get(page.url + "/diploma.pdf")
    assert diploma.ok
    assert diploma.headers["content-type"] == "application/pdf"
    text = pdf_text(diploma.body(), tmp_path, "diploma.pdf")
    assert name in " ".join(text.split())
    assert "Mohamed Alaoui" in text
    assert violations == []
    context.close()


HOLDING = {
    "ar": {
        "reason label": "سبب التعليق",
        "hold": "تعليق هذه الشهادة",
        "held": "عُلِّقت الشهادة",
        "approve one": "المصادقة على هذه الشهادة",
        "held count": "شهادة واحدة معلَّقة",
        "approve cohort": "المصادقة على الفوج كاملاً",
        "preview": "معاينة الشهادة (PDF)",
        "release": "رفع التعليق",
        "released": "رُفع التعليق",
        "reason": "الاسم العائلي بالعربية يحتاج إلى تحقق مع المركز",
    },
    "fr": {
        "reason label": "Motif de la suspension",
        "hold": "Suspendre ce diplôme",
        "held": "Le diplôme est suspendu",
        "approve one": "Approuver ce diplôme",
        "held count": "1 diplôme suspendu",
        "approve cohort": "Approuver toute la cohorte",
        "preview": "Aperçu du diplôme (PDF)",
        "release": "Lever la suspension",
        "released": "La suspension est levée",
        "reason": "Le nom de famille en arabe est à vérifier avec le centre",
    },
}


@pytest.mark.parametrize(("locale", "size"), [("ar-MA", PHONE), ("fr-FR", SCREEN)])
def test_an_officer_holds_a_diploma_with_a_reason_previews_it_and_releases_it(
    platform: Platform, browser: Browser, tmp_path: Path, locale: str, size: tuple[int, int]
) -> None:
    words = HOLDING[locale[:2]]
    console = platform.url(CONSOLE)
    context = new_context(browser, locale=locale, size=size)
    page, violations = watched(context)
    sign_in_as(page, console, Role.ENTRAIDE_OFFICER)
    page.locator(".card.cohort a").click()
    cards = page.locator(".diploma-preview")
    waiting = cards.count()
    assert waiting > 1
    card = cards.first
    latin_name = card.locator('bdi[lang="fr"]').first.inner_text().strip()
    reason = words["reason"]

    # Two letters between spaces pass the browser's check, not the service's: nothing held.
    card.get_by_label(words["reason label"]).fill("  ab ")
    card.get_by_role("button", name=words["hold"]).click()
    expect(card.get_by_role("alert")).to_be_visible()
    expect(card.locator(".field.invalid")).to_have_count(1)
    expect(page.locator(".diploma-preview.held")).to_have_count(0)

    card.get_by_label(words["reason label"]).fill(reason)
    card.get_by_role("button", name=words["hold"]).click()

    expect(page.get_by_role("status")).to_contain_text(words["held"])
    held = page.locator(".diploma-preview.held")
    expect(held).to_have_count(1)
    expect(held).to_contain_text(reason)
    expect(held).to_contain_text(latin_name)
    expect(held.get_by_role("button", name=words["approve one"])).to_have_count(0)
    expect(page.locator(".held-count")).to_contain_text(words["held count"])
    # The cohort's approval counts only the diplomas it will issue.
    expect(page.get_by_role("button", name=words["approve cohort"])).to_contain_text(
        f"{waiting - 1}"
    )
    fits(page, size[0])
    if locale == "ar-MA":
        page.screenshot(path=str(SCREENSHOTS / "cohort-held-ar-360.png"), full_page=True)

    link = held.get_by_role("link", name=words["preview"])
    preview = context.request.get(console + str(link.get_attribute("href")))
    assert preview.ok
    assert preview.headers["content-type"] == "application/pdf"
    text = " ".join(pdf_text(preview.body(), tmp_path, "preview.pdf").split())
    assert latin_name in text
    assert "Aperçu" in text
    assert not re.search(r"[A-Z]{2,3}-\d{4}-\d{6}", text)

    held.get_by_role("button", name=words["release"]).click()
    expect(page.get_by_role("status")).to_contain_text(words["released"])
    expect(page.locator(".diploma-preview.held")).to_have_count(0)
    expect(page.locator(".held-count")).to_have_count(0)
    expect(cards).to_have_count(waiting)
    assert violations == []
    context.close()


def issued_certificate(platform: Platform) -> str:
    """A certificate of the cohort already issued (one learner approved over the API when the
    console has approved none yet)."""
    with httpx.Client(headers=dev_authorization(), timeout=30) as http:
        certification = platform.url("certification")
        for learner in platform.cohort:  # type: ignore[attr-defined]
            found = http.get(
                certification + "/certificates",
                params={"enrollment_id": learner["enrollment_id"]},
            ).raise_for_status()
            if found.json():
                return str(found.json()[0]["number"])
        approved = http.post(
            f"{certification}/approvals/{platform.cohort[0]['enrollment_id']}"  # type: ignore[attr-defined]
        ).raise_for_status()
        return str(approved.json()["number"])


def signed_in_elsewhere(
    context: BrowserContext, console: str, role: Role = Role.ENTRAIDE_OFFICER, **binding: str
) -> None:
    """A session of the console for a person bound elsewhere (an officer by default), as the
    development sign-in makes one (a development token in the console's encrypted cookie): the
    seeded people all work at the seeded center. Its CSRF token is ``other-<role>-csrf``."""
    subject = f"dev-other-{role.value}"
    token = mint_dev_token(DEV_TOKEN_KEY, role=role, subject=subject, **binding)
    session = {"token": token, "name": subject, "csrf": f"other-{role.value}-csrf"}
    sealed = Sealer(DEV_SESSION_KEY).sign(b64encode(json.dumps(session).encode()))
    context.add_cookies(
        [
            {
                "name": COOKIE,
                "value": sealed.decode(),
                "url": console,
                "httpOnly": True,
                "secure": True,
                "sameSite": "Lax",
            }
        ]
    )


def test_an_officer_of_another_region_sees_nothing_of_this_one(
    platform: Platform, browser: Browser
) -> None:
    console = platform.url(CONSOLE)
    number = issued_certificate(platform)
    context = new_context(browser, locale="fr-FR", size=SCREEN)
    signed_in_elsewhere(context, console, region_code="01")
    page, _ = watched(context)
    page.goto(console)
    expect(page.get_by_role("heading", level=1)).to_have_text("Diplômes à approuver")
    expect(page.locator("main")).to_contain_text("Aucun diplôme n'attend votre approbation.")
    cohort = f"/cohorts/{DEMO_CENTER_ID}?school_year={SCHOOL_YEAR}"
    for path in (cohort, f"/certificates/{number}", f"/certificates/{number}/revocation"):
        response = page.goto(console + path)
        assert response is not None
        assert response.status == 404, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Introuvable")
    for path in (
        f"/cohorts/{DEMO_CENTER_ID}/diplomas.pdf?school_year={SCHOOL_YEAR}",
        f"/certificates/{number}/diploma.pdf",
    ):
        assert context.request.get(console + path).status == 404, path
    revoked = context.request.post(
        f"{console}/certificates/{number}/revocation",
        form={"csrf_token": "other-entraide_officer-csrf", "reason": "fraud", "confirm": "yes"},
    )
    assert revoked.status == 404
    context.close()


@pytest.mark.parametrize(("locale", "size"), [("ar-MA", PHONE), ("fr-FR", SCREEN)])
def test_the_officers_pages_have_no_serious_accessibility_violation(
    platform: Platform, browser: Browser, locale: str, size: tuple[int, int]
) -> None:
    """The approvals queue, a cohort awaiting approval, a certificate, its revocation form and
    the signatories."""
    console = platform.url(CONSOLE)
    number = issued_certificate(platform)
    context = axe_context(browser, locale=locale, size=size)
    page = context.new_page()
    sign_in_as(page, console, Role.ENTRAIDE_OFFICER)
    for path in (
        "/approvals",
        f"/cohorts/{DEMO_CENTER_ID}?school_year={SCHOOL_YEAR}",
        f"/certificates/{number}",
        f"/certificates/{number}/revocation",
        "/signatories",
    ):
        response = page.goto(console + path)
        assert response is not None
        assert response.ok, path
        assert serious_violations(page) == [], path
    context.close()


def test_an_officer_approves_the_cohort_prints_it_and_revokes_a_diploma_in_arabic(
    platform: Platform, browser: Browser, tmp_path: Path
) -> None:
    console = platform.url(CONSOLE)
    context = new_context(browser, locale="ar-MA", size=PHONE)
    page, violations = watched(context)
    sign_in_as(page, console, Role.ENTRAIDE_OFFICER)
    assert page.locator("html").get_attribute("dir") == "rtl"
    expect(page.get_by_role("heading", level=1)).to_have_text("شهادات في انتظار المصادقة")
    fits(page, PHONE[0])
    page.screenshot(path=str(SCREENSHOTS / "approvals-ar-360.png"), full_page=True)
    page.locator(".card.cohort a").click()
    waiting = page.locator(".diploma-preview").count()
    assert waiting > 0
    fits(page, PHONE[0])
    page.get_by_role("button", name="المصادقة على الفوج كاملاً").click()
    expect(page.get_by_role("status")).to_contain_text("صودق")
    expect(page.locator(".diploma-preview")).to_have_count(0)
    expect(page.locator(".log li")).to_have_count(COHORT)
    fits(page, PHONE[0])
    page.screenshot(path=str(SCREENSHOTS / "cohort-ar-360.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="تنزيل شهادات الفوج (PDF)").click()
    text = " ".join(pdf_text(Path(download.value.path()).read_bytes(), tmp_path, "c.pdf").split())
    for learner in platform.cohort:  # type: ignore[attr-defined]
        assert learner["learner_id"] not in text
    for name in ("Youssef El Alaoui", "Houda Amziane", "Ayoub El Idrissi", "Meryem Bouzid"):
        assert name in text

    page.locator(".log li a").first.click()
    number = page.get_by_role("heading", level=1).inner_text().strip()
    page.get_by_role("link", name="إلغاء", exact=True).click()
    page.get_by_label("غش").check()
    page.get_by_role("button", name="إلغاء الشهادة").click()
    expect(page.get_by_role("alert")).to_contain_text("لم يُلغَ أي شيء")
    page.get_by_label("غش").check()
    page.get_by_label("أؤكد").check()
    fits(page, PHONE[0])
    page.get_by_role("button", name="إلغاء الشهادة").click()
    expect(page.get_by_role("status")).to_contain_text("أُلغيت الشهادة")
    expect(page.locator(".facts")).to_contain_text("غش")
    fits(page, PHONE[0])
    page.screenshot(path=str(SCREENSHOTS / "certificate-revoked-ar-360.png"), full_page=True)

    page.get_by_role("link", name="كما يراها العموم").click()
    expect(page.locator('#verdict[data-status="revoked"]')).to_be_visible()
    page.go_back()

    page.get_by_role("button", name="إعادة الإصدار").click()
    expect(page.get_by_role("status")).to_contain_text("سُلِّمت شهادة جديدة")
    assert page.get_by_role("heading", level=1).inner_text().strip() != number
    expect(page.locator(".history li")).to_have_count(2)
    expect(page.locator(".history")).to_contain_text(number)
    assert violations == []
    context.close()


DIRECTORATE = {"role": Role.DIRECTORATE, "province_code": "071"}


def api(platform: Platform, service: str, path: str, **params: Any) -> httpx.Response:
    """A service's own answer to the directorate the development sign-in makes."""
    return httpx.get(
        platform.url(service) + path,
        params=params,
        headers=dev_authorization(**DIRECTORATE),  # type: ignore[arg-type]
        timeout=30,
    ).raise_for_status()


def downloaded(page: Page, link: str) -> bytes:
    with page.expect_download() as download:
        page.locator(link).click()
    return Path(download.value.path()).read_bytes()


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def xlsx_sheet(content: bytes) -> Any:
    return load_workbook(io.BytesIO(content)).active


def test_the_directorate_filters_the_dashboard_and_its_exports_say_what_the_api_says(
    platform: Platform, browser: Browser
) -> None:
    console = platform.url(CONSOLE)
    context = new_context(browser, locale="fr-FR", size=SCREEN)
    page, violations = watched(context)
    sign_in_as(page, console, Role.DIRECTORATE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    page.get_by_label("Par", exact=True).select_option("pathway")
    page.get_by_label("Année scolaire").select_option(NEXT_YEAR)
    page.get_by_label("Chiffres").select_option("exact")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url("**/dashboard?by=pathway*")
    expect(page.locator("#enrolments table")).to_contain_text("Formation professionnelle")
    for table in ("#enrolments", "#demand"):
        expect(page.locator(f"{table} .chart svg")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-fr-1280.png"), full_page=True)

    statistics = api(platform, "enrollment", "/statistics", by="pathway", school_year=NEXT_YEAR)
    assert [
        [row["group"]["pathway"], row["waitlisted"], row["enrolled"], row["withdrawn"]]
        for row in statistics.json()["rows"]
    ] == [["vocational_training", len(NEXT_INTAKE) - PLACES, PLACES, 0]]
    names = {p["code"]: p["fr"] for p in api(platform, "enrollment", "/pathways").json()}
    expected = [
        [
            names[row["group"]["pathway"]],
            row["waitlisted"],
            row["enrolled"],
            row["withdrawn"],
            row["completed"],
        ]
        for row in statistics.json()["rows"]
    ]
    as_csv = csv_rows(downloaded(page, '#enrolments a[href*="enrolments.csv"]'))
    assert as_csv[0] == ["Parcours", "Sur liste d'attente", "Inscrit", "Sorti", "Achevé"]
    assert as_csv[1:] == [[str(cell) for cell in row] for row in expected]
    sheet = xlsx_sheet(downloaded(page, '#enrolments a[href*="enrolments.xlsx"]'))
    assert [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)] == expected
    assert not sheet.sheet_view.rightToLeft

    demand = api(platform, "enrollment", "/statistics/demand", school_year=NEXT_YEAR).json()
    assert [(row["places"], row["waitlisted"]) for row in demand["centers"]] == [(PLACES, 2)]
    sheet = xlsx_sheet(downloaded(page, '#demand a[href*="demand.xlsx"]'))
    assert [row for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        ("Centre Al-Nasr", "Formation professionnelle", NEXT_YEAR, PLACES, PLACES, 2)
    ]
    indicators = api(
        platform,
        "enrollment",
        "/indicators",
        by="pathway",
        school_year=NEXT_YEAR,
        publication="false",
        format="csv",
        lang="fr",
    )
    assert downloaded(page, '#indicators a[href*="indicators.csv"]') == indicators.content

    page.get_by_label("Par", exact=True).select_option("association")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url("**/dashboard?by=association*")
    by_association = api(
        platform, "enrollment", "/statistics", by="association", school_year=NEXT_YEAR
    ).json()["rows"]
    associations = {a["id"]: a["name"] for a in api(platform, "enrollment", "/associations").json()}
    expected = [
        [
            associations[row["group"]["association"]],
            *(row[s] for s in ("waitlisted", "enrolled", "withdrawn", "completed")),
        ]
        for row in by_association
    ]
    assert [row[0] for row in expected] == ["Association Al-Amal"]
    shown = page.locator("#enrolments tbody tr")
    assert [
        [cell.strip() for cell in shown.nth(n).locator("th, td").all_inner_texts()]
        for n in range(shown.count())
    ] == [[str(cell) for cell in row] for row in expected]
    as_csv = csv_rows(downloaded(page, '#enrolments a[href*="enrolments.csv"]'))
    assert as_csv[0][0] == "Association"
    assert as_csv[1:] == [[str(cell) for cell in row] for row in expected]
    sheet = xlsx_sheet(downloaded(page, '#enrolments a[href*="enrolments.xlsx"]'))
    assert [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)] == expected
    assert violations == []
    context.close()


def test_the_dashboard_in_arabic_on_a_phone_withholds_small_cells_as_the_api_does(
    platform: Platform, browser: Browser
) -> None:
    console = platform.url(CONSOLE)
    context = new_context(browser, locale="ar-MA", size=PHONE)
    page, violations = watched(context)
    sign_in_as(page, console, Role.DIRECTORATE)
    assert page.locator("html").get_attribute("dir") == "rtl"
    expect(page.get_by_role("heading", level=1)).to_have_text("لوحة القيادة")
    page.get_by_label("حسب").select_option("sex")
    page.get_by_role("button", name="عرض").click()
    page.wait_for_url("**/dashboard?by=sex*")
    expect(page.locator("#enrolments table")).to_contain_text("أنثى")
    fits(page, PHONE[0])

    published = api(platform, "enrollment", "/statistics", by="sex", publication="true").json()
    sexes = {"female": "أنثى", "male": "ذكر"}
    expected = [
        [
            sexes[row["group"]["sex"]],
            *(
                "<5" if row[s] is None else str(row[s])
                for s in ("waitlisted", "enrolled", "withdrawn", "completed")
            ),
        ]
        for row in published["rows"]
    ]
    assert any("<5" in row for row in expected), "three girls and three boys: withheld"
    assert csv_rows(downloaded(page, '#enrolments a[href*="enrolments.csv"]'))[1:] == expected
    sheet = xlsx_sheet(downloaded(page, '#enrolments a[href*="enrolments.xlsx"]'))
    assert sheet.sheet_view.rightToLeft
    assert [[str(c) for c in row] for row in sheet.iter_rows(min_row=2, values_only=True)] == (
        expected
    )

    page.get_by_label("حسب").select_option("center")
    page.get_by_role("button", name="عرض").click()
    expect(page.locator("#enrolments table")).to_contain_text("مركز النصر")
    expect(page.locator("#enrolments rect[width]").first).to_be_attached()
    fits(page, PHONE[0])
    page.screenshot(path=str(SCREENSHOTS / "dashboard-ar-360.png"), full_page=True)
    assert violations == []
    context.close()


def report_of(page: Page, language: str, tmp_path: Path) -> str:
    """The yearly report for the school year, downloaded from the dashboard's form in
    ``language``: its text (pdftotext, direction marks left out); its second page (key figures
    and the first tables) kept as a PNG in docs/console/."""
    page.locator("#report-school-year").select_option(SCHOOL_YEAR)
    page.locator("#report-language").select_option(language)
    # Some twenty tables and their charts: WeasyPrint takes a while on a busy machine.
    with page.expect_download(timeout=REPORT_PATIENCE_MS) as download:
        page.locator("form.report button").click()
    assert download.value.suggested_filename == f"report-2025-2026-{language}.pdf"
    pdf = Path(download.value.path()).read_bytes()
    text = pdf_text(pdf, tmp_path, f"report-{language}.pdf")
    path = str(tmp_path / f"report-{language}.pdf")
    sizes = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "99", path], check=True, capture_output=True, text=True
    ).stdout
    wide = next(
        int(n) for n, width, height in LANDSCAPE.findall(sizes) if float(width) > float(height)
    )
    for first, name in ((2, f"report-{language}"), (wide, f"report-{language}-indicators")):
        pages = ["-f", str(first), "-l", str(first), "-singlefile"]
        target = [path, str(SCREENSHOTS / name)]
        subprocess.run(["pdftoppm", "-png", "-r", "60", *pages, *target], check=True)
    return re.sub("[\u202a-\u202e\u2066-\u2069]", "", text).replace("\u202f", " ")


LANDSCAPE = re.compile(r"Page +(\d+) size: +([\d.]+) x ([\d.]+)")


def has_row(text: str, label: str, cells: list[str], *, right_to_left: bool) -> bool:
    """Whether a line of the PDF's text is a table's row: its label and cells (pdftotext lays
    Arabic's columns out from the right)."""
    shown = cells[::-1] if right_to_left else cells
    return any(
        line.replace(label, "").split() == shown for line in text.splitlines() if label in line
    )


def test_the_directorate_downloads_the_yearly_report_in_arabic_and_french(
    platform: Platform, browser: Browser, tmp_path: Path
) -> None:
    """The published figures the enrollment service gives are those the PDF prints, in
    either language, whatever the console's own."""
    issued_certificate(platform)  # the report counts diplomas: at least one, whatever ran before
    console = platform.url(CONSOLE)
    context = new_context(browser, locale="fr-FR", size=SCREEN)
    page, violations = watched(context)
    sign_in_as(page, console, Role.DIRECTORATE)
    published = {"school_year": SCHOOL_YEAR, "publication": "true"}
    by_sex = api(platform, "enrollment", "/statistics", by="sex", **published).json()["rows"]
    assert {row["completed"] for row in by_sex} == {None}, "three girls, three boys: <5"
    by_pathway = api(platform, "enrollment", "/statistics", by="pathway", **published).json()

    arabic = report_of(page, "ar", tmp_path)
    for words in ("التقرير السنوي للبرنامج", "عمالة مراكش", SCHOOL_YEAR, "مركز النصر", "أنثى"):
        assert words in arabic
    french = report_of(page, "fr", tmp_path)
    for words in (
        "Rapport annuel du programme",
        "Préfecture de Marrakech",
        SCHOOL_YEAR,
        "Centre Al-Nasr",
    ):
        assert words in french
    diplomas = api(platform, "certification", "/certificates/summary", school_year=SCHOOL_YEAR)
    certificates = [str(diplomas.json()["issued"]), str(diplomas.json()["active"])]
    assert certificates[0] != "0"
    [training] = api(platform, "training", "/indicators", by="pathway", **published).json()
    for text, language in ((arabic, "ar"), (french, "fr")):
        assert has_row(text, SCHOOL_YEAR, certificates, right_to_left=language == "ar")
        pathway = "التكوين المهني" if language == "ar" else "Formation professionnelle"
        attendance = [
            "<5" if training[figure] is None else local_number(training[figure], language)
            for figure in ("learners",)
        ]
        attendance += [
            local_number(round(training["attendance_rate"] * 100, 1), language),
            *(
                "<5" if training[figure] is None else str(training[figure])
                for figure in ("at_risk", "completed")
            ),
            local_number(round(training["completion_rate"] * 100, 1), language),
            str(training["withdrawn"]),
        ]
        assert has_row(text, pathway, attendance, right_to_left=language == "ar"), attendance
    [row] = by_pathway["rows"]
    expected = [
        "<5" if row[status] is None else str(row[status])
        for status in ("waitlisted", "enrolled", "withdrawn", "completed")
    ]
    assert expected[-1] == str(COHORT)
    for text, pathway in ((arabic, "التكوين المهني"), (french, "Formation professionnelle")):
        # The table by pathway is the first to name it (the capacity table comes later).
        figures = next(
            line.replace(pathway, "").split() for line in text.splitlines() if pathway in line
        )
        # French reads left to right; pdftotext lays Arabic's columns out from the right.
        assert figures == (expected if text is french else expected[::-1])
        assert "<5" in text
    assert violations == []
    context.close()


def test_the_capacity_planning_says_what_the_api_says_and_passes_axe_in_arabic(
    platform: Platform, browser: Browser
) -> None:
    console = platform.url(CONSOLE)
    context = axe_context(browser, locale="ar-MA", size=PHONE)
    page = context.new_page()
    sign_in_as(page, console, Role.DIRECTORATE)
    page.goto(f"{console}/dashboard?school_year={NEXT_YEAR.replace('/', '%2F')}&figures=exact")
    demand = api(platform, "enrollment", "/statistics/demand", school_year=NEXT_YEAR).json()
    [intake] = demand["centers"]
    waiting = len(NEXT_INTAKE) - PLACES
    assert (intake["places"], intake["enrolled"], intake["waitlisted"]) == (PLACES, PLACES, waiting)
    row = page.locator("#capacity tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_have_class("flagged")
    cells = [cell.strip() for cell in row.locator("th, td").all_inner_texts()]
    assert cells == [
        "مركز النصر",
        "التكوين المهني",
        NEXT_YEAR,
        str(PLACES),
        str(PLACES),
        str(waiting),
        str(waiting),
        "100",
        "لائحة الانتظار",
    ]
    as_csv = csv_rows(downloaded(page, '#capacity a[href*="capacity.csv"]'))
    occupancy = 7  # a percentage: 100 on the page, 100.0 in the file
    assert float(as_csv[1].pop(occupancy)) == float(cells.pop(occupancy)) == 100
    assert as_csv[1] == cells
    fits(page, PHONE[0])
    page.locator("#capacity").screenshot(path=str(SCREENSHOTS / "capacity-ar-360.png"))
    assert serious_violations(page) == []
    context.close()


class WebhookReceiver(ThreadingHTTPServer):
    """A partner's webhook on loopback: it keeps each request (headers, body) and says 204."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        super().__init__(("127.0.0.1", free_port()), _Keep)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/fursa-events"

    def wait_for_one(self) -> tuple[dict[str, str], bytes]:
        deadline = time.monotonic() + PATIENCE_S
        while not self.received:
            assert time.monotonic() < deadline, "the partner's webhook received nothing"
            time.sleep(0.2)
        [request] = self.received
        return request


class _Keep(BaseHTTPRequestHandler):
    server: WebhookReceiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.server.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads what was received."""


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.shutdown()
        receiver.server_close()


def _in_own_loop(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine in a thread of its own: Playwright's sync API holds this one's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


async def _admin_eventually(url: str, *, until: Any) -> Any:
    async with httpx.AsyncClient(headers=dev_authorization(), timeout=30) as http:
        return await _eventually(http, url, until=until)


ADMINISTERING = {
    "ar": {
        "partners": "الشركاء",
        "name label": "اسم الهيئة",
        "webhook label": "عنوان الاستقبال (webhook)",
        "register": "تسجيل الشريك",
        "enrolled event": "تسجيل متعلم",
        "send again": "إعادة الإرسال",
        "sent again": "سيُرسَل الحدث",
        "new secret": "إنشاء مفتاح توقيع جديد",
        "partner": "جمعية الأمل للإدماج",
        "dead letters": "الرسائل المتعذرة المعالجة",
        "certification": "الإشهاد",
        "unreadable": "لا تستطيع المصلحة قراءة هذا الحدث",
        "replay": "إعادة المعالجة",
        "still fails": "لا تزال معالجة الحدث متعذرة",
        "discard": "استبعاده نهائيا",
        "discarded": "استُبعدت الرسالة",
        "trail discarded": "استُبعد",
    },
    "fr": {
        "partners": "Partenaires",
        "name label": "Nom de l'organisme",
        "webhook label": "Adresse du webhook",
        "register": "Enregistrer le partenaire",
        "enrolled event": "Inscription d'un apprenant",
        "send again": "Renvoyer",
        "sent again": "L'événement sera de nouveau envoyé",
        "new secret": "Lui attribuer un nouveau secret de signature",
        "partner": "Association Al-Amal pour l'insertion",
        "dead letters": "Messages en échec",
        "certification": "Certification",
        "unreadable": "Le service ne peut pas lire cet événement",
        "replay": "Rejouer",
        "still fails": "L'événement échoue toujours",
        "discard": "L'écarter définitivement",
        "discarded": "Le message a été écarté",
        "trail discarded": "écarté",
    },
}
NEXT_LEARNER = {"ar": 27, "fr": 28}  # enrolled after each onboarding, for its webhook


def a_partner(platform: Platform) -> None:
    """A partner registered, over the API when the console has onboarded none yet."""
    if not partner_names(platform):
        httpx.post(
            platform.url("notify") + "/partners/onboarding",
            json={"name": "Association Relais Marrakech"},
            headers=dev_authorization(),
            timeout=30,
        ).raise_for_status()


def partner_names(platform: Platform) -> list[str]:
    partners = httpx.get(platform.url("notify") + "/partners", headers=dev_authorization())
    return [partner["name"] for partner in partners.raise_for_status().json()]


@pytest.mark.parametrize(("locale", "size"), [("ar-MA", PHONE), ("fr-FR", SCREEN)])
def test_an_administrator_onboards_a_partner_whose_webhook_receives_a_signed_enrolment(
    platform: Platform,
    browser: Browser,
    webhook: WebhookReceiver,
    locale: str,
    size: tuple[int, int],
) -> None:
    words = ADMINISTERING[locale[:2]]
    console = platform.url(CONSOLE)
    context = new_context(browser, locale=locale, size=size)
    page, violations = watched(context)
    sign_in_as(page, console, Role.ADMIN)
    page.get_by_role("link", name=words["partners"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["partners"])
    page.get_by_label(words["name label"]).fill(words["partner"])
    page.get_by_label(words["webhook label"]).fill(webhook.url)
    page.get_by_role("button", name=words["register"]).click()
    expect(page.locator("fieldset.invalid")).to_have_count(1)
    assert words["partner"] not in partner_names(platform), "a refused onboarding registers nothing"
    page.get_by_label(words["enrolled event"], exact=True).check()
    page.get_by_role("button", name=words["register"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["partner"])
    secret = page.locator(".signing-secret").inner_text().strip()
    assert secret.startswith("whsec_")
    fits(page, size[0])

    enrolled = httpx.post(
        platform.url("enrollment") + "/enrollments",
        json=enrollment_body(NEXT_LEARNER[locale[:2]], DEMO_CENTER_ID),
        headers=dev_authorization(),
        timeout=30,
    ).raise_for_status()
    headers, body = webhook.wait_for_one()
    event = Webhook(secret).verify(body, headers)
    assert event["type"] == "fursa.partner.learner-enrolled.v1"
    assert event["data"]["enrollment_id"] == enrolled.json()["enrollment_id"]

    page.goto(console + "/partners")
    fits(page, size[0])
    if locale == "ar-MA":
        page.screenshot(path=str(SCREENSHOTS / "partners-ar-360.png"), full_page=True)
    page.get_by_role("link", name=words["partner"]).click()
    assert page.locator(".signing-secret").count() == 0, "the secret is shown once only"
    delivery = page.locator(".delivery")
    expect(delivery).to_have_count(1)
    expect(delivery).to_contain_text(words["enrolled event"])
    fits(page, size[0])
    if locale == "ar-MA":
        page.screenshot(path=str(SCREENSHOTS / "partner-ar-360.png"), full_page=True)

    delivery.get_by_role("button", name=words["send again"]).click()
    expect(page.get_by_role("status")).to_contain_text(words["sent again"])
    page.get_by_role("button", name=words["new secret"]).click()
    rotated = page.locator(".signing-secret").inner_text().strip()
    assert rotated.startswith("whsec_")
    assert rotated != secret
    assert violations == []
    context.close()


@pytest.mark.parametrize(("locale", "size"), [("ar-MA", PHONE), ("fr-FR", SCREEN)])
def test_an_administrator_replays_then_discards_a_poison_event(
    platform: Platform, browser: Browser, locale: str, size: tuple[int, int]
) -> None:
    """An event certification cannot read is dead-lettered at once: its replay still fails,
    its discard removes it, and the service's trail says so. Why it failed is told in the
    person's language; the service's own words wait behind "technical detail"."""
    words = ADMINISTERING[locale[:2]]
    _in_own_loop(_publish_poison(platform, message_id=f"poison-{locale}"))
    certification = platform.url("certification")
    _in_own_loop(
        _admin_eventually(certification + "/dead-letters", until=lambda found: len(found) == 1)
    )

    console = platform.url(CONSOLE)
    context = new_context(browser, locale=locale, size=size)
    page, violations = watched(context)
    sign_in_as(page, console, Role.ADMIN)
    page.get_by_role("link", name=words["dead letters"]).click()
    page.get_by_role("link", name=words["certification"]).click()
    letter = page.locator(".dead-letter")
    expect(letter).to_have_count(1)
    expect(letter).to_contain_text(POISON_SUBJECT)
    expect(letter.locator(".error")).to_contain_text(words["unreadable"])
    expect(letter.locator("details.technical p")).to_contain_text("invalid event")
    expect(letter.locator("details.technical p")).not_to_be_visible()
    assert "not an event" not in page.content(), "the payload is never shown"
    trail = page.locator(".trail li").count()
    letter.get_by_role("button", name=words["replay"]).click()
    expect(page.get_by_role("alert")).to_contain_text(words["still fails"])
    fits(page, size[0])
    if locale == "ar-MA":
        page.screenshot(path=str(SCREENSHOTS / "dead-letters-ar-360.png"), full_page=True)

    letter.locator("details.confirm summary").click()
    letter.get_by_role("button", name=words["discard"]).click()
    expect(page.get_by_role("status")).to_contain_text(words["discarded"])
    expect(letter).to_have_count(0)
    expect(page.locator(".trail li")).to_have_count(trail + 1)
    expect(page.locator(".trail li").first).to_contain_text(words["trail discarded"])
    assert violations == []
    context.close()


@pytest.mark.parametrize(("locale", "size"), [("ar-MA", PHONE), ("fr-FR", SCREEN)])
def test_the_administrators_pages_have_no_serious_accessibility_violation(
    platform: Platform, browser: Browser, locale: str, size: tuple[int, int]
) -> None:
    """The partners, a partner's page, and the dead letters with their trail."""
    a_partner(platform)
    console = platform.url(CONSOLE)
    context = axe_context(browser, locale=locale, size=size)
    page = context.new_page()
    sign_in_as(page, console, Role.ADMIN)
    page.goto(console + "/partners")
    partner = page.locator('main a[href^="/partners/"]').first.get_attribute("href")
    for path in ("/partners", str(partner), "/dead-letters", "/dead-letters?service=certification"):
        response = page.goto(console + path)
        assert response is not None
        assert response.ok, path
        assert serious_violations(page) == [], path
    context.close()


POISON_SUBJECT = "fursa.training.training-completed.v1"


async def _publish_poison(platform: Platform, *, message_id: str) -> None:
    assert platform.nats is not None
    connection = await nats.connect(
        platform.nats.url, user="admin", password=platform.passwords["admin"]
    )
    try:
        await connection.jetstream().publish(
            POISON_SUBJECT, b"not an event", headers={"Nats-Msg-Id": message_id}, timeout=30
        )
    finally:
        await connection.close()


TRANSFER_WORDS = {
    "ar-MA": {
        "transfer": "نقل",
        "submit": "نقل المتعلم",
        "done": "نُقل المتعلم.",
        "history": "نُقل من",
    },
    "fr-FR": {
        "transfer": "Transférer",
        "submit": "Transférer l'apprenant",
        "done": "L'apprenant est transféré.",
        "history": "Transféré de",
    },
}


@pytest.mark.parametrize(("locale", "size"), [("ar-MA", PHONE), ("fr-FR", SCREEN)])
def test_association_staff_transfer_a_learner_to_their_other_center(
    platform: Platform, browser: Browser, locale: str, size: tuple[int, int]
) -> None:
    """An association running two centers moves a learner from one to the other: the form
    offers only the association's other center, the enrollment service then holds the learner
    at the new center, and the learner's page says where they came from."""
    words = TRANSFER_WORDS[locale]
    enrollment = platform.url("enrollment")
    with httpx.Client(headers=dev_authorization(), timeout=30) as http:
        association = (
            http.post(
                f"{enrollment}/associations",
                json={
                    "name": f"Association Tifawin {locale}",
                    "name_ar": f"جمعية تيفاوين {locale}",
                },
            )
            .raise_for_status()
            .json()["id"]
        )
        centers = []
        for town, town_ar in (("Berkane", "بركان"), ("Nador", "الناظور")):
            center = (
                http.post(
                    f"{enrollment}/centers",
                    json={
                        "name": f"Centre de {town} {locale}",
                        "name_ar": f"مركز {town_ar} {locale}",
                        "commune": town,
                        "province_code": "381",
                        "region_code": "02",
                        "association_id": association,
                    },
                )
                .raise_for_status()
                .json()["id"]
            )
            capacity = {"pathway": "vocational_training", "school_year": SCHOOL_YEAR, "places": 5}
            http.put(f"{enrollment}/centers/{center}/capacity", json=capacity).raise_for_status()
            centers.append(center)
        origin, destination = centers
        n = 40 if locale == "ar-MA" else 41
        enrolled = (
            http.post(f"{enrollment}/enrollments", json=enrollment_body(n, origin))
            .raise_for_status()
            .json()
        )
        assert enrolled["status"] == "enrolled"

    console = platform.url(CONSOLE)
    context = new_context(browser, locale=locale, size=size)
    signed_in_elsewhere(context, console, Role.ASSOCIATION_STAFF, association_id=association)
    page, violations = watched(context)
    page.goto(f"{console}/learners/{enrolled['learner_id']}")
    page.get_by_role("link", name=words["transfer"], exact=True).click()
    choices = page.locator("#to_center_id option")
    expect(choices).to_have_count(1)
    assert choices.first.get_attribute("value") == destination
    fits(page, size[0])
    page.get_by_role("button", name=words["submit"]).click()
    expect(page.get_by_role("status")).to_contain_text(words["done"])
    expect(page.locator("main")).to_contain_text(words["history"])
    assert violations == []
    context.close()

    with httpx.Client(headers=dev_authorization(), timeout=30) as http:
        moved = http.get(f"{enrollment}/enrollments/{enrolled['enrollment_id']}")
        moved.raise_for_status()
    assert moved.json()["center_id"] == destination
    assert [(t["from_center_id"], t["to_center_id"]) for t in moved.json()["transfers"]] == [
        (origin, destination)
    ]
