"""The certification service's use cases.

Reactions to events run in the transaction the consumer opened for the event (`tx`), so the
state change, the inbox entry and the events emitted through `tx` commit together. Queries
open their own short transaction on the service's database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import uuid6
from sqlalchemy import ColumnElement, func, inspect, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.certification import domain
from fursa.certification.domain import CertificateStatus
from fursa.certification.models import Certificate, LearnerCopy, NumberCounter
from fursa.shared.auth import Principal
from fursa.shared.clock import local_today
from fursa.shared.contracts import CertificateIssued, LearnerEnrolled, Pathway, TrainingCompleted
from fursa.shared.db import Database, conflict_insert
from fursa.shared.messaging.outbox import Transaction

# A certificate's events form its own history: issued is the first, a revocation comes next.
ISSUED_SEQUENCE = 1


class LearnerNotYetKnownError(Exception):
    """The completion came before the learner's enrollment (streams are not ordered with each
    other): a later delivery will find the learner."""


@dataclass(frozen=True)
class CertificateSummary:
    issued: int
    active: int


async def learner_enrolled(tx: Transaction, *, enrolled: LearnerEnrolled) -> None:
    """Keep (create or refresh) the copy of what a diploma shows of an enrolled learner."""
    pii = enrolled.pii
    values = {
        "enrollment_id": enrolled.enrollment_id,
        "learner_id": enrolled.learner_id,
        "first_name_ar": pii.first_name_ar,
        "last_name_ar": pii.last_name_ar,
        "first_name_latin": pii.first_name_latin,
        "last_name_latin": pii.last_name_latin,
        "association_id": enrolled.association_id,
        "center_id": enrolled.center_id,
        "region_code": enrolled.region_code,
        "province_code": enrolled.province_code,
        "pathway": enrolled.pathway.value,
    }
    # One atomic upsert: two replicas racing on one enrollment never fail on the key (such
    # an error would carry the names into logs and dead letters).
    statement = (await conflict_insert(tx.session, LearnerCopy)).values(values)
    await tx.session.execute(
        statement.on_conflict_do_update(
            index_elements=["enrollment_id"],
            set_={name: statement.excluded[name] for name in values if name != "enrollment_id"},
        )
    )


async def training_completed(
    tx: Transaction, *, completion: TrainingCompleted, public_base_url: str
) -> Certificate | None:
    """Issue the certificate that a passed training earns; a failed one earns nothing."""
    if not domain.earns_certificate(completion.result):
        return None
    return await issue_certificate(
        tx,
        enrollment_id=completion.enrollment_id,
        pathway=completion.pathway,
        public_base_url=public_base_url,
    )


async def issue_certificate(
    tx: Transaction,
    *,
    enrollment_id: str,
    pathway: Pathway,
    public_base_url: str,
    issued_on: date | None = None,
) -> Certificate | None:
    """Issue the enrollment's certificate, numbered without gaps, and emit certificate-issued.

    Returns ``None`` when the enrollment already has an active certificate (issuing is
    idempotent). Raises :class:`LearnerNotYetKnownError` when the learner's copy has not
    arrived yet, and :class:`domain.UnknownRegionError` when its region cannot be numbered.
    `issued_on` defaults to today's local date; its year starts a new series of numbers.
    """
    session = tx.session
    learner = await session.get(LearnerCopy, enrollment_id, populate_existing=True)
    if learner is None:
        raise LearnerNotYetKnownError(f"enrollment {enrollment_id} is not known yet")
    if await _active_certificate(session, enrollment_id=enrollment_id) is not None:
        return None
    issued_on = issued_on or local_today()
    kind = domain.kind_for(pathway)
    serial = await _next_serial(session, region_code=learner.region_code, year=issued_on.year)
    certificate = Certificate(
        id=str(uuid6.uuid7()),
        number=domain.certificate_number(
            region_code=learner.region_code, year=issued_on.year, serial=serial
        ),
        enrollment_id=enrollment_id,
        learner_id=learner.learner_id,
        kind=kind.value,
        pathway=pathway.value,
        association_id=learner.association_id,
        center_id=learner.center_id,
        region_code=learner.region_code,
        province_code=learner.province_code,
        issued_on=issued_on,
        status=CertificateStatus.ACTIVE.value,
    )
    session.add(certificate)
    # Flushed now so that the unique keys (number, one active per enrollment) fail this
    # transaction before the event is written.
    await session.flush()
    await tx.emit(
        CertificateIssued(
            certificate_id=certificate.id,
            certificate_number=certificate.number,
            enrollment_id=certificate.enrollment_id,
            learner_id=certificate.learner_id,
            kind=kind,
            pathway=pathway,
            issued_on=certificate.issued_on,
            verification_url=domain.verification_url(public_base_url, certificate.number),
        ),
        subject=certificate.id,
        sequence=ISSUED_SEQUENCE,
    )
    return certificate


def visible_to(viewer: Principal) -> ColumnElement[bool]:
    """The certificates the viewer may see, by where they were issued."""
    columns = inspect(Certificate).columns
    return viewer.visible(
        association=columns.association_id,
        center=columns.center_id,
        region=columns.region_code,
        province=columns.province_code,
    )


async def certificates_of_enrollment(
    db: Database, *, enrollment_id: str, viewer: Principal
) -> list[Certificate]:
    """Every certificate of an enrollment (active and revoked) that the viewer may see,
    oldest first."""
    async with db.read() as session:
        result = await session.exec(
            select(Certificate)
            .where(col(Certificate.enrollment_id) == enrollment_id, visible_to(viewer))
            .order_by(col(Certificate.issued_on), col(Certificate.number))
        )
        return list(result.all())


async def find_certificate(db: Database, *, number: str) -> Certificate | None:
    """The certificate with this number, if there is one (whoever may see it: callers check)."""
    async with db.read() as session:
        result = await session.exec(select(Certificate).where(col(Certificate.number) == number))
        return result.first()


async def certificate_summary(db: Database, *, viewer: Principal) -> CertificateSummary:
    """How many of the certificates the viewer may see were issued, and how many of them are
    still active."""
    active = col(Certificate.status) == CertificateStatus.ACTIVE.value
    async with db.read() as session:
        result = await session.exec(
            select(func.count(), func.count().filter(active))
            .select_from(Certificate)
            .where(visible_to(viewer))
        )
        issued, active_count = result.one()
    return CertificateSummary(issued=issued, active=active_count)


async def _active_certificate(session: AsyncSession, *, enrollment_id: str) -> Certificate | None:
    result = await session.exec(
        select(Certificate).where(
            col(Certificate.enrollment_id) == enrollment_id,
            col(Certificate.status) == CertificateStatus.ACTIVE.value,
        )
    )
    return result.first()


async def _next_serial(session: AsyncSession, *, region_code: str, year: int) -> int:
    """Take the next serial of a region and year, inside the certificate's own transaction.

    A database sequence would leave a gap at every rollback. This counter row is incremented
    in place instead: its row lock makes concurrent issuers wait for each other's commit or
    rollback, so a rolled-back certificate gives its number back.
    """
    # Create the row at 0 unless it exists; racing inserts are harmless.
    counter = await conflict_insert(session, NumberCounter)
    await session.execute(
        counter.values(region_code=region_code, year=year, last=0).on_conflict_do_nothing()
    )
    result = await session.execute(
        update(NumberCounter)
        .where(col(NumberCounter.region_code) == region_code, col(NumberCounter.year) == year)
        .values(last=col(NumberCounter.last) + 1)
        .returning(col(NumberCounter.last))
    )
    last: int = result.scalar_one()
    return last
