"""Public verification over real HTTP routes, without a token: the page (Arabic right to left,
French) and the JSON status; the holder's name only through the QR code's token; never the
birth date or the guardian; numbers read as people type them; a person's browser gets the page,
never JSON, for 404, 422 and 429, a machine gets problem+json; people and machines rate limited
apart per client address. Corrections and erasure arrive as events over the real nats-server.
On SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext

from fursa.certification import service
from fursa.certification.app import create_app
from fursa.certification.models import Certificate, LearnerCopy
from fursa.certification.settings import CertificationSettings
from fursa.certification.verification import VerificationRateLimit
from fursa.certification.verification_page import EMBLEM, TEXT
from fursa.shared.contracts import (
    EventData,
    LearnerErased,
    LearnerUpdated,
    Pathway,
    new_event,
    to_json_bytes,
)
from fursa.shared.testing.builders import learner_enrolled, learner_pii, uuid_of
from fursa.shared.testing.kernel import wait_until

# What the test learner's record holds that must never appear on a public page.
NEVER_SHOWN = ["2011-03", "Fatima", "+2126", "guardian", "birth"]
NAMES = ["Salma", "Benali", "سلمى", "بنعلي"]
# What a browser sends, and what a machine client that wants JSON sends.
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
MACHINE = {"Accept": "application/json"}


@pytest.fixture
def settings(settings: CertificationSettings) -> CertificationSettings:
    return settings.model_copy(
        update={
            "verification_page_rate_limit": "1000/minute",
            "verification_api_rate_limit": "1000/minute",
        }
    )


async def certify(app: FastAPI, n: int = 1) -> Certificate:
    """Learner n, enrolled at the Al-Nasr center, holds an active certificate."""
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


async def publish(js: JetStreamContext, data: EventData, subject: str) -> None:
    event = new_event(data, subject=subject, sequence=2)
    await js.publish(event.type, to_json_bytes(event), headers={"Nats-Msg-Id": event.id})


async def applied(app: FastAPI, count: int) -> bool:
    [enrollment] = [c for c in app.state.runtime.consumers if c.name.endswith("enrollment")]
    return bool(enrollment.stats.applied >= count)


async def test_by_number_alone_only_validity_programme_and_date(
    app: FastAPI, anonymous: httpx.AsyncClient
) -> None:
    certificate = await certify(app)
    response = await anonymous.get(f"/verify/{certificate.number}/status")
    assert response.status_code == 200
    found = response.json()
    assert found["valid"] is True
    assert found["kind"] == "diploma"
    assert found["programme_fr"] == "École de la Deuxième Chance – Nouvelle Génération"
    assert found["issued_on"] == "2026-06-30"
    assert found["holder"] is None
    for text in [*NAMES, *NEVER_SHOWN, "Al-Nasr"]:
        assert text not in response.text
    page = await anonymous.get(f"/verify/{certificate.number}")
    for text in [*NAMES, *NEVER_SHOWN]:
        assert text not in page.text


async def test_the_qr_codes_token_shows_the_holders_name(
    app: FastAPI, anonymous: httpx.AsyncClient
) -> None:
    certificate = await certify(app)
    token = {"token": certificate.verification_token}
    found = (await anonymous.get(f"/verify/{certificate.number}/status", params=token)).json()
    assert found["holder"]["name_ar"] == "سلمى بنعلي"
    assert found["holder"]["name_latin"] == "Salma Benali"
    assert found["holder"]["center_name"] == "Centre Al-Nasr"
    assert found["holder"]["region_fr"] == "Marrakech-Safi"
    page = await anonymous.get(f"/verify/{certificate.number}", params={**token, "lang": "ar"})
    assert "سلمى بنعلي" in page.text
    for text in NEVER_SHOWN:
        assert text not in page.text


def says(page: httpx.Response, key: str, lang: str) -> bool:
    """Whether the page says the catalogue's ``key`` in ``lang`` (as the page escapes it)."""
    words = getattr(TEXT[key], lang)
    return words.replace("'", "&#39;") in page.text


