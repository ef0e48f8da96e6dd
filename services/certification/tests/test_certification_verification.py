"""Public verification over real HTTP routes, without a token: the page (Arabic right to left,
French) and the JSON status; the holder's name only through the QR code's token; never the
birth date or the guardian; rate limited per client address. Corrections and erasure arrive
as events over the real nats-server. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext

from fursa.certification import service
from fursa.certification.models import Certificate, LearnerCopy
from fursa.certification.settings import CertificationSettings
from fursa.certification.verification import VerificationRateLimit
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


@pytest.fixture
def settings(settings: CertificationSettings) -> CertificationSettings:
    return settings.model_copy(update={"verification_rate_limit": "1000/minute"})


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


async def test_a_token_that_is_not_the_certificates_is_not_found(
    app: FastAPI, anonymous: httpx.AsyncClient
) -> None:
    certificate = await certify(app)
    other = await certify(app, 2)
    params = {"token": other.verification_token}
    response = await anonymous.get(f"/verify/{certificate.number}/status", params=params)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    page = await anonymous.get(f"/verify/{certificate.number}", params=params)
    assert page.status_code == 404
    assert "Salma" not in page.text


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
        ("/verify/ms-2026-000001/status", "path.number"),
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


async def test_too_many_verifications_from_one_address_get_429(
    app: FastAPI, anonymous: httpx.AsyncClient
) -> None:
    certificate = await certify(app)
    app.state.verification_rate_limit = VerificationRateLimit("3/minute")
    for _ in range(3):
        assert (await anonymous.get(f"/verify/{certificate.number}/status")).status_code == 200
    refused = await anonymous.get(
        f"/verify/{certificate.number}", headers={"Accept-Language": "ar"}
    )
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert refused.json()["code"] == "rate_limited"
    assert refused.json()["params"]["retry_after"] == int(refused.headers["retry-after"])
    # The published keys are not verification requests: a verifier fetches them freely.
    assert (await anonymous.get("/.well-known/jwks.json")).status_code == 200
