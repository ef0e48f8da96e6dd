"""The certification service's use cases.

Reactions to events run in the transaction the consumer opened for the event (`tx`), so the
state change, the inbox entry and the events emitted through `tx` commit together. Officers'
actions open their own transaction through the unit of work; queries read a snapshot.

One active certificate per completed enrollment holds whatever happens: a passed training is
recorded once per enrollment (its primary key), only that first record issues, a re-issue
happens only by an officer after a revocation, and the database refuses a second active
certificate of an enrollment (a partial unique index) should two transactions still race.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

import uuid6
from sqlalchemy import ColumnElement, Insert, bindparam, delete, func, inspect, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.certification import domain, status_list
from fursa.certification.credentials import (
    CredentialFacts,
    IssuerKeys,
    sign_credential,
    sign_status_list,
)
from fursa.certification.domain import (
    Bilingual,
    CertificateStatus,
    CertificationRuleError,
    CompletionState,
    IssuancePolicy,
)
from fursa.certification.models import (
    AUDIT,
    Certificate,
    Completion,
    DiplomaPdf,
    ErasedLearner,
    LearnerCopy,
    NumberCounter,
    StatusIndexCounter,
    StatusList,
)
from fursa.certification.signatories import signatory_of
from fursa.shared.audit import Place
from fursa.shared.auth import Principal
from fursa.shared.clock import local_today, utcnow
from fursa.shared.contracts import (
    CertificateIssued,
    CertificateKind,
    CertificateRevoked,
    LearnerEnrolled,
    LearnerErased,
    LearnerPII,
    LearnerUpdated,
    Pathway,
    RevocationReason,
    TrainingCompleted,
)
from fursa.shared.db import Database, InsertOf, Upsert, placeholders
from fursa.shared.messaging.outbox import Transaction, UnitOfWork
from fursa.shared.messaging.tables import KernelTables
from fursa.shared.metrics import record_certificate

# A certificate's events form its own history: issued is the first, a revocation comes next.
ISSUED_SEQUENCE = 1
REVOKED_SEQUENCE = 2


class LearnerNotYetKnownError(Exception):
    """The completion came before the learner's enrollment (streams are not ordered with each
    other): a later delivery will find the learner."""


class NotFoundError(LookupError):
    """Nothing of that id within the caller's scope (answered as if it did not exist)."""


@dataclass(frozen=True)
class Issuer:
    """Who issues and signs: the keys, the public address, and the signatory printed where
    the region has none of its own (see `signatories`)."""

    keys: IssuerKeys
    public_base_url: str
    signatory_name: Bilingual
    signatory_title: Bilingual


@dataclass(frozen=True)
class CertificateSummary:
    issued: int
    active: int


@dataclass(frozen=True)
class PendingApproval:
    """A passed training whose certificate awaits an officer's approval."""

    enrollment_id: str
    learner_id: str
    center_id: str
    school_year: str
    pathway: str
    completed_on: date
    held_on: date | None
    held_by: str | None
    hold_reason: str | None

    @property
    def held(self) -> bool:
        return self.held_on is not None

    @classmethod
    def of(cls, completion: Completion, learner: LearnerCopy) -> PendingApproval:
        return cls(
            enrollment_id=completion.enrollment_id,
            learner_id=learner.learner_id,
            center_id=learner.center_id,
            school_year=learner.school_year,
            pathway=completion.pathway,
            completed_on=completion.completed_on,
            held_on=completion.held_on,
            held_by=completion.held_by,
            hold_reason=completion.hold_reason,
        )


# What a diploma prints of the holder: personal data, emptied by an erasure.
_PERSONAL_COLUMNS = (
    "first_name_ar",
    "last_name_ar",
    "first_name_latin",
    "last_name_latin",
    "sex",
    "birth_date",
    "birth_place_ar",
    "birth_place_fr",
)