@pytest.mark.parametrize("lang", ["ar", "fr"])
async def test_a_token_that_is_not_the_certificates_is_a_damaged_link_not_a_missing_one(
    app: FastAPI, anonymous: httpx.AsyncClient, lang: str
) -> None:
    certificate = await certify(app)
    other = await certify(app, 2)
    params = {"token": other.verification_token, "lang": lang}
    response = await anonymous.get(f"/verify/{certificate.number}/status", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "token_mismatch"
    assert [e["field"] for e in response.json()["errors"]] == ["query.token"]
    page = await anonymous.get(f"/verify/{certificate.number}", params=params, headers=BROWSER)
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert says(page, "damaged", lang)
    assert not says(page, "unknown", lang)
    # The form to check by number, filled with the link's number.
    assert f'name="number" value="{certificate.number}"' in page.text
    for text in NAMES:
        assert text not in page.text


@pytest.mark.parametrize("lang", ["ar", "fr"])
async def test_a_malformed_token_is_a_damaged_link_for_people_and_a_field_for_machines(
    app: FastAPI, anonymous: httpx.AsyncClient, lang: str
) -> None:
    certificate = await certify(app)
    cut = certificate.verification_token[:10] + "%"
    path = f"/verify/{certificate.number.lower()}"
    page = await anonymous.get(path, params={"token": cut, "lang": lang}, headers=BROWSER)
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in page.text
    assert says(page, "damaged", lang)
    assert not says(page, "unknown", lang)
    assert f'name="number" value="{certificate.number}"' in page.text
    machine = await anonymous.get(path, params={"token": cut}, headers=MACHINE)
    assert machine.status_code == 422
    assert machine.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in machine.json()["errors"]] == ["query.token"]


@pytest.mark.parametrize(
    ("headers", "lang"),
    [
        ({**BROWSER, "Accept-Language": "ar-MA"}, "ar"),
        ({**BROWSER, "Accept-Language": "fr-FR,fr;q=0.9"}, "fr"),
        (BROWSER, "ar"),
    ],
)
async def test_a_mistyped_number_gets_the_page_with_the_form_to_correct_it(
    anonymous: httpx.AsyncClient, headers: dict[str, str], lang: str
) -> None:
    for path in ["/verify/MS-26-1", "/verify?number=MS-26-1"]:
        page = await anonymous.get(path, headers=headers)
        assert page.status_code == 422
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["content-language"] == lang
        assert says(page, "bad_number", lang)
        assert 'value="MS-26-1"' in page.text
        assert 'aria-invalid="true"' in page.text


@pytest.mark.parametrize("lang", ["ar", "fr"])
async def test_a_person_never_gets_json_for_a_missing_page_or_credential(
    anonymous: httpx.AsyncClient, lang: str
) -> None:
    headers = {**BROWSER, "Accept-Language": lang}
    credential = await anonymous.get("/verify/MS-2026-999999/credential", headers=headers)
    assert credential.status_code == 404
    assert credential.headers["content-type"].startswith("text/html")
    assert says(credential, "unknown", lang)
    nowhere = await anonymous.get("/verify/MS-2026-999999/nowhere", headers=headers)
    assert nowhere.status_code == 404
    assert says(nowhere, "no_page", lang)
    for path in ["/verify/MS-2026-999999/credential", "/verify/MS-2026-999999/nowhere"]:
        machine = await anonymous.get(path, headers=MACHINE)
        assert machine.status_code == 404
        assert machine.headers["content-type"] == "application/problem+json"
        assert machine.json()["code"] == "not_found"


async def test_numbers_are_read_whatever_their_case_and_surrounding_spaces(
    app: FastAPI, anonymous: httpx.AsyncClient
) -> None:
    certificate = await certify(app)
    typed = f"  {certificate.number.lower()} "
    status = await anonymous.get(f"/verify/{typed}/status")
    assert status.status_code == 200
    assert status.json()["number"] == certificate.number
    page = await anonymous.get(f"/verify/{typed}", params={"lang": "fr"})
    assert page.status_code == 200
    assert "Certificat authentique et valide" in page.text
    credential = await anonymous.get(f"/verify/{typed}/credential")
    assert credential.text == certificate.credential
    # The form opens the number's own page.
    sent = await anonymous.get("/verify", params={"number": typed, "lang": "fr"})
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/verify/{certificate.number}?lang=fr"


