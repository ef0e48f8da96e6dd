"""A learner's record: reading it, correcting it, the guardian's consent, and the learner's
rights over their data (a subject-access export, an erasure).

Corrections and consent changes publish learner-updated with the whole record as it now
stands (in ``pii``) and the names of the fields that changed. An erasure empties every
column of personal data, the details of the learner's audit entries and the ``pii`` of the
learner's events already published from the outbox, keeps a tombstone, and publishes
learner-erased so that every other service forgets the learner too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.enrollment import audit, events, names
from fursa.enrollment.domain import ACTIVE, EnrollmentStatus, Refused
from fursa.enrollment.erasure import forget_person
from fursa.enrollment.models import (
    AuditEntry,
    Center,
    Enrollment,
    Learner,
    Referral,
    Transfer,
)
from fursa.enrollment.service import (
    hold_identity,
    index_names,
    release_identity,
    visible_enrollments,
)
from fursa.shared.auth import Principal
from fursa.shared.clock import local_today, utcnow
from fursa.shared.contracts import Consent, LearnerErased, LearnerUpdated, Pathway
from fursa.shared.messaging.outbox import Transaction, UnitOfWork

log = logging.getLogger(__name__)

# Field of a correction → column of the learner's row.
CORRECTABLE: dict[str, str] = {
    "first_name_ar": "first_name_ar",
    "last_name_ar": "last_name_ar",
    "first_name_latin": "first_name_latin",
    "last_name_latin": "last_name_latin",
    "birth_date": "birth_date",
    "birth_place_ar": "birth_place_ar",
    "birth_place_fr": "birth_place_fr",
    "sex": "sex",
    "nationality": "nationality",
    "massar_code": "massar_code",
    "last_school_level": "last_school_level",
    "year_left_school": "year_left_school",
    "special_needs": "special_needs",
    "guardian.name": "guardian_name",
    "guardian.phone": "guardian_phone",
    "guardian.email": "guardian_email",
    "guardian.preferred_language": "guardian_language",
    "contact.phone": "phone",
    "contact.email": "email",
    "contact.preferred_language": "preferred_language",
}
# Changing one of these changes who the learner is known as (the duplicate check's keys).
IDENTIFYING = frozenset(
    {
        "first_name_ar",
        "last_name_ar",
        "first_name_latin",
        "last_name_latin",
        "birth_date",
        "massar_code",
        "guardian_phone",
        "phone",
    }
)


class LearnerNotFound(LookupError):  # noqa: N818 - reads as what happened
    def __init__(self, learner_id: str) -> None:
        super().__init__(f"there is no learner {learner_id}")


class LearnerErasedAlready(Refused):
    rule = "learner_erased"
    conflict = True


class ActiveEnrollmentBlocksErasure(Refused):
    rule = "erasure_needs_closed_enrollments"
    conflict = True


NAMES = frozenset({"first_name_ar", "last_name_ar", "first_name_latin", "last_name_latin"})


@dataclass(frozen=True)
class LearnerView:
    learner: Learner
    enrollment_ids: Sequence[str]


@dataclass(frozen=True)
class LearnerSearch:
    """What staff look a learner up by; every criterion given must hold.

    ``name`` is matched word by word, in Arabic or Latin script, after the normalisation the
    duplicate check uses (``Mohammed`` finds Mohamed, ``عبد الله`` finds عبدالله); the
    enrolment criteria hold for one of the learner's enrolments.
    """

    name: str | None = None
    massar_code: str | None = None
    guardian_phone: str | None = None
    center_id: str | None = None
    pathway: Pathway | None = None
    school_year: str | None = None
    status: EnrollmentStatus | None = None


@dataclass(frozen=True)
class LearnerFound:
    """A learner as a search lists them: the record and the current enrolment (the active
    one, else the latest)."""

    learner: Learner
    current: Enrollment


@dataclass(frozen=True)
class LearnerPage:
    found: Sequence[LearnerFound]
    total: int


def phone_digits(phone: str) -> str:
    """The national part of a Moroccan phone number however it is typed (``+212 6 12…``,
    ``0612…``, ``00212612…``): its last nine digits, what a search compares."""
    return "".join(char for char in phone if char.isdigit())[-9:]


def _matching(search: LearnerSearch, scope: Principal) -> ColumnElement[bool]:
    """The learners ``search`` finds within ``scope``."""
    enrolments = [col(Enrollment.learner_id) == col(Learner.id), visible_enrollments(scope)]
    for value, column in (
        (search.center_id, Enrollment.center_id),
        (search.pathway, Enrollment.pathway),
        (search.school_year, Enrollment.school_year),
        (search.status, Enrollment.status),
    ):
        if value is not None:
            enrolments.append(col(column) == value)
    seen = (
        select(col(Enrollment.id))
        .join(Center, col(Center.id) == col(Enrollment.center_id))
        .where(*enrolments)
    )
    criteria = [exists(seen), col(Learner.erased_at).is_(None)]
    if search.name:
        criteria.extend(
            col(Learner.search_key).contains(word, autoescape=True)
            for word in names.search_words(search.name)
        )
    if search.massar_code:
        criteria.append(col(Learner.massar_code) == search.massar_code.strip().upper())
    if search.guardian_phone:
        digits = phone_digits(search.guardian_phone)
        criteria.append(col(Learner.guardian_phone).endswith(digits, autoescape=True))
    return and_(*criteria)


class LearnerRecords:
    """Learners' records, within the caller's scope: a learner is visible to whoever sees
    one of the learner's enrollments."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def _visible(
        self, session: AsyncSession, learner_id: str, scope: Principal, *, lock: bool = False
    ) -> Learner:
        seen = select(col(Enrollment.id)).join(Center, col(Center.id) == col(Enrollment.center_id))
        seen = seen.where(col(Enrollment.learner_id) == learner_id, visible_enrollments(scope))
        if not (await session.execute(select(exists(seen)))).scalar():
            raise LearnerNotFound(learner_id)
        learner = await session.get(Learner, learner_id, with_for_update=lock)
        if learner is None:
            raise LearnerNotFound(learner_id)
        return learner

    async def _enrollments(self, session: AsyncSession, learner_id: str) -> Sequence[Enrollment]:
        query = (
            select(Enrollment)
            .where(col(Enrollment.learner_id) == learner_id)
            .order_by(col(Enrollment.queued_at), col(Enrollment.id))
        )
        return (await session.execute(query)).scalars().all()

    async def find(
        self, search: LearnerSearch, *, scope: Principal, limit: int, offset: int
    ) -> LearnerPage:
        """A page of the learners ``search`` finds within ``scope``, by Latin name, with the
        total found."""
        matching = _matching(search, scope)
        page = (
            select(Learner)
            .where(matching)
            .order_by(col(Learner.last_name_latin), col(Learner.first_name_latin), col(Learner.id))
            .limit(limit)
            .offset(offset)
        )
        async with self.uow.read() as session:
            count = select(func.count()).select_from(Learner).where(matching)
            total = (await session.execute(count)).scalar_one()
            learners = (await session.execute(page)).scalars().all()
            enrolments = (
                (
                    await session.execute(
                        select(Enrollment)
                        .where(col(Enrollment.learner_id).in_([learner.id for learner in learners]))
                        .order_by(col(Enrollment.queued_at), col(Enrollment.id))
                    )
                )
                .scalars()
                .all()
            )
        current: dict[str, Enrollment] = {}
        for enrolment in enrolments:  # oldest first: the latest, or an active one, stays
            held = current.get(enrolment.learner_id)
            if held is None or held.status not in ACTIVE or enrolment.status in ACTIVE:
                current[enrolment.learner_id] = enrolment
        return LearnerPage([LearnerFound(one, current[one.id]) for one in learners], total)

    async def get(self, learner_id: str, *, scope: Principal) -> LearnerView:
        """A learner's record with their personal data; :class:`LearnerNotFound` outside
        ``scope``."""
        async with self.uow.read() as session:
            learner = await self._visible(session, learner_id, scope)
            enrollments = await self._enrollments(session, learner_id)
        return LearnerView(learner, [enrollment.id for enrollment in enrollments])

    async def correct(
        self, learner_id: str, *, changes: Mapping[str, Any], scope: Principal
    ) -> LearnerView:
        """Correct a learner's record (``changes``: field → value, see :data:`CORRECTABLE`).

        Publishes learner-updated naming what changed; nothing changes, nothing is published.
        A correction that makes the learner a duplicate of another active learner is refused.
        """
        async with self.uow.begin() as tx:
            session = tx.session
            learner = await self._visible(session, learner_id, scope, lock=True)
            if learner.erased_at is not None:
                raise LearnerErasedAlready(learner_id=learner_id)
            changed: dict[str, dict[str, Any]] = {}
            for field, value in changes.items():
                column = CORRECTABLE[field]
                before = getattr(learner, column)
                if before != value:
                    changed[field] = {"from": before, "to": value}
                    setattr(learner, column, value)
            if changed:
                if NAMES & set(changed):
                    index_names(learner)
                session.add(learner)
                if IDENTIFYING & {CORRECTABLE[field] for field in changed}:
                    await self._rekey(session, learner)
                await self._updated(tx, learner, sorted(changed), scope, "learner.corrected")
                audit.record(
                    session,
                    scope,
                    "learner.corrected",
                    entity="learner",
                    entity_id=learner.id,
                    learner_id=learner.id,
                    # The fields, not their values: the trail is read beyond the association.
                    details={"changed": sorted(changed)},
                )
        return await self.get(learner_id, scope=scope)

    async def change_consent(
        self, learner_id: str, *, consent: Consent, scope: Principal
    ) -> LearnerView:
        """Record the consent as it now stands (today, by the caller); audited.

        Publishes learner-updated naming the consents that changed, through which every
        service applies it (see :mod:`fursa.shared.consent`).
        """
        async with self.uow.begin() as tx:
            session = tx.session
            learner = await self._visible(session, learner_id, scope, lock=True)
            if learner.erased_at is not None:
                raise LearnerErasedAlready(learner_id=learner_id)
            changed = [
                name
                for name, before, after in (
                    ("consent.data_use", learner.consent_data_use, consent.data_use),
                    (
                        "consent.notifications",
                        learner.consent_notifications,
                        consent.notifications,
                    ),
                    (
                        "consent.partner_sharing",
                        learner.consent_partner_sharing,
                        consent.partner_sharing,
                    ),
                )
                if before != after
            ]
            learner.consent_data_use = consent.data_use
            learner.consent_notifications = consent.notifications
            learner.consent_partner_sharing = consent.partner_sharing
            learner.consent_recorded_on = local_today()
            learner.consent_recorded_by = scope.subject
            session.add(learner)
            if changed:
                await self._updated(tx, learner, changed, scope, "learner.consent_changed")
            audit.record(
                session,
                scope,
                "learner.consent_recorded",
                entity="learner",
                entity_id=learner.id,
                learner_id=learner.id,
                details={**consent.model_dump(), "changed": changed},
            )
        return await self.get(learner_id, scope=scope)

    async def _rekey(self, session: AsyncSession, learner: Learner) -> None:
        """The learner is known under new keys: the active enrollment claims them again."""
        active = [e for e in await self._enrollments(session, learner.id) if e.status in ACTIVE]
        for enrollment in active:
            await release_identity(session, enrollment.id)
            await hold_identity(session, learner, enrollment.id)

    async def _updated(
        self,
        tx: Transaction,
        learner: Learner,
        changed: list[str],
        scope: Principal,
        action: str,
    ) -> None:
        learner.version += 1
        await tx.emit(
            LearnerUpdated(
                learner_id=learner.id,
                association_id=learner.association_id,
                changed=changed,
                updated_at=utcnow(),
                pii=events.pii_of(learner),
            ),
            subject=learner.id,
            sequence=learner.version,
        )
        log.info("learner %s: %s (%s)", learner.id, action, ", ".join(changed))

    async def export(self, learner_id: str, *, scope: Principal) -> dict[str, Any]:
        """Everything the service holds on a learner (a subject-access request), as JSON.

        The export itself is recorded in the audit log.
        """
        async with self.uow.begin() as tx:
            session = tx.session
            learner = await self._visible(session, learner_id, scope)
            enrollments = await self._enrollments(session, learner_id)
            ids = [enrollment.id for enrollment in enrollments]
            transfers = (
                (
                    await session.execute(
                        select(Transfer).where(col(Transfer.enrollment_id).in_(ids))
                    )
                )
                .scalars()
                .all()
            )
            referrals = (
                (
                    await session.execute(
                        select(Referral).where(col(Referral.enrollment_id).in_(ids))
                    )
                )
                .scalars()
                .all()
            )
            entries = await audit.entries_of_learner(session, learner_id)
            outbox = tx.tables.outbox
            published = (
                await session.execute(
                    select(outbox.c.type, outbox.c.created_at, outbox.c.sent_at)
                    .where(outbox.c.subject.in_([learner_id, *ids]))
                    .order_by(outbox.c.position)
                )
            ).all()
            audit.record(
                session,
                scope,
                "learner.exported",
                entity="learner",
                entity_id=learner_id,
                learner_id=learner_id,
            )
        return {
            "learner": learner.model_dump(mode="json"),
            "enrollments": [
                {
                    **enrollment.model_dump(mode="json"),
                    "transfers": [
                        t.model_dump(mode="json")
                        for t in transfers
                        if t.enrollment_id == enrollment.id
                    ],
                }
                for enrollment in enrollments
            ],
            "referrals": [referral.model_dump(mode="json") for referral in referrals],
            "audit": [_audit_json(entry) for entry in entries],
            "events": [
                {
                    "type": row.type,
                    "created_at": row.created_at.isoformat(),
                    "sent_at": row.sent_at.isoformat() if row.sent_at else None,
                }
                for row in published
            ],
        }

    async def erase(self, learner_id: str, *, scope: Principal) -> LearnerView:
        """Erase a learner's personal data everywhere this service holds it; publish
        learner-erased. Refused while an enrollment is active (withdraw it first); erasing
        an erased learner changes nothing."""
        async with self.uow.begin() as tx:
            session = tx.session
            learner = await self._visible(session, learner_id, scope, lock=True)
            enrollments = await self._enrollments(session, learner_id)
            if learner.erased_at is not None:
                return LearnerView(learner, [enrollment.id for enrollment in enrollments])
            active = [e.id for e in enrollments if e.status in ACTIVE]
            if active:
                raise ActiveEnrollmentBlocksErasure(enrollment_ids=active)
            ids = [enrollment.id for enrollment in enrollments]
            await forget_person(tx, learner, ids, erased_at=utcnow(), published=False)
            await tx.emit(
                LearnerErased(
                    learner_id=learner_id, enrollment_ids=ids, erased_at=learner.erased_at
                ),
                subject=learner_id,
                sequence=learner.version,
            )
            audit.record(
                session,
                scope,
                "learner.erased",
                entity="learner",
                entity_id=learner_id,
                learner_id=learner_id,
            )
        log.info("learner %s erased", learner_id)
        return LearnerView(learner, ids)


def _audit_json(entry: AuditEntry) -> dict[str, Any]:
    body = entry.model_dump(mode="json")
    body["details"] = json.loads(entry.details) if entry.details else None
    return body