def _personal(pii: LearnerPII) -> dict[str, object]:
    return {
        "first_name_ar": pii.first_name_ar,
        "last_name_ar": pii.last_name_ar,
        "first_name_latin": pii.first_name_latin,
        "last_name_latin": pii.last_name_latin,
        "sex": pii.sex.value,
        "birth_date": pii.birth_date,
        "birth_place_ar": pii.birth_place_ar,
        "birth_place_fr": pii.birth_place_fr,
    }


async def _is_erased(session: AsyncSession, learner_id: str) -> bool:
    return await session.get(ErasedLearner, learner_id) is not None


async def learner_enrolled(tx: Transaction, *, enrolled: LearnerEnrolled) -> None:
    """Keep (create or refresh) the copy of what a diploma shows of an enrolled learner.

    An erased learner's personal data is never stored again, whatever event brings it back.
    """
    personal = _personal(enrolled.pii)
    if await _is_erased(tx.session, enrolled.learner_id):
        personal = dict.fromkeys(personal)
    values = {
        "enrollment_id": enrolled.enrollment_id,
        "learner_id": enrolled.learner_id,
        **personal,
        "association_id": enrolled.association_id,
        "center_id": enrolled.center_id,
        "center_name": enrolled.center_name,
        "center_name_ar": enrolled.center_name_ar,
        "region_code": enrolled.region_code,
        "province_code": enrolled.province_code,
        "pathway": enrolled.pathway.value,
        "school_year": enrolled.school_year,
        "enrolled_on": enrolled.enrolled_on,
    }
    await _KEEP_LEARNER_COPY.execute(tx.session, **values)


async def learner_updated(tx: Transaction, *, updated: LearnerUpdated) -> None:
    """Apply a correction of what a diploma shows of the learner (names, sex, birth) to every
    enrollment's copy; diplomas already rendered are dropped so that the next print shows it."""
    if await _is_erased(tx.session, updated.learner_id):
        return
    copies = col(LearnerCopy.learner_id) == updated.learner_id
    await tx.session.execute(update(LearnerCopy).where(copies).values(_personal(updated.pii)))
    await _drop_rendered_diplomas(tx.session, learner_id=updated.learner_id)


async def learner_erased(tx: Transaction, *, erased: LearnerErased, tables: KernelTables) -> None:
    """Forget the learner's personal data here: names in the copies, rendered diplomas, and
    dead-lettered events about the learner; keep a tombstone. Certificates stay valid, and
    verify, without the name."""
    session = tx.session
    await _KEEP_TOMBSTONE.execute(session, learner_id=erased.learner_id, erased_at=utcnow())
    copy = (
        await session.exec(
            select(LearnerCopy).where(col(LearnerCopy.learner_id) == erased.learner_id).limit(1)
        )
    ).first()
    AUDIT.record(
        session,
        None,
        "learner.erased",
        entity="learner",
        entity_id=erased.learner_id,
        learner_id=erased.learner_id,
        place=place_of(copy) if copy else None,
    )
    await session.execute(
        update(LearnerCopy)
        .where(
            (col(LearnerCopy.learner_id) == erased.learner_id)
            | col(LearnerCopy.enrollment_id).in_(erased.enrollment_ids)
        )
        .values(dict.fromkeys(_PERSONAL_COLUMNS))
    )
    await _drop_rendered_diplomas(session, learner_id=erased.learner_id)
    await _forget_hold_reasons(session, erased)
    await AUDIT.forget_details(session, erased.learner_id)
    dead_letter = tables.dead_letter
    mentions = (await session.execute(select(dead_letter.c.id, dead_letter.c.payload))).all()
    marker = erased.learner_id.encode()
    erased_ids = [row.id for row in mentions if marker in row.payload]
    if erased_ids:
        await session.execute(
            dead_letter.update()
            .where(dead_letter.c.id.in_(erased_ids))
            .values(payload=b"", error="payload erased with the learner's personal data")
        )


