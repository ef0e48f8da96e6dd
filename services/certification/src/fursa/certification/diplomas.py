"""Diplomas to print: one certificate's (rendered on first demand, then cached), or a center
cohort's in one PDF that names the certificates it leaves out and why."""

from __future__ import annotations

import asyncio
import json

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.certification import domain, wording
from fursa.certification.diploma import BirthPlace, Diploma, Omission, render_pdf
from fursa.certification.domain import Bilingual, CertificateStatus, CertificationRuleError
from fursa.certification.models import Certificate, Completion, DiplomaPdf, LearnerCopy
from fursa.certification.service import NotFoundError, visible_to
from fursa.shared.auth import Principal
from fursa.shared.clock import utcnow
from fursa.shared.contracts import CertificateKind, Pathway, RevocationReason, Sex
from fursa.shared.db import Database, Upsert, placeholders


async def diploma_pdf(
    db: Database, *, number: str, viewer: Principal, public_base_url: str
) -> bytes:
    """A certificate's diploma as PDF: rendered on first demand (in a worker thread, off the
    issuance path), then served from the cache."""
    async with db.read() as session:
        certificate = (
            await session.exec(select(Certificate).where(col(Certificate.number) == number))
        ).first()
        if certificate is None or not viewer.sees(**certificate.placement()):
            raise NotFoundError(number)
        if certificate.status != CertificateStatus.ACTIVE:
            raise CertificationRuleError("certificate_revoked")
        cached = await session.get(DiplomaPdf, certificate.id)
        if cached is not None:
            return cached.pdf
        learner = await session.get(LearnerCopy, certificate.enrollment_id)
        if learner is None or holder_names(learner) is None:
            raise CertificationRuleError("personal_data_erased")
        diploma = await _diploma(session, certificate, learner, public_base_url)
    pdf = await asyncio.to_thread(render_pdf, [diploma])
    async with db.transaction() as session:
        await _KEEP_PDF.execute(
            session, certificate_id=certificate.id, pdf=pdf, rendered_at=utcnow()
        )
    return pdf


async def cohort_pdf(
    db: Database,
    *,
    center_id: str,
    school_year: str | None,
    viewer: Principal,
    public_base_url: str,
) -> bytes:
    """A center's cohort to print: a page per active diploma (by number), then a page listing
    the cohort's certificates left out — revoked (with the reason and what replaced it) or
    whose holder's personal data was erased — so that none goes missing unnoticed."""
    query = (
        select(Certificate, LearnerCopy)
        .join(LearnerCopy, col(LearnerCopy.enrollment_id) == col(Certificate.enrollment_id))
        .where(col(Certificate.center_id) == center_id, visible_to(viewer))
        .order_by(col(Certificate.number))
    )
    if school_year is not None:
        query = query.where(col(LearnerCopy.school_year) == school_year)
    async with db.read() as session:
        cohort = (await session.exec(query)).all()
        if not cohort:
            raise NotFoundError(center_id)
        diplomas, omitted = [], []
        for certificate, learner in cohort:
            if certificate.status != CertificateStatus.ACTIVE:
                replacement = await _replacement(session, certificate)
                reason = certificate.revocation_reason
                omitted.append(
                    Omission(
                        certificate.number,
                        wording.revocation(
                            RevocationReason(reason) if reason else None, replacement
                        ),
                    )
                )
            elif holder_names(learner) is None:
                omitted.append(Omission(certificate.number, wording.ERASED))
            else:
                diplomas.append(await _diploma(session, certificate, learner, public_base_url))
    return await asyncio.to_thread(render_pdf, diplomas, omitted)


def holder_names(learner: LearnerCopy) -> Bilingual | None:
    """The holder's full name in Arabic and Latin script; ``None`` once erased."""
    first_ar, last_ar = learner.first_name_ar, learner.last_name_ar
    first_latin, last_latin = learner.first_name_latin, learner.last_name_latin
    if first_ar is None or last_ar is None or first_latin is None or last_latin is None:
        return None
    return Bilingual(f"{first_ar} {last_ar}", f"{first_latin} {last_latin}")


async def _replacement(session: AsyncSession, certificate: Certificate) -> str | None:
    """The number of the certificate that replaced a revoked one, if any."""
    found = await session.exec(
        select(Certificate.number).where(col(Certificate.replaces) == certificate.id)
    )
    return found.first()


async def _diploma(
    session: AsyncSession, certificate: Certificate, learner: LearnerCopy, public_base_url: str
) -> Diploma:
    holder = holder_names(learner)
    assert holder is not None, "an erased holder's diploma is never rendered"
    completion = await session.get(Completion, certificate.enrollment_id)
    center_fr = learner.center_name or "—"
    return Diploma(
        number=certificate.number,
        kind=CertificateKind(certificate.kind),
        pathway=domain.PATHWAYS[Pathway(certificate.pathway)],
        workshops=[
            domain.workshop_name(code)
            for code in (json.loads(completion.workshops) if completion else [])
        ],
        holder=holder,
        sex=Sex(learner.sex) if learner.sex else None,
        birth_date=learner.birth_date,
        birth_place=BirthPlace(ar=learner.birth_place_ar, fr=learner.birth_place_fr),
        # Until the center's Arabic name is known, its French name stands in the Arabic column.
        center=Bilingual(learner.center_name_ar or center_fr, center_fr),
        region=domain.region_name(certificate.region_code),
        school_year=learner.school_year,
        completed_on=completion.completed_on if completion else certificate.issued_on,
        issued_on=certificate.issued_on,
        signatory_name=Bilingual(certificate.signatory_name_ar, certificate.signatory_name_fr),
        signatory_title=Bilingual(certificate.signatory_title_ar, certificate.signatory_title_fr),
        holder_url=domain.holder_verification_url(
            public_base_url, certificate.number, certificate.verification_token
        ),
        verification_url=domain.verification_url(public_base_url, certificate.number),
    )


_KEEP_PDF = Upsert(
    lambda insert: insert(DiplomaPdf).values(placeholders(DiplomaPdf)).on_conflict_do_nothing()
)
