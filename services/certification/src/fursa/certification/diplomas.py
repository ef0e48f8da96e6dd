"""Diplomas to print: one certificate's (rendered on first demand, then cached), or a center
cohort's in one PDF that names the certificates it leaves out and why; and, before approval,
the preview of one an officer is about to approve."""

from __future__ import annotations

import asyncio
import json
from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.certification import domain, wording
from fursa.certification.diploma import BirthPlace, Diploma, Issuance, Omission, render_pdf
from fursa.certification.domain import (
    Bilingual,
    CertificateStatus,
    CertificationRuleError,
    CompletionState,
)
from fursa.certification.models import Certificate, Completion, DiplomaPdf, LearnerCopy
from fursa.certification.service import Issuer, NotFoundError, learner_visible_to, visible_to
from fursa.certification.signatories import signatory_of
from fursa.shared.auth import Principal
from fursa.shared.clock import local_today, utcnow
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


async def preview_pdf(
    db: Database, *, enrollment_id: str, viewer: Principal, issuer: Issuer
) -> bytes:
    """The diploma of a certificate awaiting approval as it would be issued today — same
    words, the region's signatory — marked as a preview, without number or QR code. Never
    cached: the officer checks what the learner's copy says now."""
    async with db.read() as session:
        found = (
            await session.exec(
                select(Completion, LearnerCopy)
                .join(LearnerCopy, col(LearnerCopy.enrollment_id) == col(Completion.enrollment_id))
                .where(
                    col(Completion.enrollment_id) == enrollment_id,
                    col(Completion.state) == CompletionState.AWAITING_APPROVAL.value,
                    learner_visible_to(viewer),
                )
            )
        ).first()
        if found is None:
            raise NotFoundError(enrollment_id)
        completion, learner = found
        if holder_names(learner) is None:
            raise CertificationRuleError("personal_data_erased")
        signatory = await signatory_of(
            session,
            region_code=learner.region_code,
            default=(issuer.signatory_name, issuer.signatory_title),
        )
    pathway = Pathway(completion.pathway)
    diploma = _printed(
        learner,
        completion,
        kind=domain.kind_for(pathway),
        pathway=pathway,
        region_code=learner.region_code,
        issued_on=local_today(),
        signatory=signatory,
        issuance=None,
    )
    return await asyncio.to_thread(render_pdf, [diploma])


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
    completion = await session.get(Completion, certificate.enrollment_id)
    return _printed(
        learner,
        completion,
        kind=CertificateKind(certificate.kind),
        pathway=Pathway(certificate.pathway),
        region_code=certificate.region_code,
        issued_on=certificate.issued_on,
        signatory=(
            Bilingual(certificate.signatory_name_ar, certificate.signatory_name_fr),
            Bilingual(certificate.signatory_title_ar, certificate.signatory_title_fr),
        ),
        issuance=Issuance(
            number=certificate.number,
            holder_url=domain.holder_verification_url(
                public_base_url, certificate.number, certificate.verification_token
            ),
            verification_url=domain.verification_url(public_base_url, certificate.number),
        ),
    )


def _printed(
    learner: LearnerCopy,
    completion: Completion | None,
    *,
    kind: CertificateKind,
    pathway: Pathway,
    region_code: str,
    issued_on: date,
    signatory: tuple[Bilingual, Bilingual],
    issuance: Issuance | None,
) -> Diploma:
    """What a diploma prints of the holder, the training and the signatory (the region's,
    the one the certificate kept)."""
    holder = holder_names(learner)
    assert holder is not None, "an erased holder's diploma is never rendered"
    center_fr = learner.center_name or "—"
    signatory_name, signatory_title = signatory
    return Diploma(
        kind=kind,
        pathway=domain.PATHWAYS[pathway],
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
        region=domain.region_name(region_code),
        school_year=learner.school_year,
        completed_on=completion.completed_on if completion else issued_on,
        issued_on=issued_on,
        signatory_name=signatory_name,
        signatory_title=signatory_title,
        issuance=issuance,
    )


_KEEP_PDF = Upsert(
    lambda insert: insert(DiplomaPdf).values(placeholders(DiplomaPdf)).on_conflict_do_nothing()
)