async def _forget_hold_reasons(session: AsyncSession, erased: LearnerErased) -> None:
    """An officer's reason for a hold is free text that may name the learner: emptied, while
    the hold itself stays."""
    of_learner = select(LearnerCopy.enrollment_id).where(
        (col(LearnerCopy.learner_id) == erased.learner_id)
        | col(LearnerCopy.enrollment_id).in_(erased.enrollment_ids)
    )
    await session.execute(
        update(Completion)
        .where(col(Completion.enrollment_id).in_(of_learner.scalar_subquery()))
        .values(hold_reason=None)
    )


async def _drop_rendered_diplomas(session: AsyncSession, *, learner_id: str) -> None:
    of_learner = select(Certificate.id).where(col(Certificate.learner_id) == learner_id)
    await session.execute(
        delete(DiplomaPdf).where(col(DiplomaPdf.certificate_id).in_(of_learner.scalar_subquery()))
    )


async def training_completed(
    tx: Transaction,
    *,
    completion: TrainingCompleted,
    policy: IssuancePolicy,
    issuer: Issuer,
) -> Certificate | None:
    """Record a passed training once per enrollment, and issue its certificate at once when
    the pathway's policy is automatic (otherwise it awaits an officer's approval).

    A failed training earns nothing; a second completion record of the same enrollment, or
    the same completion replayed, changes nothing.
    """
    if not domain.earns_certificate(completion.result):
        return None
    session = tx.session
    if await session.get(LearnerCopy, completion.enrollment_id) is None:
        raise LearnerNotYetKnownError(f"enrollment {completion.enrollment_id} is not known yet")
    state = domain.state_after_completion(policy)
    inserted = await _RECORD_COMPLETION.execute(
        session,
        enrollment_id=completion.enrollment_id,
        training_id=completion.training_id,
        pathway=completion.pathway.value,
        workshops=json.dumps(completion.workshops),
        completed_on=completion.completed_on,
        state=state.value,
    )
    if inserted.first() is None or state != CompletionState.ISSUED:
        return None
    certificate = await issue_certificate(
        tx, enrollment_id=completion.enrollment_id, pathway=completion.pathway, issuer=issuer
    )
    if certificate is not None:
        _audit(tx, None, "certificate.issued", certificate, reason=IssuancePolicy.AUTOMATIC)
    return certificate


