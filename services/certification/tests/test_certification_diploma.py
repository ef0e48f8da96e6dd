"""The diploma PDF read back with poppler's pdftotext: both scripts extractable, everything a
diploma must print, a cohort as one printable PDF, rendered once then cached; on SQLite and
on PostgreSQL."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from fursa.certification import service
from fursa.certification.models import Certificate, Completion, DiplomaPdf
from fursa.shared.auth import Role
from fursa.shared.contracts import LearnerErased, Pathway
from fursa.shared.testing.builders import learner_enrolled, uuid_of

AuthHeaders = Callable[..., dict[str, str]]
CENTER = uuid_of("center", 1)


def pdf_tool(name: str) -> str:
    """A poppler tool; `make system-deps` installs poppler-utils. Missing is a failure."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: run `make system-deps` (installs poppler-utils)")
    return path


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    source = tmp_path / "diploma.pdf"
    source.write_bytes(pdf)
    return subprocess.run(
        [pdf_tool("pdftotext"), "-layout", str(source), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def pdf_pages(pdf: bytes, tmp_path: Path) -> int:
    source = tmp_path / "cohort.pdf"
    source.write_bytes(pdf)
    info = subprocess.run(
        [pdf_tool("pdfinfo"), str(source)], check=True, capture_output=True, text=True
    ).stdout
    [pages] = [line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")]
    return int(pages)


async def certify(app: FastAPI, n: int, *, workshops: str = '["tailoring"]') -> Certificate:
    runtime = app.state.runtime
    enrolled = learner_enrolled(n).model_copy(update={"center_name": "Centre Al-Nasr"})
    async with runtime.uow.begin() as tx:
        await service.learner_enrolled(tx, enrolled=enrolled)
        tx.session.add(
            Completion(
                enrollment_id=enrolled.enrollment_id,
                training_id=uuid_of("training", n),
                pathway=Pathway.VOCATIONAL_TRAINING.value,
                workshops=workshops,
                completed_on=date(2026, 6, 26),
                state="issued",
            )
        )
    async with runtime.uow.begin() as tx:
        certificate = await service.issue_certificate(
            tx,
            enrollment_id=enrolled.enrollment_id,
            pathway=Pathway.VOCATIONAL_TRAINING,
            issuer=app.state.issuer,
            issued_on=date(2026, 6, 30),
        )
    assert certificate is not None
    return certificate


async def test_diploma_prints_both_scripts_and_everything_it_must(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    certificate = await certify(app, 1)
    response = await client.get(f"/certificates/{certificate.number}/diploma.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    for expected in [
        # The holder, in both scripts.
        "Salma Benali",
        "سلمى بنعلي",
        # The document, pathway and workshop in both languages.
        "Diplôme de fin de formation",
        "دبلوم التخرج",
        "Formation professionnelle",
        "التكوين المهني",
        "Couture",
        "الخياطة",
        # Center, region, dates, number and signatory.
        "Centre Al-Nasr",
        "Marrakech-Safi",
        "مراكش آسفي",
        "26 juin 2026",
        "30 juin 2026",
        "يونيو",
        certificate.number,
        "Coordinateur régional de l'Entraide Nationale",
        "المنسق الجهوي للتعاون الوطني",
    ]:
        assert expected in text, expected
    assert "2011" not in text  # the birth date is never printed


async def test_diploma_is_rendered_once_then_served_from_the_cache(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    certificate = await certify(app, 1)
    async with app.state.runtime.db.read() as session:
        assert await session.get(DiplomaPdf, certificate.id) is None  # not at issuance
    first = await client.get(f"/certificates/{certificate.number}/diploma.pdf")
    async with app.state.runtime.db.read() as session:
        cached = await session.get(DiplomaPdf, certificate.id)
    assert cached is not None
    assert cached.pdf == first.content
    second = await client.get(f"/certificates/{certificate.number}/diploma.pdf")
    assert second.content == first.content


async def test_a_cohorts_diplomas_print_as_one_pdf(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path, headers_for: AuthHeaders
) -> None:
    certificates = [await certify(app, n) for n in (1, 2, 3)]
    educator = headers_for(Role.EDUCATOR, center_id=CENTER)
    response = await client.get(
        f"/cohorts/{CENTER}/diplomas.pdf", params={"school_year": "2025/2026"}, headers=educator
    )
    assert response.status_code == 200
    assert pdf_pages(response.content, tmp_path) == 3
    text = pdf_text(response.content, tmp_path)
    for certificate in certificates:
        assert certificate.number in text

    other_center = headers_for(Role.EDUCATOR, center_id=uuid_of("center", 2))
    hidden = await client.get(f"/cohorts/{CENTER}/diplomas.pdf", headers=other_center)
    assert hidden.status_code == 404


async def test_a_revoked_or_erased_diploma_is_not_printed(
    app: FastAPI, client: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    revoked = await certify(app, 1)
    erased = await certify(app, 2)
    officer = headers_for(Role.ENTRAIDE_OFFICER, region_code="07")
    await client.post(
        f"/certificates/{revoked.number}/revocation", json={"reason": "fraud"}, headers=officer
    )
    response = await client.get(f"/certificates/{revoked.number}/diploma.pdf")
    assert response.status_code == 409
    assert response.json()["code"] == "certificate_revoked"

    await client.get(f"/certificates/{erased.number}/diploma.pdf")
    runtime = app.state.runtime
    async with runtime.uow.begin() as tx:
        await service.learner_erased(
            tx,
            erased=LearnerErased(
                learner_id=erased.learner_id,
                enrollment_ids=[erased.enrollment_id],
                erased_at=datetime(2026, 7, 1, tzinfo=UTC),
            ),
            tables=runtime.tables,
        )
    async with runtime.db.read() as session:
        assert await session.get(DiplomaPdf, erased.id) is None  # the cached PDF is gone
    response = await client.get(
        f"/certificates/{erased.number}/diploma.pdf", headers={"Accept-Language": "ar"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "personal_data_erased"
    assert response.json()["title"] == "تم محو المعطيات الشخصية لصاحب الشهادة."


async def test_a_diploma_outside_the_callers_scope_is_not_found(
    app: FastAPI, client: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    certificate = await certify(app, 1)
    staff_of_b = headers_for(Role.ASSOCIATION_STAFF, association_id=uuid_of("association", 2))
    response = await client.get(
        f"/certificates/{certificate.number}/diploma.pdf", headers=staff_of_b
    )
    assert response.status_code == 404
    partner = headers_for(Role.PARTNER, partner_id="p-1")
    response = await client.get(f"/certificates/{certificate.number}/diploma.pdf", headers=partner)
    assert response.status_code == 403