async def test_the_form_the_emblem_and_the_credential_link_are_on_the_page(
    app: FastAPI, anonymous: httpx.AsyncClient
) -> None:
    form = await anonymous.get("/verify", headers=BROWSER)
    assert form.status_code == 200
    assert '<form action="/verify" method="get"' in form.text
    assert says(form, "form_intro", "ar")
    certificate = await certify(app)
    page = await anonymous.get(f"/verify/{certificate.number}", params={"lang": "fr"})
    assert "Entraide Nationale" in page.text
    assert says(page, "how", "fr")
    assert f'href="/verify/{certificate.number}/credential" download=' in page.text
    assert '<img class="emblem" src="/assets/emblem.svg"' in page.text
    emblem = await anonymous.get("/assets/emblem.svg")
    assert emblem.status_code == 200
    assert emblem.headers["content-type"] == "image/svg+xml"
    assert emblem.content == EMBLEM.read_bytes()


@pytest.mark.parametrize(
    ("query", "headers", "lang", "direction", "verdict"),
    [
        ({"lang": "ar"}, {}, "ar", "rtl", "شهادة صحيحة وسارية المفعول"),
        ({"lang": "fr"}, {}, "fr", "ltr", "Certificat authentique et valide"),
        ({}, {"Accept-Language": "ar-MA,fr;q=0.5"}, "ar", "rtl", "شهادة صحيحة"),
        ({}, {"Accept-Language": "fr-FR"}, "fr", "ltr", "Certificat authentique"),
        # Neither language asked: the service's default language (Arabic unless set).
        ({}, {}, "ar", "rtl", "شهادة صحيحة"),
    ],
)
async def test_page_speaks_arabic_right_to_left_or_french(
    app: FastAPI,
    anonymous: httpx.AsyncClient,
    query: dict[str, str],
    headers: dict[str, str],
    lang: str,
    direction: str,
    verdict: str,
) -> None:
    certificate = await certify(app)
    page = await anonymous.get(f"/verify/{certificate.number}", params=query, headers=headers)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang}" dir="{direction}">' in page.text
    assert verdict in page.text
    assert page.headers["content-language"] == lang


async def test_unknown_number_is_not_found_on_the_page_and_in_json(
    anonymous: httpx.AsyncClient,
) -> None:
    page = await anonymous.get("/verify/MS-2026-999999", params={"lang": "ar"})
    assert page.status_code == 404
    assert 'dir="rtl"' in page.text
    assert "لا توجد شهادة بهذا الرقم" in page.text
    status = await anonymous.get("/verify/MS-2026-999999/status")
    assert status.status_code == 404
    assert status.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/verify/not-a-number", "path.number"),
        ("/verify/MS-2026-000001?lang=en", "query.lang"),
        ("/verify/MS-2026-000001?token=short", "query.token"),
        ("/verify/MS-2026-000001/status?token=<script>alert(1)</script>", "query.token"),
        ("/verify/MS-26-1/status", "path.number"),
        ("/verify?number=MS-26-1", "query.number"),
    ],
)
async def test_bad_verification_input_names_the_field(
    anonymous: httpx.AsyncClient, path: str, field: str
) -> None:
    response = await anonymous.get(path)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert error["field"] == field


async def test_learner_correction_reaches_the_holders_name(
    app: FastAPI, anonymous: httpx.AsyncClient, js: JetStreamContext
) -> None:
    certificate = await certify(app)
    corrected = learner_pii(1).model_copy(update={"first_name_latin": "Salima"})
    await publish(
        js,
        LearnerUpdated(
            learner_id=uuid_of("learner", 1),
            association_id=uuid_of("association", 1),
            changed=["first_name_latin"],
            updated_at=datetime(2026, 7, 1, tzinfo=UTC),
            pii=corrected,
        ),
        subject=uuid_of("learner", 1),
    )
    await wait_until(lambda: applied(app, 1))
    params = {"token": certificate.verification_token}
    found = (await anonymous.get(f"/verify/{certificate.number}/status", params=params)).json()
    assert found["holder"]["name_latin"] == "Salima Benali"