async def issue_certificate(
    tx: Transaction,
    *,
    enrollment_id: str,
    pathway: Pathway,
    issuer: Issuer,
    issued_on: date | None = None,
    replaces: Certificate | None = None,
) -> Certificate | None:
    """Issue the enrollment's certificate, numbered without gaps and signed, and emit
    certificate-issued.

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
    issued_at = utcnow()
    issued_on = issued_on or local_today()
    kind = domain.kind_for(pathway)
    serial = await _next_serial(session, region_code=learner.region_code, year=issued_on.year)
    status_index = await _next_status_index(session, issued_at=issued_at)
    signatory_name, signatory_title = await signatory_of(
        session,
        region_code=learner.region_code,
        default=(issuer.signatory_name, issuer.signatory_title),
    )
    certificate_id = str(uuid6.uuid7())
    number = domain.certificate_number(
        region_code=learner.region_code, year=issued_on.year, serial=serial
    )
    credential = sign_credential(
        issuer.keys,
        CredentialFacts(
            certificate_id=certificate_id,
            number=number,
            learner_id=learner.learner_id,
            kind=kind,
            pathway=pathway,
            issued_at=issued_at,
            public_base_url=issuer.public_base_url,
            status_index=status_index,
        ),
    )
    certificate = Certificate(
        id=certificate_id,
        number=number,
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
        replaces=replaces.id if replaces else None,
        verification_token=domain.new_verification_token(),
        signatory_name_ar=signatory_name.ar,
        signatory_name_fr=signatory_name.fr,
        signatory_title_ar=signatory_title.ar,
        signatory_title_fr=signatory_title.fr,
        credential=credential,
        signing_key_id=issuer.keys.current_key_id,
        status_index=status_index,
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
            replaces=certificate.replaces,
            verification_url=domain.verification_url(issuer.public_base_url, certificate.number),
        ),
        subject=certificate.id,
        sequence=ISSUED_SEQUENCE,
    )
    tx.after_commit(partial(record_certificate, "reissued" if replaces else "issued"))
    return certificate


async def approve(
    uow: UnitOfWork, *, enrollment_id: str, officer: Principal, issuer: Issuer
) -> Certificate:
    """An officer approves one learner's pending certificate, which is issued at once; a held
    one is refused until released."""
    async with uow.begin() as tx:
        completion, learner = await _one_pending(tx.session, officer, enrollment_id)
        if completion.held_on is not None:
            raise CertificationRuleError("approval_held")
        [certificate] = await _issue_approved(
            tx, [(completion, learner)], officer=officer, issuer=issuer
        )
        return certificate


async def hold(
    uow: UnitOfWork, *, enrollment_id: str, reason: str, officer: Principal
) -> PendingApproval:
    """An officer holds one learner's pending certificate, saying why: it stays in the queue,
    and no approval issues it (alone or with its cohort) until it is released."""
    async with uow.begin() as tx:
        completion, learner = await _one_pending(tx.session, officer, enrollment_id)
        if completion.held_on is not None:
            raise CertificationRuleError("approval_already_held")
        completion.held_on = local_today()
        completion.held_by = officer.subject
        completion.hold_reason = reason
        tx.session.add(completion)
        _audit_approval(tx, officer, "approval.held", learner, reason=reason)
        return PendingApproval.of(completion, learner)


async def release(uow: UnitOfWork, *, enrollment_id: str, officer: Principal) -> PendingApproval:
    """An officer releases a held certificate: it awaits approval again, like any other."""
    async with uow.begin() as tx:
        completion, learner = await _one_pending(tx.session, officer, enrollment_id)
        if completion.held_on is None:
            raise CertificationRuleError("approval_not_held")
        _audit_approval(tx, officer, "approval.released", learner, reason=completion.hold_reason)
        completion.held_on = None
        completion.held_by = None
        completion.hold_reason = None
        tx.session.add(completion)
        return PendingApproval.of(completion, learner)


async def _one_pending(
    session: AsyncSession, officer: Principal, enrollment_id: str
) -> tuple[Completion, LearnerCopy]:
    pending = await _pending(session, officer, enrollment_id=enrollment_id)
    if not pending:
        raise NotFoundError(enrollment_id)
    [found] = pending
    return found


def _audit_approval(
    tx: Transaction, by: Principal, action: str, learner: LearnerCopy, *, reason: str | None
) -> None:
    """An entry of the audit trail about a pending approval; the officer's reason is free
    text, so it goes in the details, which an erasure empties."""
    AUDIT.record(
        tx.session,
        by,
        action,
        entity="enrollment",
        entity_id=learner.enrollment_id,
        learner_id=learner.learner_id,
        place=place_of(learner),
        details={"hold_reason": reason},
    )


async def approve_cohort(
    uow: UnitOfWork,
    *,
    center_id: str,
    school_year: str | None,
    officer: Principal,
    issuer: Issuer,
) -> list[Certificate]:
    """An officer approves every pending certificate of a center's cohort at once (e.g.
    before a graduation ceremony), in one transaction: all are issued, or none. Held ones are
    left out, still awaiting approval."""
    async with uow.begin() as tx:
        pending = await _pending(tx.session, officer, center_id=center_id, school_year=school_year)
        approvable = [(c, learner) for c, learner in pending if c.held_on is None]
        return await _issue_approved(tx, approvable, officer=officer, issuer=issuer, cohort=True)


async def _issue_approved(
    tx: Transaction,
    pending: Sequence[tuple[Completion, LearnerCopy]],
    *,
    officer: Principal,
    issuer: Issuer,
    cohort: bool = False,
) -> list[Certificate]:
    issued = []
    for completion, _learner in pending:
        completion.state = CompletionState.ISSUED.value
        completion.approved_by = officer.subject
        tx.session.add(completion)
        certificate = await issue_certificate(
            tx,
            enrollment_id=completion.enrollment_id,
            pathway=Pathway(completion.pathway),
            issuer=issuer,
        )
        if certificate is not None:
            _audit(tx, officer, "certificate.approved", certificate, cohort=cohort)
            issued.append(certificate)
    return issued


async def _pending(
    session: AsyncSession,
    viewer: Principal,
    *,
    enrollment_id: str | None = None,
    center_id: str | None = None,
    school_year: str | None = None,
) -> list[tuple[Completion, LearnerCopy]]:
    """Completions awaiting approval that the viewer may see, locked for an approver."""
    query = (
        select(Completion, LearnerCopy)
        .join(LearnerCopy, col(LearnerCopy.enrollment_id) == col(Completion.enrollment_id))
        .where(
            col(Completion.state) == CompletionState.AWAITING_APPROVAL.value,
            learner_visible_to(viewer),
        )
        .order_by(col(Completion.completed_on), col(Completion.enrollment_id))
    )
    if enrollment_id is not None:
        query = query.where(col(Completion.enrollment_id) == enrollment_id)
    if center_id is not None:
        query = query.where(col(LearnerCopy.center_id) == center_id)
    if school_year is not None:
        query = query.where(col(LearnerCopy.school_year) == school_year)
    # Two officers approving the same cohort at once: the second waits, then finds nothing.
    result = await session.exec(query.with_for_update(of=Completion))
    return [(completion, learner) for completion, learner in result.all()]


async def pending_approvals(
    db: Database, *, viewer: Principal, center_id: str | None = None
) -> list[PendingApproval]:
    """Passed trainings awaiting an officer's approval, within the viewer's scope (held ones
    too, with their hold)."""
    query = (
        select(Completion, LearnerCopy)
        .join(LearnerCopy, col(LearnerCopy.enrollment_id) == col(Completion.enrollment_id))
        .where(
            col(Completion.state) == CompletionState.AWAITING_APPROVAL.value,
            learner_visible_to(viewer),
        )
        .order_by(col(Completion.completed_on), col(Completion.enrollment_id))
    )
    if center_id is not None:
        query = query.where(col(LearnerCopy.center_id) == center_id)
    async with db.read() as session:
        rows = (await session.exec(query)).all()
    return [PendingApproval.of(completion, learner) for completion, learner in rows]


async def revoke(
    uow: UnitOfWork,
    *,
    number: str,
    reason: RevocationReason,
    officer: Principal,
) -> Certificate:
    """An officer revokes a certificate, with a reason code: certificate-revoked is emitted,
    and verification shows the revocation from this commit on."""
    async with uow.begin() as tx:
        certificate = await _certificate_for_update(tx.session, number, officer)
        domain.ensure_revocable(CertificateStatus(certificate.status))
        certificate.status = CertificateStatus.REVOKED.value
        certificate.revoked_on = local_today()
        certificate.revocation_reason = reason.value
        tx.session.add(certificate)
        if certificate.status_index is not None:
            await _status_list_changed(tx.session, certificate.status_index)
        await tx.session.execute(
            delete(DiplomaPdf).where(col(DiplomaPdf.certificate_id) == certificate.id)
        )
        await tx.emit(
            CertificateRevoked(
                certificate_id=certificate.id,
                certificate_number=certificate.number,
                enrollment_id=certificate.enrollment_id,
                learner_id=certificate.learner_id,
                reason=reason,
                revoked_on=certificate.revoked_on,
            ),
            subject=certificate.id,
            sequence=REVOKED_SEQUENCE,
        )
        _audit(tx, officer, "certificate.revoked", certificate, reason=reason)
        tx.after_commit(partial(record_certificate, "revoked"))
        return certificate


async def reissue(
    uow: UnitOfWork, *, number: str, officer: Principal, issuer: Issuer
) -> Certificate:
    """An officer re-issues a revoked certificate: a new number replaces it (lineage kept)."""
    async with uow.begin() as tx:
        revoked = await _certificate_for_update(tx.session, number, officer)
        active = await _active_certificate(tx.session, enrollment_id=revoked.enrollment_id)
        domain.ensure_reissuable(
            CertificateStatus(revoked.status), enrollment_has_active=active is not None
        )
        certificate = await issue_certificate(
            tx,
            enrollment_id=revoked.enrollment_id,
            pathway=Pathway(revoked.pathway),
            issuer=issuer,
            replaces=revoked,
        )
        if certificate is None:
            raise CertificationRuleError("certificate_already_replaced")
        _audit(tx, officer, "certificate.reissued", certificate, replaces=revoked.number)
        return certificate


async def _certificate_for_update(
    session: AsyncSession, number: str, viewer: Principal
) -> Certificate:
    result = await session.exec(
        select(Certificate).where(col(Certificate.number) == number).with_for_update()
    )
    certificate = result.first()
    if certificate is None or not viewer.sees(**certificate.placement()):
        raise NotFoundError(number)
    return certificate


def place_of(row: Certificate | LearnerCopy) -> Place:
    """Where a certificate or a learner's enrollment sits: who may read its audit entries."""
    return Place(
        association_id=row.association_id,
        center_id=row.center_id,
        province_code=row.province_code,
        region_code=row.region_code,
    )


