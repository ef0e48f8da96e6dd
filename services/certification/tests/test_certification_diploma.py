"""The diploma PDF read back with poppler's pdftotext: both scripts extractable, everything a
diploma must print, its words agreed with the document and the holder, the region's
signatory, a cohort as one printable PDF that lists what it left out, rendered once then
cached; on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from fursa.certification import service
from fursa.certification.models import Certificate, Completion, DiplomaPdf
from fursa.shared.auth import Role
from fursa.shared.contracts import LearnerErased, Pathway, Sex
from fursa.shared.testing.builders import learner_enrolled, uuid_of

AuthHeaders = Callable[..., dict[str, str]]
CENTER = uuid_of("center", 1)


def pdf_tool(name: str) -> str:
    """A poppler tool; `make system-deps` installs poppler-utils. Missing is a failure."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: run `make system-deps` (installs poppler-utils)")
    return path


# The embedding marks pdftotext puts around right-to-left runs.
_BIDI_MARKS = dict.fromkeys(range(0x202A, 0x202F))


def pdf_text(pdf: bytes, tmp_path: Path, *, layout: bool = False) -> str:
    """The PDF's text, in reading order (`layout`: as placed on the page), as a reader
    searches it: without bidi marks, a vowel mark joined to its letter, in NFC."""
    source = tmp_path / "diploma.pdf"
    source.write_bytes(pdf)
    text = subprocess.run(
        [pdf_tool("pdftotext"), *(["-layout"] if layout else []), str(source), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    text = re.sub(r" (?=[\u064b-\u0652])", "", text.translate(_BIDI_MARKS))
    return unicodedata.normalize("NFC", text)


def pdf_pages(pdf: bytes, tmp_path: Path) -> int:
    source = tmp_path / "cohort.pdf"
    source.write_bytes(pdf)
    info = subprocess.run(
        [pdf_tool("pdfinfo"), str(source)], check=True, capture_output=True, text=True
    ).stdout
    [pages] = [line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")]
    return int(pages)


async def certify(
    app: FastAPI,
    n: int,
    *,
    workshops: str = '["tailoring"]',
    pathway: Pathway = Pathway.VOCATIONAL_TRAINING,
    **pii: object,
) -> Certificate:
    """Learner n of the Al-Nasr center, certified; `pii` replaces parts of the learner's."""
    runtime = app.state.runtime
    enrolled = learner_enrolled(n)
    enrolled = enrolled.model_copy(
        update={
            "center_name": "Centre Al-Nasr",
            "center_name_ar": "مركز النصر",
            "pathway": pathway,
            "pii": enrolled.pii.model_copy(update=pii),
        }
    )
    async with runtime.uow.begin() as tx:
        await service.learner_enrolled(tx, enrolled=enrolled)
        tx.session.add(
            Completion(
                enrollment_id=enrolled.enrollment_id,
                training_id=uuid_of("training", n),
                pathway=pathway.value,
                workshops=workshops,
                completed_on=date(2026, 6, 26),
                state="issued",
            )
        )
    async with runtime.uow.begin() as tx:
        certificate = await service.issue_certificate(
            tx,
            enrollment_id=enrolled.enrollment_id,
            pathway=pathway,
            issuer=app.state.issuer,
            issued_on=date(2026, 6, 30),
        )
    assert certificate is not None
    return certificate


async def test_diploma_prints_both_scripts_and_everything_it_must(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    certificate = await certify(app, 1, birth_place_ar="مراكش", birth_place_fr="Marrakech")
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
        # Center (each language's name), region, dates, number and signatory.
        "Centre Al-Nasr",
        "مركز النصر",
        "Marrakech-Safi",
        "مراكش آسفي",
        "née le 2 mars 2011 à Marrakech",
        "المزدادة بتاريخ",
        "بمراكش",
        "26 juin 2026",
        "30 juin 2026",
        "يونيو",
        certificate.number,
        "Le Coordinateur régional de l'Entraide Nationale",
        "المنسق الجهوي للتعاون الوطني",
        "Signature et cachet",
        "التوقيع والخاتم",
        # Under the QR code: what it is for, and where to check by number.
        "Pour vérifier ce document, scannez le code",
        "للتحقق من صحة هذه الوثيقة",
        f"https://verify.fursa.test/verify/{certificate.number}",
    ]:
        assert expected in text, expected
    # The Arabic column names the center in Arabic: its French name is printed once.
    assert text.count("Centre Al-Nasr") == 1


@pytest.mark.parametrize(
    ("sex", "agreed", "not_printed"),
    [
        (Sex.FEMALE, ["أنهت التكوين", "المزدادة بتاريخ", "née le"], ["أنهى", "né le"]),
        (Sex.MALE, ["أنهى التكوين", "المزداد بتاريخ", "né le"], ["أنهت", "المزدادة", "née le"]),
    ],
)
async def test_a_diplomas_words_agree_with_the_holders_sex(
    app: FastAPI,
    client: httpx.AsyncClient,
    tmp_path: Path,
    sex: Sex,
    agreed: list[str],
    not_printed: list[str],
) -> None:
    certificate = await certify(app, 1, sex=sex)
    text = pdf_text(
        (await client.get(f"/certificates/{certificate.number}/diploma.pdf")).content, tmp_path
    )
    # The diploma (دبلوم, diplôme) is masculine whoever holds it.
    for expected in [*agreed, "يُمنح إلى", "سُلِّم بتاريخ", "décerné à", "Délivré le"]:
        assert unicodedata.normalize("NFC", expected) in text, expected
    for wrong in [*not_printed, "décernée", "تُمنح", "(e)", "(ة)"]:
        assert wrong not in text, wrong


async def test_an_attestation_is_feminine_in_both_languages(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    certificate = await certify(
        app, 2, workshops="[]", pathway=Pathway.SCHOOL_REINTEGRATION, sex=Sex.MALE
    )
    text = pdf_text(
        (await client.get(f"/certificates/{certificate.number}/diploma.pdf")).content, tmp_path
    )
    for expected in ["شهادة إتمام التكوين", "تُمنح إلى", "سُلِّمت بتاريخ", "أنهى التكوين"]:
        assert unicodedata.normalize("NFC", expected) in text, expected
    for expected in ["Attestation de réussite", "décernée à", "Délivrée le", "né le"]:
        assert expected in text, expected


async def test_a_very_long_name_still_prints_on_one_page(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    certificate = await certify(
        app,
        1,
        first_name_ar="فاطمة الزهراء",
        last_name_ar="بن عبد الرحمان الإدريسي الحسني",
        first_name_latin="Fatima-Zahra",
        last_name_latin="Ben Abderrahmane El Idrissi El Hassani",
        birth_place_ar="سيدي بنور",
        birth_place_fr="Sidi Bennour",
    )
    pdf = (await client.get(f"/certificates/{certificate.number}/diploma.pdf")).content
    assert pdf_pages(pdf, tmp_path) == 1
    text = pdf_text(pdf, tmp_path)
    assert "Fatima-Zahra Ben Abderrahmane El Idrissi" in text
    assert "الإدريسي الحسني" in text


async def test_the_regions_signatory_signs_the_diplomas_issued_after_it_is_set(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path, headers_for: AuthHeaders
) -> None:
    before = await certify(app, 1)
    signatory = {
        "name_ar": "محمد العلوي",
        "name_fr": "Mohamed Alaoui",
        "title_ar": "المنسق الجهوي للتعاون الوطني",
        "title_fr": "Coordinateur régional de l'Entraide Nationale",
    }
    officer = headers_for(Role.ENTRAIDE_OFFICER, region_code="07")
    other_region = headers_for(Role.ENTRAIDE_OFFICER, region_code="06")
    educator = headers_for(Role.EDUCATOR, center_id=CENTER)

    put = await client.put("/signatories/07", json=signatory, headers=officer)
    elsewhere = await client.put("/signatories/07", json=signatory, headers=other_region)
    by_educator = await client.put("/signatories/07", json=signatory, headers=educator)
    swapped = await client.put(
        "/signatories/07", json={**signatory, "name_ar": "Mohamed Alaoui"}, headers=officer
    )

    assert put.status_code == 200, put.text
    assert put.json()["name_fr"] == "Mohamed Alaoui"
    assert elsewhere.status_code == 404
    assert by_educator.status_code == 403
    assert swapped.status_code == 422
    assert [error["field"] for error in swapped.json()["errors"]] == ["name_ar"]
    listed = await client.get("/signatories", headers=officer)
    assert [s["region_code"] for s in listed.json()] == ["07"]
    assert (await client.get("/signatories", headers=other_region)).json() == []

    after = await certify(app, 2)
    text = pdf_text(
        (await client.get(f"/certificates/{after.number}/diploma.pdf")).content, tmp_path
    )
    for expected in ["Mohamed Alaoui", "محمد العلوي", "Coordinateur régional", "جهة مراكش آسفي"]:
        assert expected in text, expected
    # A certificate keeps the signatory of the day it was issued.
    earlier = pdf_text(
        (await client.get(f"/certificates/{before.number}/diploma.pdf")).content, tmp_path
    )
    assert "Mohamed Alaoui" not in earlier


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


async def test_a_cohorts_pdf_lists_the_certificates_it_leaves_out_and_why(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path, headers_for: AuthHeaders
) -> None:
    revoked, printed, erased = [await certify(app, n) for n in (1, 2, 3)]
    officer = headers_for(Role.ENTRAIDE_OFFICER, region_code="07")
    await client.post(
        f"/certificates/{revoked.number}/revocation", json={"reason": "fraud"}, headers=officer
    )
    reissued = (
        await client.post(f"/certificates/{revoked.number}/reissue", headers=officer)
    ).json()
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

    response = await client.get(
        f"/cohorts/{CENTER}/diplomas.pdf", headers=headers_for(Role.EDUCATOR, center_id=CENTER)
    )

    assert response.status_code == 200
    # Two diplomas (the re-issued one and learner 2's), then the page of what was left out.
    assert pdf_pages(response.content, tmp_path) == 3
    text = pdf_text(response.content, tmp_path, layout=True)
    lines = text.splitlines()
    [revoked_line] = [line for line in lines if revoked.number in line and "révoqué" in line]
    # (A table row mixing both directions: pdftotext mirrors its brackets, so words apart.)
    for expected in ["révoqué", "fraude", f"remplacé par le n° {reissued['number']}", "ملغاة"]:
        assert expected in revoked_line, expected
    assert "غش" in revoked_line
    [erased_line] = [line for line in lines if erased.number in line and "effacées" in line]
    assert "données personnelles du titulaire effacées" in erased_line
    assert "المعطيات الشخصية لصاحب الشهادة" in erased_line
    assert "Certificats imprimés : 2 — Certificats non imprimés : 2" in text
    assert printed.number in text


async def awaiting_approval(app: FastAPI, n: int) -> str:
    """Learner n of the Al-Nasr center passed vocational training, whose diploma awaits an
    officer's approval: the enrollment id."""
    enrolled = learner_enrolled(n).model_copy(
        update={"center_name": "Centre Al-Nasr", "center_name_ar": "مركز النصر"}
    )
    async with app.state.runtime.uow.begin() as tx:
        await service.learner_enrolled(tx, enrolled=enrolled)
        tx.session.add(
            Completion(
                enrollment_id=enrolled.enrollment_id,
                training_id=uuid_of("training", n),
                pathway=Pathway.VOCATIONAL_TRAINING.value,
                workshops='["tailoring"]',
                completed_on=date(2026, 6, 26),
                state="awaiting_approval",
            )
        )
    return enrolled.enrollment_id


async def test_an_officer_previews_the_diploma_before_approving_it(
    app: FastAPI, client: httpx.AsyncClient, tmp_path: Path, headers_for: AuthHeaders
) -> None:
    enrollment_id = await awaiting_approval(app, 1)
    officer = headers_for(Role.ENTRAIDE_OFFICER, region_code="07")
    signatory = {
        "name_ar": "محمد العلوي",
        "name_fr": "Mohamed Alaoui",
        "title_ar": "المنسق الجهوي للتعاون الوطني",
        "title_fr": "Coordinateur régional de l'Entraide Nationale",
    }
    assert (await client.put("/signatories/07", json=signatory, headers=officer)).status_code == 200

    response = await client.get(f"/approvals/{enrollment_id}/preview.pdf", headers=officer)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert pdf_pages(response.content, tmp_path) == 1
    (tmp_path / "preview.pdf").write_bytes(response.content)
    text = " ".join(pdf_text(response.content, tmp_path).split())
    for expected in [
        "Salma Benali",
        "سلمى بنعلي",
        "Diplôme de fin de formation",
        "Couture",
        "Centre Al-Nasr",
        "26 juin 2026",
        "Mohamed Alaoui",
        "محمد العلوي",
        # The preview's mark across the page, and why there is no number.
        "Aperçu",
        "نسخة للمعاينة",
        "Le numéro et le code de vérification sont attribués à la délivrance.",
    ]:
        assert expected in text, expected
    assert not re.search(r"[A-Z]{2,3}-\d{4}-\d{6}", text)
    assert "verify.fursa.test" not in text

    # The diploma then issued says the same, with its number: the preview showed what it is.
    approved = await client.post(f"/approvals/{enrollment_id}", headers=officer)
    issued = pdf_text(
        (await client.get(f"/certificates/{approved.json()['number']}/diploma.pdf")).content,
        tmp_path,
    )
    assert "Mohamed Alaoui" in issued
    assert "Aperçu" not in issued
    assert approved.json()["number"] in issued
    # Once issued, there is nothing left to preview.
    gone = await client.get(f"/approvals/{enrollment_id}/preview.pdf", headers=officer)
    assert gone.status_code == 404


async def test_a_preview_is_for_the_regions_officers_only(
    app: FastAPI, client: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    enrollment_id = await awaiting_approval(app, 1)
    path = f"/approvals/{enrollment_id}/preview.pdf"
    elsewhere = headers_for(Role.ENTRAIDE_OFFICER, region_code="04")
    educator = headers_for(Role.EDUCATOR, center_id=CENTER)
    assert (await client.get(path, headers=elsewhere)).status_code == 404
    assert (await client.get(path, headers=educator)).status_code == 403
    unknown = f"/approvals/{uuid_of('enrollment', 9)}/preview.pdf"
    officer = headers_for(Role.ENTRAIDE_OFFICER, region_code="07")
    assert (await client.get(unknown, headers=officer)).status_code == 404