async def test_erasure_removes_the_name_and_the_certificate_still_verifies(
    app: FastAPI, anonymous: httpx.AsyncClient, js: JetStreamContext
) -> None:
    certificate = await certify(app)
    await publish(
        js,
        LearnerErased(
            learner_id=uuid_of("learner", 1),
            enrollment_ids=[uuid_of("enrollment", 1)],
            erased_at=datetime(2026, 7, 1, tzinfo=UTC),
        ),
        subject=uuid_of("learner", 1),
    )
    await wait_until(lambda: applied(app, 1))
    # A late learner-enrolled (a replay, a new event id) must not bring the names back.
    await publish(js, learner_enrolled(1), subject=uuid_of("enrollment", 1))
    await wait_until(lambda: applied(app, 2))

    params = {"token": certificate.verification_token}
    response = await anonymous.get(f"/verify/{certificate.number}/status", params=params)
    found: dict[str, Any] = response.json()
    assert found["valid"] is True
    assert (found["holder"]["name_ar"], found["holder"]["name_latin"]) == (None, None)
    page = await anonymous.get(f"/verify/{certificate.number}", params={**params, "lang": "fr"})
    assert "Nom effacé à la demande du titulaire" in page.text
    for text in NAMES:
        assert text not in page.text
        assert text not in response.text
    async with app.state.runtime.db.read() as session:
        copy = await session.get(LearnerCopy, uuid_of("enrollment", 1))
    assert copy is not None
    assert [copy.first_name_ar, copy.last_name_ar, copy.first_name_latin] == [None] * 3
    credential = await anonymous.get(f"/verify/{certificate.number}/credential")
    assert credential.text == certificate.credential


@pytest.mark.parametrize("lang", ["ar", "fr"])
async def test_too_many_verifications_from_one_address_get_429(
    app: FastAPI, anonymous: httpx.AsyncClient, lang: str
) -> None:
    certificate = await certify(app)
    app.state.page_rate_limit = VerificationRateLimit("3/minute")
    app.state.api_rate_limit = VerificationRateLimit("3/minute")
    page = f"/verify/{certificate.number}"
    for _ in range(3):
        assert (await anonymous.get(f"{page}/status")).status_code == 200
        assert (await anonymous.get(page, headers=BROWSER)).status_code == 200
    machine = await anonymous.get(f"{page}/status", headers={"Accept-Language": lang})
    assert machine.status_code == 429
    assert machine.headers["content-type"] == "application/problem+json"
    assert 0 < int(machine.headers["retry-after"]) <= 60
    assert machine.json()["code"] == "rate_limited"
    assert machine.json()["params"]["retry_after"] == int(machine.headers["retry-after"])
    person = await anonymous.get(page, headers={**BROWSER, "Accept-Language": lang})
    assert person.status_code == 429
    assert person.headers["content-type"].startswith("text/html")
    assert 0 < int(person.headers["retry-after"]) <= 60
    assert says(person, "rate_limited", lang)
    assert f"{person.headers['retry-after']} " in person.text
    # The published keys are not verification requests: a verifier fetches them freely.
    assert (await anonymous.get("/.well-known/jwks.json")).status_code == 200


@pytest.mark.parametrize("first", ["person", "machine"])
async def test_people_and_machines_are_limited_apart(
    settings: CertificationSettings, js: JetStreamContext, first: str
) -> None:
    limits = {"verification_page_rate_limit": "2/minute", "verification_api_rate_limit": "2/minute"}
    app = create_app(settings.model_copy(update=limits))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://service") as http,
    ):
        certificate = await certify(app)
        person = (f"/verify/{certificate.number}", BROWSER)
        machine = (f"/verify/{certificate.number}/status", MACHINE)
        limited, other = (person, machine) if first == "person" else (machine, person)
        for _ in range(2):
            assert (await http.get(limited[0], headers=limited[1])).status_code == 200
        assert (await http.get(limited[0], headers=limited[1])).status_code == 429
        # The other audience, from the same address, still has its whole allowance.
        for _ in range(2):
            assert (await http.get(other[0], headers=other[1])).status_code == 200
        assert (await http.get(other[0], headers=other[1])).status_code == 429