def _audit(
    tx: Transaction,
    by: Principal | None,
    action: str,
    certificate: Certificate,
    *,
    reason: str | None = None,
    **details: object,
) -> None:
    """An entry of the audit trail about a certificate (its number and enrollment, never a
    name)."""
    AUDIT.record(
        tx.session,
        by,
        action,
        entity="certificate",
        entity_id=certificate.id,
        learner_id=certificate.learner_id,
        place=place_of(certificate),
        reason=reason,
        details={"number": certificate.number, "enrollment_id": certificate.enrollment_id}
        | details,
    )


def visible_to(viewer: Principal) -> ColumnElement[bool]:
    """The certificates the viewer may see, by where they were issued."""
    columns = inspect(Certificate).columns
    return viewer.visible(
        association=columns.association_id,
        center=columns.center_id,
        region=columns.region_code,
        province=columns.province_code,
    )


def learner_visible_to(viewer: Principal) -> ColumnElement[bool]:
    """The learners' enrollments the viewer may see, by where they are enrolled."""
    columns = inspect(LearnerCopy).columns
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


async def certificate_summary(
    db: Database, *, viewer: Principal, school_year: str | None = None
) -> CertificateSummary:
    """How many of the certificates the viewer may see were issued, and how many of them are
    still active; with ``school_year``, only those of that year's cohort (the school year the
    learner was enrolled for)."""
    active = col(Certificate.status) == CertificateStatus.ACTIVE.value
    query = (
        select(func.count(), func.count().filter(active))
        .select_from(Certificate)
        .where(visible_to(viewer))
    )
    if school_year is not None:
        query = query.join(
            LearnerCopy, col(LearnerCopy.enrollment_id) == col(Certificate.enrollment_id)
        ).where(col(LearnerCopy.school_year) == school_year)
    async with db.read() as session:
        result = await session.exec(query)
        issued, active_count = result.one()
    return CertificateSummary(issued=issued, active=active_count)


