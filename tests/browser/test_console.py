"""The staff console in a real browser, signed in through a real OpenID provider.

npm's OpenID-certified ``oidc-provider`` runs as the programme's identity provider
(services/console/tests/oidc_provider.mjs); the four services verify its access tokens against
its published keys, and the console forwards them. Debian's Chromium, driven by Playwright,
signs in (authorization code + PKCE), enrols a learner, finds them by their Arabic name, sees
the possible-duplicate warning, in Arabic on a 360 px phone and in French on a 1280 px screen;
a person of another association sees none of it.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import io
import json
import re
import secrets
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from fursa.cli.demo import enrollment_body, hold_class
from fursa.cli.platform import CONSOLE, SERVICES, Platform
from fursa.enrollment.demo import DEMO_ASSOCIATION_ID, DEMO_CENTER_ID
from fursa.shared.clock import local_today
from fursa.shared.natsserver import free_port
from fursa.training.follow_up import Week, completions_due

# The journeys of association staff and educators run in the order written, on one platform: a
# later journey reads what an earlier one did through the console (learners enrolled through
# the forms, a class called), as the people who use it would. A random order of
# the whole suite keeps this module's tests together and in order (pytest-random-order),
# and shuffles everything else.
pytestmark = [pytest.mark.slow, pytest.mark.random_order(disabled=True)]

CHROMIUM = "/usr/bin/chromium"
PROVIDER_SCRIPT = Path(__file__).parents[2] / "services/console/tests/oidc_provider.mjs"
SCREENSHOTS = Path(__file__).parents[2] / "docs/console"
CLIENT_SECRET = secrets.token_urlsafe(24)
OTHER_ASSOCIATION_ID = "5d0c6a3e-1f2b-4c8d-9e7f-0a1b2c3d4e5f"
ACCOUNTS = {
    "amal-staff": {
        "name": "Khadija Amrani",
        "role": "association_staff",
        "association_id": DEMO_ASSOCIATION_ID,
    },
    "amal-educator": {"name": "Hassan Alaoui", "role": "educator", "center_id": DEMO_CENTER_ID},
    "other-staff": {
        "name": "Rachid Tazi",
        "role": "association_staff",
        "association_id": OTHER_ASSOCIATION_ID,
    },
}
AXE = Path(__file__).parents[2] / "node_modules/axe-core/axe.min.js"
PHONE = (360, 740)
SCREEN = (1280, 900)
T = TypeVar("T")


@pytest.fixture(scope="module")
def console_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def identity_provider(tmp_path_factory: pytest.TempPathFactory, console_port: int) -> Iterator[str]:
    """The identity provider's issuer URL, once it listens."""
    config = tmp_path_factory.mktemp("oidc") / "provider.json"
    config.write_text(
        json.dumps(
            {
                "port": 0,
                "client": {
                    "client_id": "fursa-console",
                    "client_secret": CLIENT_SECRET,
                    "redirect_uris": [f"http://127.0.0.1:{console_port}/sign-in/callback"],
                },
                "accounts": ACCOUNTS,
            }
        )
    )
    provider = subprocess.Popen(
        ["node", str(PROVIDER_SCRIPT), str(config)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert provider.stdout is not None
        ready = provider.stdout.readline().split()
        assert ready[:1] == ["ready"], f"the OpenID provider did not start: {ready}"
        yield ready[1]
    finally:
        provider.terminate()
        provider.wait(10)


@pytest.fixture(scope="module")
def platform(
    tmp_path_factory: pytest.TempPathFactory, identity_provider: str, console_port: int
) -> Iterator[Platform]:
    """The four services trusting the identity provider, and the console."""
    env = {f"FURSA_{service.upper()}_AUTH_OIDC_ISSUER": identity_provider for service in SERVICES}
    env |= {
        "FURSA_CONSOLE_OIDC_ISSUER": identity_provider,
        "FURSA_CONSOLE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
    }
    running = Platform(
        var_dir=tmp_path_factory.mktemp("var"),
        ports={**{name: free_port() for name in SERVICES}, CONSOLE: console_port},
        extra_env=env,
    )
    try:
        running.start(timeout_s=180)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def new_context(browser: Browser, *, locale: str, size: tuple[int, int]) -> BrowserContext:
    context = browser.new_context(
        locale=locale, viewport={"width": size[0], "height": size[1]}, device_scale_factor=1
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


def sign_in(page: Page, console: str, login: str, button: str) -> None:
    page.goto(f"{console}/learners")
    page.get_by_role("link", name=button).click()
    page.locator('input[name="login"]').fill(login)
    page.locator('input[name="password"]').fill("any")
    page.locator('button[type="submit"]').click()
    page.wait_for_url(f"{console}/learners")


def fits(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def fill_enrolment(page: Page, *, first_ar: str, first_latin: str, phone: str) -> None:
    page.locator("#first_name_ar").fill(first_ar)
    page.locator("#last_name_ar").fill("بنعلي")
    page.locator("#first_name_latin").fill(first_latin)
    page.locator("#last_name_latin").fill("Benali")
    page.locator("#birth_date").fill("2011-03-14")
    page.locator('input[name="sex"][value="female"]').check()
    page.locator("#last_school_level").select_option("primary_6")
    page.locator("#year_left_school").fill("2023")
    page.locator("#guardian_name").fill("Fatima Benali")
    page.locator("#guardian_phone").fill(phone)
    page.locator('input[name="consent_data_use"]').check()
    page.locator('input[name="consent_notifications"]').check()


def test_association_staff_enrol_and_find_a_learner_in_arabic_on_a_phone(
    platform: Platform, browser: Browser
) -> None:
    console = platform.url(CONSOLE)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = new_context(browser, locale="ar-MA", size=PHONE)
    page, violations = watched(context)

    sign_in(page, console, "amal-staff", "الدخول بحساب البرنامج")
    assert page.locator("html").get_attribute("dir") == "rtl"
    expect(page.get_by_role("heading", level=1)).to_have_text("المتعلمون")
    assert page.evaluate("document.cookie") == "", "the session must be out of scripts' reach"

    page.get_by_role("link", name="تسجيل متعلم").first.click()
    expect(page.get_by_role("heading", name="من يمكن تسجيله")).to_be_visible()
    fill_enrolment(page, first_ar="سلمى", first_latin="Salma", phone="06 11 22 33 44")
    fits(page, PHONE[0])
    page.screenshot(path=str(SCREENSHOTS / "enrol-ar-360.png"), full_page=True)
    page.get_by_role("button", name="تسجيل المتعلم").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("سلمى بنعلي")
    expect(page.get_by_role("status")).to_be_visible()
    fits(page, PHONE[0])

    # The same girl, her first name spelled otherwise, another phone: enrolled, with a warning
    # that names the earlier record.
    page.goto(f"{console}/enrol")
    fill_enrolment(page, first_ar="سلمى", first_latin="Selma", phone="0655667788")
    page.get_by_role("button", name="تسجيل المتعلم").click()
    warning = page.get_by_role("alert")
    expect(warning).to_contain_text("تكرار محتمل")
    expect(warning.get_by_role("link")).to_contain_text("Salma")
    page.screenshot(path=str(SCREENSHOTS / "learner-ar-360.png"), full_page=True)

    # Searching in Arabic script, as staff type it (no hamza, no vowels).
    page.goto(f"{console}/learners")
    page.get_by_label("الاسم").fill("سلمى")
    page.wait_for_url("**/learners?name=*")
    cards = page.locator("#results .card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("بنعلي")
    fits(page, PHONE[0])
    page.screenshot(path=str(SCREENSHOTS / "learners-ar-360.png"), full_page=True)

    # A refused enrolment says why, in Arabic, beside the field.
    page.goto(f"{console}/enrol")
    fill_enrolment(page, first_ar="هدى", first_latin="Houda", phone="0612121212")
    page.locator("#birth_date").fill("2020-01-01")
    page.get_by_role("button", name="تسجيل المتعلم").click()
    expect(page.get_by_role("alert")).to_contain_text("الحد الأدنى")

    page.get_by_role("button", name="تسجيل الخروج").click()
    page.goto(f"{console}/learners")
    expect(page).to_have_url(f"{console}/sign-in")
    assert violations == []
    context.close()


def test_french_on_a_wide_screen_and_the_language_switch(
    platform: Platform, browser: Browser
) -> None:
    console = platform.url(CONSOLE)
    context = new_context(browser, locale="fr-FR", size=SCREEN)
    page, violations = watched(context)
    sign_in(page, console, "amal-staff", "Se connecter avec son compte du programme")
    assert page.locator("html").get_attribute("dir") == "ltr"
    expect(page.get_by_role("heading", level=1)).to_have_text("Apprenants")
    # Latin script, whatever the spelling: Salma finds Selma too.
    page.get_by_label("Nom", exact=True).fill("salma benali")
    page.wait_for_url("**/learners?name=*")
    expect(page.locator("#results .card")).to_have_count(2)
    page.get_by_label("Nom", exact=True).fill("")
    page.wait_for_url(re.compile(r"/learners\?name=&"))
    page.screenshot(path=str(SCREENSHOTS / "learners-fr-1280.png"), full_page=True)

    page.locator("#results .card a").first.click()
    expect(page.get_by_role("heading", name="Inscriptions")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "learner-fr-1280.png"), full_page=True)
    page.get_by_role("link", name="Inscrire un apprenant").first.click()
    page.screenshot(path=str(SCREENSHOTS / "enrol-fr-1280.png"), full_page=True)

    # The switch keeps the person on the page they were reading, and the choice stays.
    page.get_by_role("button", name="العربية").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("تسجيل متعلم")
    page.goto(f"{console}/learners")
    assert page.locator("html").get_attribute("lang") == "ar"
    page.get_by_role("button", name="Français").click()
    assert page.locator("html").get_attribute("lang") == "fr"
    assert violations == []
    context.close()


def test_staff_of_another_association_see_none_of_its_learners(
    platform: Platform, browser: Browser
) -> None:
    console = platform.url(CONSOLE)
    amal = new_context(browser, locale="fr-FR", size=SCREEN)
    page, _ = watched(amal)
    sign_in(page, console, "amal-staff", "Se connecter avec son compte du programme")
    page.locator("#results .card a").first.click()
    learner_url = page.url
    amal.close()

    other = new_context(browser, locale="fr-FR", size=SCREEN)
    page, _ = watched(other)
    sign_in(page, console, "other-staff", "Se connecter avec son compte du programme")
    expect(page.locator("#results")).to_contain_text("Aucun apprenant ne correspond.")
    response = page.goto(learner_url)
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Introuvable")
    other.close()


def test_a_learners_page_tells_everything_and_staff_correct_withdraw_and_erase(
    platform: Platform, browser: Browser
) -> None:
    console = platform.url(CONSOLE)
    context = new_context(browser, locale="fr-FR", size=SCREEN)
    page, violations = watched(context)
    sign_in(page, console, "amal-staff", "Se connecter avec son compte du programme")
    page.goto(f"{console}/enrol")
    fill_enrolment(page, first_ar="نورة", first_latin="Noura", phone="0677889900")
    page.locator("#last_name_latin").fill("Idrissi")
    page.get_by_role("button", name="Inscrire l'apprenant").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Noura Idrissi")
    learner_url = page.url
    # Attendance comes from training, messages from notify, the history from enrollment (an
    # association's staff may not read it today: the page says so instead of failing).
    expect(page.get_by_role("heading", name="Messages envoyés")).to_be_visible()
    expect(page.get_by_role("heading", name="Historique du dossier")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Assiduité", timeout=15_000)

    page.get_by_role("link", name="Corriger les informations").click()
    page.get_by_label("Prénom en lettres latines").fill("Nora")
    page.get_by_role("button", name="Enregistrer la correction").click()
    expect(page.get_by_role("status")).to_contain_text("Les informations sont corrigées.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nora Idrissi")

    page.get_by_role("link", name="Retirer").click()
    page.get_by_label("déménagement").check()
    page.get_by_role("button", name="Enregistrer le retrait").click()
    expect(page.get_by_role("status")).to_contain_text("Le retrait est enregistré.")
    expect(page.locator(".history")).to_contain_text("Motif : déménagement")
    page.screenshot(path=str(SCREENSHOTS / "learner-changes-fr-1280.png"), full_page=True)

    # Erasure asks for a confirmation first, then forgets the person everywhere.
    page.get_by_role("link", name="Demander l'effacement").click()
    page.get_by_role("button", name="Effacer les données personnelles").click()
    expect(page.get_by_role("alert")).to_contain_text("Cochez la case")
    page.get_by_label("Je confirme").check()
    page.get_by_role("button", name="Effacer les données personnelles").click()
    expect(page.get_by_role("status")).to_contain_text("sont effacées")
    expect(page.get_by_role("heading", level=1)).not_to_contain_text("Nora")
    assert page.url == learner_url
    assert violations == []
    context.close()


def test_an_educator_calls_a_class_offline_and_each_mark_arrives_once(
    platform: Platform, browser: Browser
) -> None:
    console = platform.url(CONSOLE)
    staff = new_context(browser, locale="fr-FR", size=SCREEN)
    page, _ = watched(staff)
    sign_in(page, console, "amal-staff", "Se connecter avec son compte du programme")
    for first_ar, first_latin, phone in (
        ("أمينة", "Amina", "0661000001"),
        ("ياسمين", "Yasmine", "0661000002"),
    ):
        page.goto(f"{console}/enrol")
        fill_enrolment(page, first_ar=first_ar, first_latin=first_latin, phone=phone)
        page.get_by_role("button", name="Inscrire l'apprenant").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(first_latin)
    staff.close()

    context = new_context(browser, locale="ar-MA", size=PHONE)
    page, violations = watched(context)
    sign_in(page, console, "amal-educator", "الدخول بحساب البرنامج")
    page.get_by_role("link", name="الأقسام").click()
    # The training service opens their trainings when it hears of the enrolments.
    start = page.get_by_role("button", name="إدراجهم في هذا القسم")
    for _ in range(30):
        if start.count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    start.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("القسم A")
    expect(page.locator(".call")).to_contain_text("أمينة")
    # Once the service worker holds the page, it opens without a connection.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("القسم A")
    class_url = page.url
    called = page.locator(".call > li").count()

    context.set_offline(True)
    page.locator(".mark", has_text="أمينة").get_by_role("radio", name="غائب").check()
    page.get_by_role("button", name="تسجيل الحضور").click()
    outbox = page.locator("#outbox")
    expect(outbox).to_contain_text(f"علامات في انتظار الإرسال: {called}")
    # Called again while still offline: the same session replaces its waiting copy.
    page.get_by_role("button", name="تسجيل الحضور").click()
    expect(outbox).to_contain_text(f"علامات في انتظار الإرسال: {called}")
    page.goto(class_url)
    expect(outbox).to_contain_text(f"علامات في انتظار الإرسال: {called}")
    fits(page, PHONE[0])
    page.screenshot(path=str(SCREENSHOTS / "attendance-offline-ar-360.png"), full_page=True)

    context.set_offline(False)
    expect(outbox).to_contain_text("أُرسل الحضور إلى البرنامج.")
    # The same session sent again is refused by the training service's key, and said so.
    page.get_by_role("button", name="تسجيل الحضور").click()
    expect(outbox).to_contain_text("لم يُسجَّل مرتين")
    page.screenshot(path=str(SCREENSHOTS / "attendance-conflict-ar-360.png"), full_page=True)

    # Signed out, the class pages kept for offline use (learners' names) leave the device.
    kept_pages = (
        "caches.keys().then(names => Promise.all(names.map(n => caches.open(n)"
        ".then(c => c.keys())))).then(kept => kept.flat()"
        ".map(r => new URL(r.url).pathname).filter(p => !p.startsWith('/static/')))"
    )
    assert page.evaluate(kept_pages) != []
    page.get_by_role("button", name="تسجيل الخروج").click()
    page.wait_for_url(f"{console}/sign-in")
    for _ in range(50):
        if page.evaluate(kept_pages) == []:
            break
        page.wait_for_timeout(100)
    assert page.evaluate(kept_pages) == []
    context.set_offline(True)
    with pytest.raises(PlaywrightError):
        page.goto(class_url)
    assert violations == []
    context.close()


def test_an_educator_records_an_assessment_and_corrects_a_mark_and_a_score_with_a_reason(
    platform: Platform, browser: Browser
) -> None:
    console = platform.url(CONSOLE)
    staff = new_context(browser, locale="fr-FR", size=SCREEN)
    page, _ = watched(staff)
    sign_in(page, console, "amal-staff", "Se connecter avec son compte du programme")
    for first_ar, first_latin, phone in (
        ("سعاد", "Souad", "0661000011"),
        ("نادية", "Nadia", "0661000012"),
    ):
        page.goto(f"{console}/enrol")
        fill_enrolment(page, first_ar=first_ar, first_latin=first_latin, phone=phone)
        page.get_by_role("button", name="Inscrire l'apprenant").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(first_latin)
    staff.close()

    context = new_context(browser, locale="ar-MA", size=PHONE)
    page, violations = watched(context)
    sign_in(page, console, "amal-educator", "الدخول بحساب البرنامج")
    page.goto(f"{console}/classes")
    start = page.get_by_role("button", name="إدراجهم في هذا القسم")
    for _ in range(30):
        if start.count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    page.locator('input[name="class_name"]').fill("B")
    start.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("القسم B")
    class_url = page.url

    # A session called with Souad absent; she came after the call.
    page.locator(".mark", has_text="سعاد").get_by_role("radio", name="غائب").check()
    page.get_by_role("button", name="تسجيل الحضور").click()
    expect(page.locator("#outbox")).to_contain_text("أُرسل الحضور إلى البرنامج.")
    page.goto(class_url)
    page.locator('main a[href*="/sessions/"]').first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("حصة")
    souad = page.locator("#training_id option", has_text="سعاد").get_attribute("value")
    assert souad is not None
    page.locator("#training_id").select_option(souad)
    page.get_by_role("radio", name="حاضر").check()
    # No correction without its reason: the page says so and keeps what was chosen.
    page.get_by_role("button", name="تصحيح حالة الحضور").click()
    expect(page.get_by_role("alert")).to_have_text("اختر المتعلم وحالة الحضور الصحيحة والسبب.")
    expect(page.get_by_role("radio", name="حاضر")).to_be_checked()
    page.get_by_role("radio", name="حضر بعد المناداة").check()
    fits(page, PHONE[0])
    page.screenshot(path=str(SCREENSHOTS / "session-correction-ar-360.png"), full_page=True)
    page.get_by_role("button", name="تصحيح حالة الحضور").click()
    expect(page.get_by_role("status")).to_contain_text("صُحِّحت حالة الحضور")
    history = page.locator("#history")
    expect(history).to_contain_text("من غائب إلى حاضر")
    expect(history).to_contain_text("حضر بعد المناداة")
    expect(history).to_contain_text("amal-educator")

    # The class's assessment: Nadia's paper, marked again, earns her the module.
    page.goto(class_url)
    page.get_by_role("link", name="تسجيل تقويم والاطلاع على تقويمات القسم").click()
    page.locator(".scores li", has_text="سعاد").locator("input").fill("14")
    page.locator(".scores li", has_text="نادية").locator("input").fill("8.5")
    fits(page, PHONE[0])
    page.screenshot(path=str(SCREENSHOTS / "assessment-ar-360.png"), full_page=True)
    page.get_by_role("button", name="تسجيل التقويم").click()
    expect(page.get_by_role("status")).to_contain_text("سُجِّل التقويم: 1 ناجحون من أصل 2.")
    expect(page.locator(".panel .log")).to_contain_text("1 ناجحون من أصل 2")

    page.goto(class_url)
    page.locator("main a", has_text="نادية").click()
    page.locator("#score").fill("11")
    page.get_by_role("button", name="تصحيح النقطة").click()
    expect(page.get_by_role("alert")).to_have_text("أدخل النقطة الصحيحة على 20 واختر السبب.")
    expect(page.locator("#score")).to_have_value("11")
    page.get_by_role("radio", name="أُعيد تصحيح الورقة").check()
    page.get_by_role("button", name="تصحيح النقطة").click()
    expect(page.get_by_role("status")).to_contain_text("صُحِّحت النقطة")
    expect(history).to_contain_text("من 8,5 إلى 11")
    expect(history).to_contain_text("أُعيد تصحيح الورقة")
    fits(page, PHONE[0])
    page.screenshot(path=str(SCREENSHOTS / "class-learner-ar-360.png"), full_page=True)
    assert violations == []
    context.close()


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it stands."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"
    )
    return list(found)


@pytest.mark.parametrize(("locale", "size"), [("ar-MA", PHONE), ("fr-FR", SCREEN)])
def test_the_main_pages_have_no_serious_accessibility_violation(
    platform: Platform, browser: Browser, locale: str, size: tuple[int, int]
) -> None:
    console = platform.url(CONSOLE)
    button = {
        "ar-MA": "الدخول بحساب البرنامج",
        "fr-FR": "Se connecter avec son compte du programme",
    }
    # axe is injected as an inline script, which the console's CSP rightly refuses.
    context = browser.new_context(
        locale=locale, viewport={"width": size[0], "height": size[1]}, bypass_csp=True
    )
    page = context.new_page()
    page.goto(f"{console}/sign-in")
    assert serious_violations(page) == [], "sign-in"
    sign_in(page, console, "amal-staff", button[locale])
    learner = page.locator("#results .card a").first.get_attribute("href")
    enrollment = None
    pages = ["/learners", learner, "/enrol", "/classes", "/imports", "/duplicates"]
    for path in pages:
        page.goto(f"{console}{path}")
        assert serious_violations(page) == [], path
        link = page.locator('a[href$="/withdrawal"]')
        if enrollment is None and link.count():
            enrollment = link.first.get_attribute("href")
    assert enrollment is not None
    for path in (enrollment, f"{learner}/correction", f"{learner}/erasure"):
        page.goto(f"{console}{path}")
        assert serious_violations(page) == [], path
    page.get_by_role("button", name=re.compile("Effacer|محو")).click()
    assert serious_violations(page) == [], "a refused erasure"
    page.goto(f"{console}/classes")
    page.locator(".card a").first.click()
    assert serious_violations(page) == [], "a class roster"
    class_url = page.url
    for link in ('a[href$="/assessment"]', 'a[href*="/sessions/"]', 'a[href*="/learners/"]'):
        page.goto(class_url)
        page.locator(f"main {link}").first.click()
        assert serious_violations(page) == [], link
    context.close()


def learners_file(school_year: str) -> bytes:
    """Two pairs of learners who may each be one girl (one Arabic name, one birth date, two
    guardian phones): Zineb and Zaynab, Hajar and Hager; and a row whose birth date does not
    exist."""
    common = {
        "last_name_ar": "العلمي",
        "last_name_latin": "Alami",
        "birth_date": "2011-05-20",
        "sex": "female",
        "last_school_level": "primary_5",
        "year_left_school": "2023",
        "guardian_name": "Malika Alami",
        "guardian_language": "ar",
        "consent_data_use": "true",
        "consent_notifications": "true",
        "center_id": DEMO_CENTER_ID,
        "pathway": "school_reintegration",
        "school_year": school_year,
    }
    rows = [
        {"first_name_ar": "زينب", "first_name_latin": "Zineb", "guardian_phone": "+212662000001"},
        {"first_name_ar": "زينب", "first_name_latin": "Zaynab", "guardian_phone": "+212662000002"},
        {"first_name_ar": "هاجر", "first_name_latin": "Hajar", "guardian_phone": "+212662000003"},
        {"first_name_ar": "هاجر", "first_name_latin": "Hager", "guardian_phone": "+212662000004"},
        {
            "first_name_ar": "سناء",
            "first_name_latin": "Sanae",
            "guardian_phone": "+212662000005",
            "birth_date": "2011-02-30",
        },
    ]
    text = io.StringIO()
    columns = [*common, "first_name_ar", "first_name_latin", "guardian_phone"]
    writer = csv.DictWriter(text, fieldnames=columns)
    writer.writeheader()
    writer.writerows({**common, **row} for row in rows)
    return text.getvalue().encode()


def upload(page: Page, data: bytes) -> None:
    page.locator("#file").set_input_files(
        files=[{"name": "learners.csv", "mimeType": "text/csv", "buffer": data}]
    )
    page.get_by_role("button", name="استيراد المتعلمين من الملف").click()


def test_staff_import_learners_then_decide_on_the_possible_duplicates_the_file_held(
    platform: Platform, browser: Browser
) -> None:
    console = platform.url(CONSOLE)
    context = new_context(browser, locale="ar-MA", size=PHONE)
    page, violations = watched(context)
    sign_in(page, console, "amal-staff", "الدخول بحساب البرنامج")
    page.goto(f"{console}/enrol")
    school_year = page.locator("#school_year option").first.get_attribute("value")
    assert school_year is not None
    data = learners_file(school_year)

    page.get_by_role("link", name="استيراد المتعلمين").click()
    with page.expect_download() as template:
        page.get_by_role("link", name="تنزيل النموذج (CSV)").click()
    header = Path(template.value.path()).read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("first_name_ar,last_name_ar,first_name_latin,")
    fits(page, PHONE[0])
    page.screenshot(path=str(SCREENSHOTS / "import-ar-360.png"), full_page=True)
    upload(page, data)
    expect(page.get_by_role("status")).to_contain_text("سُجِّل 4 متعلمين")
    refused = page.locator(".refused > li")
    expect(refused).to_have_count(1)
    # The refused row by its line in the file, its column named as the enrol form names it.
    expect(refused).to_contain_text("السطر 6")
    expect(refused).to_contain_text("تاريخ الازدياد: تاريخ غير صالح")
    fits(page, PHONE[0])
    page.screenshot(path=str(SCREENSHOTS / "import-result-ar-360.png"), full_page=True)

    page.get_by_role("link", name="التكرارات المحتملة").click()
    zaynab = page.locator(".pairs > li", has_text="Zaynab")
    hager = page.locator(".pairs > li", has_text="Hager")
    expect(zaynab).to_contain_text("Zineb")
    expect(zaynab).to_contain_text("نفس تاريخ الازدياد")
    expect(zaynab).to_contain_text("أسماء متشابهة")
    expect(hager).to_contain_text("Hajar")
    fits(page, PHONE[0])
    page.screenshot(path=str(SCREENSHOTS / "duplicates-ar-360.png"), full_page=True)

    hager.get_by_role("button", name="شخصان مختلفان").click()
    expect(page.get_by_role("status")).to_contain_text("احتُفظ بالملفين باعتبارهما شخصين مختلفين")
    expect(hager).to_have_count(0)

    # Merging says which record stays; the service refuses while both girls are enrolled.
    zaynab.get_by_role("link", name="الشخص نفسه — دمج").click()
    expect(page.locator("main")).to_contain_text("يبقى الملف المسجَّل أولا: زينب العلمي")
    merge_url = page.url
    page.get_by_role("button", name="الدمج في الملف المسجَّل أولا").click()
    expect(page.get_by_role("alert")).to_contain_text("الدمج غير ممكن")
    fits(page, PHONE[0])
    page.screenshot(path=str(SCREENSHOTS / "duplicate-merge-ar-360.png"), full_page=True)

    # axe reads the pages this test reached (it is injected inline: CSP bypassed there only).
    checked = browser.new_context(
        locale="ar-MA", viewport={"width": PHONE[0], "height": PHONE[1]}, bypass_csp=True
    )
    other = checked.new_page()
    sign_in(other, console, "amal-staff", "الدخول بحساب البرنامج")
    other.goto(merge_url)
    assert serious_violations(other) == [], "the merge confirmation"
    other.goto(f"{console}/imports")
    upload(other, data)
    # The same file again enrols nobody twice.
    expect(other.get_by_role("status")).to_contain_text("4 أسطر سبق استيرادها")
    assert serious_violations(other) == [], "an import's result"
    checked.close()

    # Once the later record's enrolment is withdrawn, it merges into the earlier one.
    page.locator(".record", has_text="Zaynab").get_by_role("link").click()
    page.get_by_role("link", name="انسحاب").click()
    page.get_by_role("button", name="تسجيل الانسحاب").click()
    expect(page.get_by_role("status")).to_be_visible()
    page.goto(merge_url)
    page.get_by_role("button", name="الدمج في الملف المسجَّل أولا").click()
    expect(page.get_by_role("status")).to_contain_text("تم دمج الملفين في الملف المسجَّل أولا")
    expect(zaynab).to_have_count(0)
    assert violations == []
    context.close()

    # Neither page is an educator's work: not in their menu, refused if typed.
    educator = new_context(browser, locale="ar-MA", size=PHONE)
    page, _ = watched(educator)
    sign_in(page, console, "amal-educator", "الدخول بحساب البرنامج")
    expect(page.get_by_role("link", name="التكرارات المحتملة")).to_have_count(0)
    expect(page.get_by_role("link", name="استيراد المتعلمين")).to_have_count(0)
    for path in ("/duplicates", "/imports"):
        response = page.goto(f"{console}{path}")
        assert response is not None
        assert response.status == 403, path
    educator.close()


def record_agreement(
    enrollment: str, headers: dict[str, str], *, partner_name: str, purpose: str
) -> str:
    """The demo association's partnership agreement with ``partner_name``, recorded through
    the enrollment API (the demo has none); its id."""
    agreement = httpx.post(
        f"{enrollment}/agreements",
        headers=headers,
        json={
            "association_id": DEMO_ASSOCIATION_ID,
            "partner_name": partner_name,
            "purpose": purpose,
            "starts_on": "2026-01-01",
        },
    )
    assert agreement.status_code == 201, agreement.text
    return str(agreement.json()["id"])


def api_token(browser: Browser, issuer: str, console: str, login: str) -> str:
    """An access token of the identity provider for ``login``, as the console would get it
    (authorization code with PKCE, as the console's client), for a test's own API calls. The
    code is read on its way to the console, which refuses it: the sign-in is not its own."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    redirect_uri = f"{console}/sign-in/callback"
    query = {
        "client_id": "fursa-console",
        "response_type": "code",
        "scope": "openid profile",
        "redirect_uri": redirect_uri,
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
        "state": secrets.token_urlsafe(8),
    }
    context = browser.new_context()
    page = context.new_page()
    codes: list[str] = []
    page.on(
        "request",
        lambda request: (
            codes.extend(parse_qs(urlsplit(request.url).query)["code"])
            if request.url.startswith(redirect_uri)
            else None
        ),
    )
    page.goto(f"{issuer}/auth?{urlencode(query)}")
    page.locator('input[name="login"]').fill(login)
    page.locator('input[name="password"]').fill("any")
    page.locator('button[type="submit"]').click()
    page.wait_for_url(f"{redirect_uri}*")
    context.close()
    answer = httpx.post(
        f"{issuer}/token",
        auth=("fursa-console", CLIENT_SECRET),
        data={
            "grant_type": "authorization_code",
            "code": codes[0],
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def test_association_staff_record_accept_and_close_a_partner_referral(
    platform: Platform, browser: Browser, identity_provider: str
) -> None:
    console = platform.url(CONSOLE)
    # The demo has no partnership agreement: the association's staff record one through the API.
    token = api_token(browser, identity_provider, console, "amal-staff")
    record_agreement(
        platform.url("enrollment"),
        {"Authorization": f"Bearer {token}"},
        partner_name="Centre de protection de l'enfance de Fès",
        purpose="Orientation d'enfants sortis de l'école vers l'école de la deuxième chance",
    )

    context = new_context(browser, locale="ar-MA", size=PHONE)
    page, violations = watched(context)
    sign_in(page, console, "amal-staff", "الدخول بحساب البرنامج")
    page.get_by_role("link", name="الإحالات").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("الإحالات")
    expect(page.get_by_text("ولا يُدخَل أي اسم. المعطيات الصحية لا تُدخَل أبدا")).to_be_visible()

    # Something shared with the partner needs who consented to it: the service refuses.
    page.locator("#reference").fill("CPE-2026/041")
    page.locator('input[name="sharing"][value="status"]').check()
    page.get_by_role("button", name="تسجيل الإحالة").click()
    expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute(
        "href", "#consent_given_by"
    )
    expect(page.get_by_text("حدِّد من أعطى الموافقة: سيُخبَر الشريك بشيء.")).to_be_visible()
    expect(page.locator("#reference")).to_have_value("CPE-2026/041")

    page.locator('input[name="consent_given_by"][value="guardian"]').check()
    page.get_by_role("button", name="تسجيل الإحالة").click()
    expect(page.get_by_role("status")).to_have_text("سُجِّلت الإحالة.")
    referral = page.locator(".referrals .card", has_text="CPE-2026/041")
    expect(referral.locator(".status")).to_have_text("محال")
    expect(referral).to_contain_text("يُخبَر الشريك بحالتها")
    fits(page, PHONE[0])
    page.screenshot(path=str(SCREENSHOTS / "referrals-ar-360.png"), full_page=True)

    referral.get_by_role("button", name="قبول الإحالة").click()
    expect(page.get_by_role("status")).to_have_text("قُبِلت الإحالة.")
    expect(referral.locator(".status")).to_have_text("مقبول")
    expect(referral.get_by_role("button", name="قبول الإحالة")).to_have_count(0)

    referral.get_by_label("سبب الإغلاق").select_option("declined")
    referral.get_by_role("button", name="إغلاق الإحالة").click()
    expect(page.get_by_role("status")).to_have_text("أُغلِقت الإحالة.")
    expect(referral.locator(".status")).to_have_text("مغلق")
    expect(referral).to_contain_text("رفض المتعلم أو الأسرة")
    expect(referral.get_by_role("button")).to_have_count(0)

    # A referred learner is enrolled through their referral: it shows them enrolled, and the
    # learner's page names the referral.
    page.locator("#reference").fill("CPE-2026/042")
    page.get_by_role("button", name="تسجيل الإحالة").click()
    expect(page.get_by_role("status")).to_have_text("سُجِّلت الإحالة.")
    second = page.locator(".referrals .card", has_text="CPE-2026/042")
    second.get_by_role("link", name="تسجيل هذا المتعلم").click()
    expect(page.get_by_text("يُسجَّل هذا المتعلم بناء على إحالة من شريك")).to_be_visible()
    fill_enrolment(page, first_ar="إيمان", first_latin="Imane", phone="0612121212")
    page.get_by_role("button", name="تسجيل المتعلم").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("إيمان بنعلي")
    named = page.locator(".history .hint", has_text="الملف CPE-2026/042")
    expect(named).to_contain_text("أحاله Centre de protection de l'enfance de Fès")
    expect(named.locator(".status")).to_have_text("مسجل")
    fits(page, PHONE[0])
    page.goto(f"{console}/referrals")
    expect(second.locator(".status")).to_have_text("مسجل")
    expect(second.get_by_role("link", name="تسجيل هذا المتعلم")).to_have_count(0)
    assert violations == []
    context.close()

    french = new_context(browser, locale="fr-FR", size=SCREEN)
    page, violations = watched(french)
    sign_in(page, console, "amal-staff", "Se connecter avec son compte du programme")
    page.goto(f"{console}/referrals")
    expect(page.get_by_role("heading", level=1)).to_have_text("Orientations")
    card = page.locator(".referrals .card", has_text="CPE-2026/041")
    expect(card.locator(".status")).to_have_text("Clôturé")
    assert violations == []
    french.close()

    # Another association's staff see none of it; an educator's menu has no referrals.
    for login, seen_as in (("other-staff", 200), ("amal-educator", 403)):
        other = new_context(browser, locale="ar-MA", size=PHONE)
        page, _ = watched(other)
        sign_in(page, console, login, "الدخول بحساب البرنامج")
        expect(page.get_by_role("link", name="الإحالات")).to_have_count(1 if seen_as == 200 else 0)
        response = page.goto(f"{console}/referrals")
        assert response is not None
        assert response.status == seen_as, login
        expect(page.get_by_text("CPE-2026/041")).to_have_count(0)
        other.close()

    checked = browser.new_context(
        locale="ar-MA", viewport={"width": PHONE[0], "height": PHONE[1]}, bypass_csp=True
    )
    page = checked.new_page()
    sign_in(page, console, "amal-staff", "الدخول بحساب البرنامج")
    page.goto(f"{console}/referrals")
    assert serious_violations(page) == [], "referrals"
    checked.close()


def test_association_staff_change_what_a_partner_is_told_of_a_referral_as_consented(
    platform: Platform, browser: Browser, identity_provider: str
) -> None:
    console, enrollment = platform.url(CONSOLE), platform.url("enrollment")
    token = api_token(browser, identity_provider, console, "amal-staff")
    staff = {"Authorization": f"Bearer {token}"}
    agreement = record_agreement(
        enrollment,
        staff,
        partner_name="Maison des jeunes de Sefrou",
        purpose="Orientation de jeunes sortis de l'école",
    )
    referrals_url = f"{enrollment}/agreements/{agreement}/referrals"
    received = httpx.post(
        referrals_url,
        headers=staff,
        json={"reference": "MJS-2026/007", "received_on": "2026-02-02", "sharing": "none"},
    )
    assert received.status_code == 201, received.text
    referral_id = received.json()["id"]

    def held() -> dict[str, Any]:
        found = httpx.get(referrals_url, headers=staff).json()
        return next(r for r in found if r["id"] == referral_id)

    # The service's own words for a consent without who gave it, in Arabic.
    refused = httpx.put(
        f"{enrollment}/referrals/{referral_id}/sharing",
        headers=staff | {"Accept-Language": "ar"},
        json={"sharing": "status_and_placement"},
    )
    assert refused.status_code == 422, refused.text
    in_arabic = refused.json()["errors"][0]["message"]

    context = new_context(browser, locale="ar-MA", size=PHONE)
    page, violations = watched(context)
    sign_in(page, console, "amal-staff", "الدخول بحساب البرنامج")
    page.goto(f"{console}/referrals")
    card = page.locator(".referrals .card", has_text="MJS-2026/007")
    card.get_by_text("تغيير ما يُخبَر به الشريك").click()
    expect(card.get_by_text("المتعلم ابتداء من 18 سنة، وولي الأمر قبل ذلك")).to_be_visible()
    card.get_by_label("يُخبَر الشريك بحالتها وبالمركز والمسار").check()
    card.get_by_role("button", name="تسجيل الموافقة").click()
    alert = page.get_by_role("alert")
    expect(alert.get_by_role("link")).to_have_text(in_arabic)
    expect(alert.get_by_role("link")).to_have_attribute("href", f"#consent_given_by-{referral_id}")
    expect(card.locator(".error")).to_have_text(in_arabic)
    expect(card.get_by_label("يُخبَر الشريك بحالتها وبالمركز والمسار")).to_be_checked()
    assert held()["sharing"] == "none"

    card.get_by_label("ولي الأمر").check()
    card.get_by_role("button", name="تسجيل الموافقة").click()
    expect(page.get_by_role("status")).to_have_text(
        "سُجِّلت الموافقة: يُخبَر الشريك وفقها من الآن فصاعدا."
    )
    expect(card).to_contain_text("يُخبَر الشريك بحالتها وبالمركز والمسار")
    expect(card).to_contain_text("وافق ولي الأمر يوم")
    consented = held()
    assert (consented["sharing"], consented["consent_given_by"]) == (
        "status_and_placement",
        "guardian",
    )
    card.get_by_text("تغيير ما يُخبَر به الشريك").click()
    fits(page, PHONE[0])
    page.screenshot(path=str(SCREENSHOTS / "referral-consent-ar-360.png"), full_page=True)
    assert violations == []
    context.close()

    # In French, on a wide screen, the consent is withdrawn: the partner is told nothing more.
    french = new_context(browser, locale="fr-FR", size=SCREEN)
    page, violations = watched(french)
    sign_in(page, console, "amal-staff", "Se connecter avec son compte du programme")
    page.goto(f"{console}/referrals")
    card = page.locator(".referrals .card", has_text="MJS-2026/007")
    expect(card).to_contain_text("Le tuteur a consenti le")
    card.get_by_text("Changer ce qui est communiqué au partenaire").click()
    expect(card.get_by_text("Ne rien lui communiquer retire le consentement.")).to_be_visible()
    card.get_by_label("Rien n'est communiqué au partenaire").check()
    card.get_by_role("button", name="Enregistrer le consentement").click()
    expect(page.get_by_role("status")).to_have_text(
        "Le consentement est enregistré : le partenaire est désormais informé en conséquence."
    )
    expect(card).to_contain_text("Rien n'est communiqué au partenaire")
    assert held()["sharing"] == "none"
    assert violations == []
    french.close()

    # Another association's staff replay the referral's id through the console: the service
    # does not find it for them, and nothing changes.
    other = new_context(browser, locale="fr-FR", size=SCREEN)
    page, _ = watched(other)
    sign_in(page, console, "other-staff", "Se connecter avec son compte du programme")
    csrf = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    replayed = page.request.post(
        f"{console}/referrals/{referral_id}/sharing",
        form={"csrf_token": csrf or "", "sharing": "status", "consent_given_by": "learner"},
    )
    assert replayed.status == 422
    assert "MJS-2026/007" not in replayed.text()
    assert held()["sharing"] == "none"
    other.close()

    checked = browser.new_context(
        locale="ar-MA", viewport={"width": PHONE[0], "height": PHONE[1]}, bypass_csp=True
    )
    page = checked.new_page()
    sign_in(page, console, "amal-staff", "الدخول بحساب البرنامج")
    page.goto(f"{console}/referrals")
    page.locator(".referrals .card", has_text="MJS-2026/007").locator("summary").click()
    assert serious_violations(page) == [], "the consent form"
    checked.close()


def opened_training(training_url: str, token: str, timeout_s: float = 30) -> str:
    """The id of a training the educator sees, once the training service opened one for an
    enrolment (on the enrollment service's event)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = httpx.get(
            f"{training_url}/trainings",
            headers={"Authorization": f"Bearer {token}"},
            params={"limit": 1},
        )
        assert found.status_code == 200, found.text
        if found.json():
            return str(found.json()[0]["id"])
        time.sleep(0.2)
    raise AssertionError("no training was opened for the enrolment")


def test_an_educator_opens_a_follow_up_form_in_arabic_on_a_phone(
    platform: Platform, browser: Browser, identity_provider: str
) -> None:
    """The form itself, refused for a training still open; recording one six months after a
    completion is the next test's."""
    console = platform.url(CONSOLE)
    staff = new_context(browser, locale="ar-MA", size=PHONE)
    page, _ = watched(staff)
    sign_in(page, console, "amal-staff", "الدخول بحساب البرنامج")
    page.goto(f"{console}/enrol")
    fill_enrolment(page, first_ar="نجوى", first_latin="Najwa", phone="0677889900")
    page.get_by_role("button", name="تسجيل المتعلم").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("نجوى بنعلي")
    staff.close()
    token = api_token(browser, identity_provider, console, "amal-educator")
    training_id = opened_training(platform.url("training"), token)

    context = new_context(browser, locale="ar-MA", size=PHONE)
    page, violations = watched(context)
    sign_in(page, console, "amal-educator", "الدخول بحساب البرنامج")
    page.goto(f"{console}/trainings/{training_id}/follow-ups/6")
    expect(page.get_by_role("heading", level=1)).to_have_text("التتبع بعد البرنامج: الشهر 6")
    expect(page.get_by_text("المعطيات الصحية لا تُدخَل أبدا في منصة فرصة.")).to_be_visible()
    fits(page, PHONE[0])
    page.screenshot(path=str(SCREENSHOTS / "follow-up-ar-360.png"), full_page=True)

    # The training is still open: the training service refuses, and the form says so.
    page.get_by_label("يشتغل", exact=True).check()
    page.get_by_role("button", name="تسجيل التتبع").click()
    expect(page.get_by_role("alert")).to_contain_text("تأتي المتابعة بعد انتهاء التكوين.")
    expect(page.get_by_label("يشتغل", exact=True)).to_be_checked()
    fits(page, PHONE[0])
    assert violations == []
    context.close()


FOLLOWED_LEARNER = 41  # enrollment_body's learner whose training is completed and followed up


def eventually(
    fetch: Callable[[], Any], *, until: Callable[[Any], bool], timeout_s: float = 30
) -> Any:
    """What ``fetch`` answers once ``until`` holds (the services act on each other's events)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = fetch()
        if until(found):
            return found
        assert time.monotonic() < deadline, f"never came to hold: {found}"
        time.sleep(0.2)


def in_own_loop(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine in a thread of its own: Playwright's sync API holds this one's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


async def held_to_completion(
    training_url: str, headers: dict[str, str], training_id: str, class_name: str
) -> None:
    """Class ``class_name`` of the one training, held until it meets the completion rule."""
    async with httpx.AsyncClient(base_url=training_url, headers=headers, timeout=30) as http:
        curriculum = (await http.get("/curriculum")).raise_for_status().json()
        training = (await http.get(f"/trainings/{training_id}")).raise_for_status().json()
        plan = next(p for p in curriculum["pathways"] if p["pathway"] == training["pathway"])
        await hold_class(http.request, curriculum, plan, [training_id], class_name)


def test_an_educator_completes_a_training_then_records_its_follow_up_when_due(
    platform: Platform, browser: Browser, identity_provider: str
) -> None:
    """The completion button, then the follow-up six months later: completion is dated the day
    it is recorded, so the test moves that date back in the training service's database (as
    the service's own due-list tests do), and the follow-up falls due this week."""
    console, training_url = platform.url(CONSOLE), platform.url("training")
    staff = {
        "Authorization": f"Bearer {api_token(browser, identity_provider, console, 'amal-staff')}"
    }
    educator = {
        "Authorization": f"Bearer {api_token(browser, identity_provider, console, 'amal-educator')}"
    }
    body = enrollment_body(FOLLOWED_LEARNER, DEMO_CENTER_ID)
    enrolled = httpx.post(f"{platform.url('enrollment')}/enrollments", headers=staff, json=body)
    assert enrolled.status_code == 201, enrolled.text
    assert enrolled.json()["status"] == "enrolled"
    enrollment_id = enrolled.json()["enrollment_id"]
    training_id = eventually(
        lambda: httpx.get(
            f"{training_url}/trainings", headers=educator, params={"enrollment_id": enrollment_id}
        ).json(),
        until=lambda found: len(found) == 1,
    )[0]["id"]
    in_own_loop(held_to_completion(training_url, educator, training_id, "F1"))
    name = f"{body['learner']['first_name_latin']} {body['learner']['last_name_latin']}"

    context = new_context(browser, locale="fr-FR", size=SCREEN)
    page, violations = watched(context)
    sign_in(page, console, "amal-educator", "Se connecter avec son compte du programme")
    page.goto(f"{console}/centers/{DEMO_CENTER_ID}/classes/F1")
    page.get_by_role("link", name=name).click()
    expect(page.get_by_text("La formation remplit les conditions d'achèvement.")).to_be_visible()
    page.get_by_role("button", name="Déclarer la formation achevée").click()
    expect(page.get_by_role("status")).to_have_text("La formation est déclarée achevée.")
    expect(page.get_by_text("Formation achevée le")).to_be_visible()
    expect(page.get_by_role("button", name="Déclarer la formation achevée")).to_have_count(0)
    completed = httpx.get(f"{training_url}/trainings/{training_id}", headers=educator).json()
    assert (completed["status"], completed["result"]) == ("completed", "passed")
    assert completed["completed_on"] == local_today().isoformat()
    eventually(
        lambda: httpx.get(
            f"{platform.url('enrollment')}/enrollments/{enrollment_id}", headers=staff
        ).json(),
        until=lambda found: found["status"] == "completed",
    )

    # Six months on: the first completion date whose 6-month follow-up falls due this week.
    six_months_ago, _last = completions_due(Week.of(local_today()), 6)
    with sqlite3.connect(platform.var_dir / "training.db", timeout=30) as db:
        db.execute(
            "UPDATE training_record SET completed_on = ? WHERE id = ?",
            (six_months_ago.isoformat(), training_id),
        )
    page.goto(f"{console}/classes")
    due = page.locator(".log li", has_text=name)
    expect(due).to_contain_text("6 mois après le programme")
    due.get_by_role("link", name="Enregistrer le suivi").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suivi 6 mois après le programme")
    page.get_by_label("En emploi", exact=True).check()
    page.get_by_role("button", name="Enregistrer le suivi").click()
    expect(page.get_by_role("status")).to_have_text("Le suivi est enregistré.")
    expect(due.get_by_role("link", name="Rectifier le suivi")).to_be_visible()
    assert violations == []
    context.close()

    week = httpx.get(
        f"{training_url}/follow-ups/due", headers=educator, params={"center_id": DEMO_CENTER_ID}
    ).json()
    line = next(d for d in week["due"] if d["training_id"] == training_id)
    assert (line["months_after"], line["recorded"]) == (6, True)
    again = httpx.post(
        f"{training_url}/trainings/{training_id}/outcomes",
        headers=educator,
        json={"months_after": 6, "status": "employed"},
    )
    assert again.status_code == 409, "the console's follow-up is the one the service holds"


FOCUS_RING = """() => {
    const shown = (element) => {
        const style = getComputedStyle(element);
        return style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
    };
    const focused = document.activeElement;
    // A segmented choice draws the ring of its hidden radio on the span beside it.
    const beside = focused.nextElementSibling;
    return shown(focused) || (beside !== null && shown(beside));
}"""


def tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Press Tab until ``selector`` has the focus, which must show where it is."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            assert page.evaluate(FOCUS_RING), f"{selector} has the focus but shows no ring"
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_association_staff_enrol_a_learner_with_the_keyboard_alone(
    platform: Platform, browser: Browser
) -> None:
    console = platform.url(CONSOLE)
    context = new_context(browser, locale="fr-FR", size=SCREEN)
    page, _violations = watched(context)
    sign_in(page, console, "amal-staff", "Se connecter avec son compte du programme")
    page.goto(f"{console}/enrol")
    typed = {
        "#first_name_ar": "ليلى",
        "#last_name_ar": "الفاسي",
        "#first_name_latin": "Leila",
        "#last_name_latin": "El Fassi",
        "#birth_date": "14032011",
    }
    for selector, text in typed.items():
        tab_to(page, selector)
        page.keyboard.type(text)
    tab_to(page, 'input[name="sex"]')
    page.keyboard.press("Space")
    tab_to(page, "#last_school_level")
    page.keyboard.press("ArrowDown")
    for selector, text in {
        "#year_left_school": "2023",
        "#guardian_name": "Amina El Fassi",
        "#guardian_phone": "0633445566",
    }.items():
        tab_to(page, selector)
        page.keyboard.type(text)
    for consent in ("consent_data_use", "consent_notifications"):
        tab_to(page, f'input[name="{consent}"]')
        page.keyboard.press("Space")
    tab_to(page, 'button[type="submit"]')
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Leila|ليلى"))
    expect(page.get_by_role("status")).to_be_visible()
    context.close()