@dataclass(frozen=True)
class Holder:
    """Who holds a certificate, shown only through the QR code's token; the names are gone
    (``None``) once the learner's personal data was erased."""

    name_ar: str | None
    name_latin: str | None
    center_name: str | None
    region: Bilingual
    workshops: list[Bilingual]


@dataclass(frozen=True)
class Verification:
    """What the public verification page and endpoint show of a certificate."""

    number: str
    status: CertificateStatus
    kind: CertificateKind
    pathway: Pathway
    issued_on: date
    revoked_on: date | None
    revocation_reason: RevocationReason | None
    replaced_by: str | None
    holder: Holder | None

    @property
    def valid(self) -> bool:
        return self.status == CertificateStatus.ACTIVE


def _full_name(first: str | None, last: str | None) -> str | None:
    if first is None or last is None:
        return None
    return f"{first} {last}"


async def verify(db: Database, *, number: str, token: str | None) -> Verification | None:
    """A certificate as the public may see it: by number alone its validity, programme and
    date; with the QR code's token also its holder. ``None`` for an unknown number or a
    token that is not the certificate's."""
    async with db.read() as session:
        certificate = (
            await session.exec(select(Certificate).where(col(Certificate.number) == number))
        ).first()
        if certificate is None:
            return None
        if token is not None and not secrets.compare_digest(
            token.encode(), certificate.verification_token.encode()
        ):
            return None
        replaced_by = (
            await session.exec(
                select(Certificate.number).where(col(Certificate.replaces) == certificate.id)
            )
        ).first()
        holder = None
        if token is not None:
            holder = await _holder(session, certificate)
    return Verification(
        number=certificate.number,
        status=CertificateStatus(certificate.status),
        kind=CertificateKind(certificate.kind),
        pathway=Pathway(certificate.pathway),
        issued_on=certificate.issued_on,
        revoked_on=certificate.revoked_on,
        revocation_reason=(
            RevocationReason(certificate.revocation_reason)
            if certificate.revocation_reason
            else None
        ),
        replaced_by=replaced_by,
        holder=holder,
    )


async def _holder(session: AsyncSession, certificate: Certificate) -> Holder:
    learner = await session.get(LearnerCopy, certificate.enrollment_id)
    completion = await session.get(Completion, certificate.enrollment_id)
    workshops = json.loads(completion.workshops) if completion else []
    return Holder(
        name_ar=_full_name(learner.first_name_ar, learner.last_name_ar) if learner else None,
        name_latin=(
            _full_name(learner.first_name_latin, learner.last_name_latin) if learner else None
        ),
        center_name=learner.center_name if learner else None,
        region=domain.region_name(certificate.region_code),
        workshops=[domain.workshop_name(code) for code in workshops],
    )


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
    result = await _NEXT_SERIAL.execute(session, region_code=region_code, year=year)
    last: int = result.scalar_one()
    return last


async def _next_status_index(session: AsyncSession, *, issued_at: datetime) -> int:
    """Take the next revocation status-list index inside the certificate's transaction (the
    counter row's lock serialises issuers, as for serials), and create its list when the
    index opens a new one."""
    index: int = (
        await _NEXT_STATUS_INDEX.execute(session, purpose=status_list.REVOCATION)
    ).scalar_one()
    await _OPEN_STATUS_LIST.execute(
        session,
        purpose=status_list.REVOCATION,
        number=status_list.StatusPosition.of(index).list_number,
        updated_at=issued_at,
    )
    return index


async def _status_list_changed(session: AsyncSession, status_index: int) -> None:
    await session.execute(
        update(StatusList)
        .where(
            col(StatusList.purpose) == status_list.REVOCATION,
            col(StatusList.number) == status_list.StatusPosition.of(status_index).list_number,
        )
        .values(updated_at=utcnow())
    )


@dataclass(frozen=True)
class PublishedStatusList:
    """A revocation list as published: its signed credential, and a tag that changes with it."""

    etag: str
    credential: str


def _status_list_etag(state: StatusList, issuer: Issuer) -> str:
    digest = hashlib.sha256(
        f"{state.number}|{state.updated_at.isoformat()}|{issuer.keys.current_key_id}|"
        f"{issuer.public_base_url}".encode()
    )
    return f'"{digest.hexdigest()[:32]}"'


async def revocation_status_list(
    db: Database, *, number: int, issuer: Issuer, known_etag: str | None = None
) -> PublishedStatusList | None:
    """A revocation list's signed `BitstringStatusListCredential`, ``None`` for a list that
    does not exist. When the caller already holds the current version (`known_etag`), only
    the tag is returned (empty credential): the list is neither read nor signed again."""
    async with db.read() as session:
        state = await session.get(StatusList, (status_list.REVOCATION, number))
        if state is None:
            return None
        etag = _status_list_etag(state, issuer)
        if known_etag == etag:
            return PublishedStatusList(etag=etag, credential="")
        first = number * status_list.LIST_BITS
        revoked = await session.exec(
            select(Certificate.status_index).where(
                col(Certificate.status) == CertificateStatus.REVOKED.value,
                col(Certificate.status_index) >= first,
                col(Certificate.status_index) < first + status_list.LIST_BITS,
            )
        )
        bits = [index - first for index in revoked.all() if index is not None]
    credential = sign_status_list(
        issuer.keys,
        public_base_url=issuer.public_base_url,
        list_number=number,
        revoked_bits=bits,
        valid_from=state.updated_at,
    )
    return PublishedStatusList(etag=etag, credential=credential)


# ---- statements ----------------------------------------------------------------------------


def _keep_learner_copy(insert: InsertOf) -> Insert:
    # One atomic upsert: two replicas racing on one enrollment never fail on the key (such an
    # error would carry the names into logs and dead letters).
    statement = insert(LearnerCopy).values(placeholders(LearnerCopy))
    return statement.on_conflict_do_update(
        index_elements=["enrollment_id"],
        set_={name: statement.excluded[name] for name in _COPIED},
    )


_COPIED = [name for name in placeholders(LearnerCopy) if name != "enrollment_id"]
_KEEP_LEARNER_COPY = Upsert(_keep_learner_copy)
_KEEP_TOMBSTONE = Upsert(
    lambda insert: (
        insert(ErasedLearner).values(placeholders(ErasedLearner)).on_conflict_do_nothing()
    )
)
# A completion is recorded once: its redelivery returns no row.
_RECORD_COMPLETION = Upsert(
    lambda insert: (
        insert(Completion)
        .values(
            enrollment_id=bindparam("enrollment_id"),
            training_id=bindparam("training_id"),
            pathway=bindparam("pathway"),
            workshops=bindparam("workshops"),
            completed_on=bindparam("completed_on"),
            state=bindparam("state"),
        )
        .on_conflict_do_nothing()
        .returning(col(Completion.enrollment_id))
    )
)
# The region and year's first number creates the row at 1; every later one increments it
# under the row's lock (racing first inserts meet the unique key).
_NEXT_SERIAL = Upsert(
    lambda insert: (
        insert(NumberCounter)
        .values(region_code=bindparam("region_code"), year=bindparam("year"), last=1)
        .on_conflict_do_update(
            index_elements=["region_code", "year"], set_={"last": col(NumberCounter.last) + 1}
        )
        .returning(col(NumberCounter.last))
    )
)
# The first index creates the row at 0; every later one increments it under the row's lock.
_NEXT_STATUS_INDEX = Upsert(
    lambda insert: (
        insert(StatusIndexCounter)
        .values(purpose=bindparam("purpose"), last=0)
        .on_conflict_do_update(
            index_elements=["purpose"], set_={"last": col(StatusIndexCounter.last) + 1}
        )
        .returning(col(StatusIndexCounter.last))
    )
)
_OPEN_STATUS_LIST = Upsert(
    lambda insert: insert(StatusList).values(placeholders(StatusList)).on_conflict_do_nothing()
)
