"""The enrollment service layer: enrolling, waitlisting, transferring, withdrawing, completing.

Each public operation is one unit of work: state changes, the events they cause (the
transactional outbox) and the audit entries commit together. Operations that react to another
service's event run inside the consumer's transaction instead, which the kernel opens, so that
the effect and the inbox record commit together.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Exists,
    Row,
    bindparam,
    delete,
    exists,
    func,
    insert,
    inspect,
    or_,
)
from sqlalchemy import select as select_columns  # Core rows: a list of columns, any length
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.enrollment import audit, domain, duplicates, events, names, places
from fursa.enrollment.domain import EnrollmentStatus, Refused, Summary
from fursa.enrollment.eligibility import (
    AgeBounds,
    SchoolLevel,
    check_contact,
    check_eligibility,
)
from fursa.enrollment.models import (
    ActiveIdentity,
    Center,
    DuplicateReview,
    Enrollment,
    Learner,
    PartnershipAgreement,
    Referral,
    SchoolYear,
    Transfer,
)
from fursa.enrollment.places import Intake
from fursa.enrollment.referral_desk import referral_enrolled
from fursa.shared.auth import Principal
from fursa.shared.clock import local_today, utcnow
from fursa.shared.contracts import (
    ExitOutcome,
    LearnerPII,
    LearnerTransferred,
    LearnerWithdrawn,
    Pathway,
    WithdrawalReason,
)
from fursa.shared.db import Upsert, placeholders
from fursa.shared.messaging.outbox import Transaction, UnitOfWork

log = logging.getLogger(__name__)


class CenterNotFound(LookupError):  # noqa: N818 - reads as what happened
    def __init__(self, center_id: str) -> None:
        super().__init__(f"there is no center {center_id}")
        self.center_id = center_id


class EnrollmentNotFound(LookupError):  # noqa: N818 - reads as what happened
    def __init__(self, enrollment_id: str) -> None:
        super().__init__(f"there is no enrollment {enrollment_id}")


class UnknownSchoolYear(Refused):
    rule = "unknown_school_year"


class UnknownReferral(Refused):
    rule = "unknown_referral"


class ReferralAlreadyUsed(Refused):
    rule = "referral_already_used"
    conflict = True


class AgreementNotInForce(Refused):
    rule = "agreement_not_in_force"


class DuplicateEnrollment(Refused):
    """The learner already holds an active enrollment (same Massar code, or same name, birth
    date and guardian phone)."""

    rule = "duplicate_enrollment"
    conflict = True


class CenterFull(Refused):
    rule = "center_full"
    conflict = True


def new_id() -> str:
    return str(uuid.uuid4())


def visible_centers(scope: Principal) -> ColumnElement[bool]:
    """The centers ``scope`` may see: by association, center, region or province."""
    centers = inspect(Center).c
    return scope.visible(
        association=centers.association_id,
        center=centers.id,
        region=centers.region_code,
        province=centers.province_code,
    )


def visible_enrollments(scope: Principal) -> ColumnElement[bool]:
    """The enrollments ``scope`` may see, for a query joining each enrollment to its center
    (an enrollment is placed where its center is: association, center, region, province)."""
    enrollments, centers = inspect(Enrollment).c, inspect(Center).c
    return scope.visible(
        association=enrollments.association_id,
        center=enrollments.center_id,
        region=centers.region_code,
        province=centers.province_code,
    )


def sees_center(scope: Principal, center: Center) -> bool:
    return scope.sees(
        association_id=center.association_id,
        center_id=center.id,
        region_code=center.region_code,
        province_code=center.province_code,
    )


@dataclass(frozen=True)
class Applicant:
    """What an enrollment records about the learner: personal data, schooling, needs."""

    pii: LearnerPII
    last_school_level: SchoolLevel
    year_left_school: int | None = None
    special_needs: str | None = None
    # False for an adult enrolled without a guardian (``pii.guardian`` then repeats the
    # learner's own contact, as v1 events carry it).
    has_guardian: bool = True


@dataclass(frozen=True)
class Placement:
    """Where the learner asks to go, and through which referral if any."""

    center_id: str
    pathway: Pathway
    school_year: str
    referral_id: str | None = None


@dataclass(frozen=True)
class PossibleDuplicate:
    """An earlier record the learner may be (see ``duplicates``), and how likely."""

    learner_id: str
    score: float


@dataclass(frozen=True)
class EnrollmentView:
    """An enrollment with its history of transfers and, while waitlisted, its position."""

    enrollment: Enrollment
    transfers: Sequence[Transfer]
    position: int | None
    possible_duplicates: Sequence[PossibleDuplicate] = ()


def identity_keys(learner: Learner) -> list[str]:
    assert learner.birth_date is not None
    phone = learner.guardian_phone or learner.phone
    assert phone is not None
    return names.identity_keys(
        first_name_ar=learner.first_name_ar or "",
        last_name_ar=learner.last_name_ar or "",
        first_name_latin=learner.first_name_latin or "",
        last_name_latin=learner.last_name_latin or "",
        birth_date=learner.birth_date,
        guardian_phone=phone,
        massar_code=learner.massar_code,
    )


async def hold_identity(session: AsyncSession, learner: Learner, enrollment_id: str) -> None:
    """Claim the learner's identity keys for an active enrollment, or raise
    :class:`DuplicateEnrollment` when another active enrollment holds one of them.

    The database's unique key decides, so two concurrent requests cannot both win. No
    savepoint: a key already held inserts no row, and that is the duplicate. The caller's
    transaction (or savepoint) ends with the error, so the keys that were inserted go with it.
    """
    for key in identity_keys(learner):
        held = await _HOLD_IDENTITY.execute(session, key=key, enrollment_id=enrollment_id)
        if held.first() is None:
            raise DuplicateEnrollment("the learner already holds an active enrollment")


_HOLD_IDENTITY = Upsert(
    lambda insert: (
        insert(ActiveIdentity)
        .values(placeholders(ActiveIdentity))
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(col(ActiveIdentity.key))
    )
)


async def release_identity(session: AsyncSession, enrollment_id: str) -> None:
    """An enrollment ended: its learner may enroll again."""
    await session.execute(
        delete(ActiveIdentity).where(col(ActiveIdentity.enrollment_id) == enrollment_id)
    )


def index_names(learner: Learner) -> None:
    """Keep the learner findable by name (see ``names.search_key``)."""
    learner.search_key = names.search_key(
        learner.first_name_ar,
        learner.last_name_ar,
        learner.first_name_latin,
        learner.last_name_latin,
    )


def new_learner(applicant: Applicant, *, association_id: str, recorded_by: str) -> Learner:
    pii = applicant.pii
    learner = Learner(
        id=new_id(),
        association_id=association_id,
        first_name_ar=pii.first_name_ar,
        last_name_ar=pii.last_name_ar,
        first_name_latin=pii.first_name_latin,
        last_name_latin=pii.last_name_latin,
        birth_date=pii.birth_date,
        birth_place_ar=pii.birth_place_ar,
        birth_place_fr=pii.birth_place_fr,
        sex=pii.sex,
        nationality=pii.nationality,
        massar_code=pii.massar_code,
        last_school_level=applicant.last_school_level,
        year_left_school=applicant.year_left_school,
        special_needs=applicant.special_needs,
        guardian_name=pii.guardian.name if applicant.has_guardian else None,
        guardian_phone=pii.guardian.phone if applicant.has_guardian else None,
        guardian_email=pii.guardian.email if applicant.has_guardian else None,
        guardian_language=pii.guardian.preferred_language,
        phone=pii.contact.phone if pii.contact else None,
        email=pii.contact.email if pii.contact else None,
        preferred_language=pii.contact.preferred_language if pii.contact else None,
        consent_data_use=pii.consent.data_use,
        consent_notifications=pii.consent.notifications,
        consent_partner_sharing=pii.consent.partner_sharing,
        consent_recorded_on=local_today(),
        consent_recorded_by=recorded_by,
    )
    index_names(learner)
    return learner


def identity_of(learner: Learner | Row[Any]) -> duplicates.Identity:
    """What the duplicate check compares of a learner (or of a candidate's row)."""
    assert learner.birth_date is not None
    return duplicates.Identity(
        first_name_ar=learner.first_name_ar or "",
        last_name_ar=learner.last_name_ar or "",
        first_name_latin=learner.first_name_latin or "",
        last_name_latin=learner.last_name_latin or "",
        birth_date=learner.birth_date,
        sex=str(learner.sex),
        guardian_phone=learner.guardian_phone,
        massar_code=learner.massar_code,
    )


def _reviewed(learner_id: ColumnElement[str]) -> Exists:
    """Whether the pair of ``learner_id`` and the candidate was already found."""
    return exists(
        select(DuplicateReview.learner_id).where(
            or_(
                (col(DuplicateReview.learner_id) == learner_id)
                & (col(DuplicateReview.earlier_learner_id) == col(Learner.id)),
                (col(DuplicateReview.earlier_learner_id) == learner_id)
                & (col(DuplicateReview.learner_id) == col(Learner.id)),
            )
        )
    )


# The association's other records the learner may be, as the check compares them: built
# once, so SQLAlchemy compiles it once (a Core row is also far cheaper than a Learner).
_CANDIDATES = select_columns(
    col(Learner.id),
    col(Learner.first_name_ar),
    col(Learner.last_name_ar),
    col(Learner.first_name_latin),
    col(Learner.last_name_latin),
    col(Learner.birth_date),
    col(Learner.sex),
    col(Learner.guardian_phone),
    col(Learner.massar_code),
).where(
    col(Learner.association_id) == bindparam("association_id"),
    col(Learner.id) != bindparam("learner_id"),
    col(Learner.sex) == bindparam("sex"),
    col(Learner.erased_at).is_(None),
    col(Learner.merged_into).is_(None),
    col(Learner.birth_date).between(bindparam("born_from"), bindparam("born_to")),
    ~_reviewed(bindparam("learner_id")),
)


# The pairs found, queued for staff: one INSERT however many (a common name finds many).
_QUEUE_REVIEW = insert(DuplicateReview)


async def find_possible_duplicates(
    session: AsyncSession, learner: Learner
) -> list[PossibleDuplicate]:
    """Score ``learner`` (just written) against the association's other records and queue
    each possible duplicate; the earlier records it may be, best first."""
    assert learner.birth_date is not None
    tolerance = timedelta(days=duplicates.BIRTH_TOLERANCE_DAYS)
    candidates = await session.execute(
        _CANDIDATES,
        {
            "association_id": learner.association_id,
            "learner_id": learner.id,
            "sex": learner.sex,
            "born_from": learner.birth_date - tolerance,
            "born_to": learner.birth_date + tolerance,
        },
    )
    spellings = duplicates.Spellings()
    me = spellings.record(identity_of(learner))
    found, reviews = [], []
    for other in candidates:
        score = duplicates.record_score(me, spellings.record(identity_of(other)))
        if score >= duplicates.THRESHOLD:
            found.append(PossibleDuplicate(other.id, score))
            reviews.append(
                {
                    "learner_id": learner.id,
                    "earlier_learner_id": other.id,
                    "association_id": learner.association_id,
                    "score": score,
                    "found_at": utcnow(),
                }
            )
    if reviews:
        await session.execute(_QUEUE_REVIEW, reviews)
    return sorted(found, key=lambda duplicate: -duplicate.score)


async def enrollment_for_change(
    session: AsyncSession, enrollment_id: str, scope: Principal
) -> Enrollment:
    """The enrollment, locked for a change; raises :class:`EnrollmentNotFound`, also when
    outside ``scope``."""
    enrollment = await session.get(Enrollment, enrollment_id, with_for_update=True)
    if enrollment is None:
        raise EnrollmentNotFound(enrollment_id)
    center = await session.get(Center, enrollment.center_id)
    if center is None or not sees_center(scope, center):
        raise EnrollmentNotFound(enrollment_id)
    return enrollment


_CENTER = [column.key for column in inspect(Center).columns]

# The center a learner asks for, and the school year's rule (``year`` NULL: no such year).
# Built once, so SQLAlchemy compiles it once.
_CENTER_AND_YEAR = (
    select_columns(
        *inspect(Center).columns,
        col(SchoolYear.code).label("year"),
        col(SchoolYear.starts_on),
        col(SchoolYear.min_age),
        col(SchoolYear.max_age),
    )
    .select_from(Center)
    .outerjoin(SchoolYear, col(SchoolYear.code) == bindparam("school_year"))
    .where(col(Center.id) == bindparam("center_id"))
)


_ENROLLMENT = [column.key for column in inspect(Enrollment).columns]

# One enrollment, where its center stands (to check the caller's scope), its place in line
# while it waits, and a row per transfer (oldest first; none: one row, its columns NULL). One
# statement, so that status, position and history come from one snapshot; built once, so
# SQLAlchemy compiles it once.
_ENROLLMENT_WITH_HISTORY = (
    select_columns(
        *inspect(Enrollment).columns,
        col(Center.region_code),
        col(Center.province_code),
        places.POSITION_IN_LINE,
        col(Transfer.id).label("transfer_id"),
        col(Transfer.from_center_id),
        col(Transfer.to_center_id),
        col(Transfer.transferred_on),
        col(Transfer.recorded_by),
    )
    .join(Center, col(Center.id) == col(Enrollment.center_id))
    .outerjoin(Transfer, col(Transfer.enrollment_id) == col(Enrollment.id))
    .where(col(Enrollment.id) == bindparam("enrollment_id"))
    .order_by(col(Transfer.transferred_on), col(Transfer.id))
)


class EnrollmentService:
    """Enrolls learners and follows their enrollments to the end.

    Every operation a caller asks for takes the caller's ``scope``: what lies outside it is
    treated exactly as what does not exist.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def enroll(
        self, *, scope: Principal, applicant: Applicant, placement: Placement
    ) -> EnrollmentView:
        """Enroll a learner, or put them on the waiting list when the pathway is full.

        Publishes learner-enrolled or learner-waitlisted (personal data in ``pii`` only).
        Raises :class:`CenterNotFound` for a center outside ``scope``, and a
        :class:`~fursa.enrollment.domain.Refused` naming the rule that refused the learner.
        """
        async with self.uow.begin() as tx:
            view = await self.enroll_in(tx, scope=scope, applicant=applicant, placement=placement)
        log.info("enrollment %s opened (%s)", view.enrollment.id, view.enrollment.status)
        return view

    async def enroll_in(
        self, tx: Transaction, *, scope: Principal, applicant: Applicant, placement: Placement
    ) -> EnrollmentView:
        """:meth:`enroll` inside a transaction the caller owns (a bulk import's)."""
        session = tx.session
        asked = (
            await session.execute(
                _CENTER_AND_YEAR,
                {"center_id": placement.center_id, "school_year": placement.school_year},
            )
        ).first()
        if asked is None:
            raise CenterNotFound(placement.center_id)
        center = Center(**{name: asked._mapping[name] for name in _CENTER})
        if not sees_center(scope, center):
            raise CenterNotFound(placement.center_id)
        if asked.year is None:
            raise UnknownSchoolYear(school_year=placement.school_year)
        bounds = AgeBounds(asked.min_age, asked.max_age)
        referral = None
        if placement.referral_id is not None:
            referral, bounds = await self._referral(session, placement.referral_id, center, bounds)
        # Whether the learner may come at all, before how to reach them.
        age = check_eligibility(
            birth_date=applicant.pii.birth_date,
            last_school_level=applicant.last_school_level,
            year_left_school=applicant.year_left_school,
            school_year_starts_on=asked.starts_on,
            bounds=bounds,
        )
        check_contact(
            birth_date=applicant.pii.birth_date,
            on=local_today(),
            guardian=applicant.has_guardian,
            own_phone=applicant.pii.contact is not None,
        )
        learner = new_learner(
            applicant, association_id=center.association_id, recorded_by=scope.subject
        )
        session.add(learner)
        await session.flush()  # the enrollment's foreign key needs the learner's row
        room = await places.lock(
            session, Intake(center.id, placement.pathway, placement.school_year)
        )
        takes_a_place = room.takes_one_more
        today = local_today()
        enrollment = Enrollment(
            id=new_id(),
            learner_id=learner.id,
            center_id=center.id,
            association_id=center.association_id,
            pathway=placement.pathway,
            school_year=placement.school_year,
            status=EnrollmentStatus.ENROLLED if takes_a_place else EnrollmentStatus.WAITLISTED,
            age_at_start=age,
            referral_id=placement.referral_id,
            queued_at=utcnow(),
            enrolled_on=today if takes_a_place else None,
            waitlisted_on=None if takes_a_place else today,
        )
        session.add(enrollment)
        await session.flush()
        await hold_identity(session, learner, enrollment.id)
        possible_duplicates = await find_possible_duplicates(session, learner)
        if referral is not None:
            await referral_enrolled(tx, referral, enrollment.id)
        position = None
        if takes_a_place:
            await tx.emit(
                events.learner_enrolled(enrollment, center, learner, promoted=False),
                subject=enrollment.id,
                sequence=enrollment.version,
            )
        else:
            position = room.waiting + 1
            await tx.emit(
                events.learner_waitlisted(enrollment, center, learner, position=position),
                subject=enrollment.id,
                sequence=enrollment.version,
            )
        audit.record(
            session,
            scope,
            f"enrollment.{enrollment.status}",
            entity="enrollment",
            entity_id=enrollment.id,
            learner_id=learner.id,
            details={"center_id": center.id, "pathway": placement.pathway, "position": position},
        )
        return EnrollmentView(enrollment, [], position, possible_duplicates)

    async def _referral(
        self, session: AsyncSession, referral_id: str, center: Center, bounds: AgeBounds
    ) -> tuple[Referral, AgeBounds]:
        """The referral a learner arrives through, and the age bounds its agreement sets."""
        referral = await session.get(Referral, referral_id, with_for_update=True)
        if referral is None or referral.association_id != center.association_id:
            raise UnknownReferral(referral_id=referral_id)
        if referral.enrollment_id is not None:
            raise ReferralAlreadyUsed(referral_id=referral_id)
        agreement = await session.get(PartnershipAgreement, referral.agreement_id)
        assert agreement is not None
        today = local_today()
        if today < agreement.starts_on or (agreement.ends_on and today > agreement.ends_on):
            raise AgreementNotInForce(agreement_id=agreement.id)
        return referral, AgeBounds(
            agreement.min_age if agreement.min_age is not None else bounds.min_age,
            agreement.max_age if agreement.max_age is not None else bounds.max_age,
        )

    async def _for_change(
        self, session: AsyncSession, enrollment_id: str, scope: Principal
    ) -> Enrollment:
        return await enrollment_for_change(session, enrollment_id, scope)

    async def transfer(
        self, enrollment_id: str, *, to_center_id: str, scope: Principal
    ) -> EnrollmentView:
        """Move an enrollment to another center the caller may see, keeping its history.

        Publishes learner-transferred; the place left behind goes to the next learner waiting
        there. Raises :class:`CenterFull` when the new center's pathway has no free place.
        """
        async with self.uow.begin() as tx:
            session = tx.session
            enrollment = await self._for_change(session, enrollment_id, scope)
            to_center = await session.get(Center, to_center_id)
            if to_center is None or not sees_center(scope, to_center):
                raise CenterNotFound(to_center_id)
            origin = Intake.of(enrollment)
            destination = Intake(to_center_id, enrollment.pathway, enrollment.school_year)
            # Both capacity rows, in one order: two opposite transfers never deadlock.
            rooms = {
                intake: await places.lock(session, intake)
                for intake in sorted({origin, destination}, key=lambda i: i.center_id)
            }
            if destination != origin and not rooms[destination].takes_one_more:
                raise CenterFull(center_id=to_center_id)
            from_center_id = domain.transfer(enrollment, to_center_id=to_center_id)
            enrollment.association_id = to_center.association_id
            session.add(enrollment)
            today = local_today()
            transfer = Transfer(
                id=new_id(),
                enrollment_id=enrollment.id,
                from_center_id=from_center_id,
                to_center_id=to_center_id,
                transferred_on=today,
                recorded_by=scope.subject,
            )
            session.add(transfer)
            await tx.emit(
                LearnerTransferred(
                    enrollment_id=enrollment.id,
                    learner_id=enrollment.learner_id,
                    association_id=to_center.association_id,
                    from_center_id=from_center_id,
                    to_center_id=to_center_id,
                    region_code=to_center.region_code,
                    province_code=to_center.province_code,
                    pathway=enrollment.pathway,
                    center_name=to_center.name,
                    center_name_ar=to_center.name_ar,
                    transferred_on=today,
                ),
                subject=enrollment.id,
                sequence=enrollment.version,
            )
            audit.record(
                session,
                scope,
                "enrollment.transferred",
                entity="enrollment",
                entity_id=enrollment.id,
                learner_id=enrollment.learner_id,
                details={"from_center_id": from_center_id, "to_center_id": to_center_id},
            )
            await places.fill_places(tx, origin)
        return await self.get(enrollment_id, scope=scope)

    async def withdraw(
        self,
        enrollment_id: str,
        *,
        reason: WithdrawalReason,
        scope: Principal,
        exit_outcome: ExitOutcome | None = None,
    ) -> EnrollmentView:
        """Close an active enrollment: the learner left, for ``reason``, to ``exit_outcome``
        when known (a reason that says where the learner went implies it).

        Publishes learner-withdrawn; a freed place goes to the next learner waiting.
        """
        async with self.uow.begin() as tx:
            session = tx.session
            enrollment = await self._for_change(session, enrollment_id, scope)
            freed = domain.withdraw(
                enrollment, reason=reason, on=local_today(), outcome=exit_outcome
            )
            assert enrollment.withdrawn_on is not None
            session.add(enrollment)
            await release_identity(session, enrollment.id)
            await tx.emit(
                LearnerWithdrawn(
                    enrollment_id=enrollment.id,
                    learner_id=enrollment.learner_id,
                    association_id=enrollment.association_id,
                    center_id=enrollment.center_id,
                    pathway=enrollment.pathway,
                    reason=reason,
                    withdrawn_on=enrollment.withdrawn_on,
                    exit_outcome=enrollment.exit_outcome,
                ),
                subject=enrollment.id,
                sequence=enrollment.version,
            )
            audit.record(
                session,
                scope,
                "enrollment.withdrawn",
                entity="enrollment",
                entity_id=enrollment.id,
                learner_id=enrollment.learner_id,
                details={"reason": reason, "exit_outcome": enrollment.exit_outcome},
            )
            if freed:
                await places.fill_places(tx, Intake.of(enrollment))
        return await self.get(enrollment_id, scope=scope)

    async def get(self, enrollment_id: str, *, scope: Principal) -> EnrollmentView:
        """One enrollment with its history; raises :class:`EnrollmentNotFound`, also when
        outside ``scope``."""
        async with self.uow.read() as session:
            rows = (
                await session.execute(_ENROLLMENT_WITH_HISTORY, {"enrollment_id": enrollment_id})
            ).all()
        if not rows or not scope.sees(
            association_id=rows[0].association_id,
            center_id=rows[0].center_id,
            region_code=rows[0].region_code,
            province_code=rows[0].province_code,
        ):
            raise EnrollmentNotFound(enrollment_id)
        first = rows[0]._mapping
        enrollment = Enrollment(**{name: first[name] for name in _ENROLLMENT})
        transfers = [
            Transfer(
                id=row.transfer_id,
                enrollment_id=enrollment_id,
                from_center_id=row.from_center_id,
                to_center_id=row.to_center_id,
                transferred_on=row.transferred_on,
                recorded_by=row.recorded_by,
            )
            for row in rows
            if row.transfer_id is not None
        ]
        return EnrollmentView(enrollment, transfers, first[places.POSITION_IN_LINE.name])

    async def list(
        self,
        *,
        scope: Principal,
        center_id: str | None = None,
        status: EnrollmentStatus | None = None,
        learner_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Sequence[Enrollment]:
        """Enrollments within ``scope``, oldest first, filtered."""
        query = (
            select(Enrollment)
            .join(Center, col(Center.id) == col(Enrollment.center_id))
            .where(visible_enrollments(scope))
        )
        if center_id is not None:
            query = query.where(col(Enrollment.center_id) == center_id)
        if status is not None:
            query = query.where(col(Enrollment.status) == status)
        if learner_id is not None:
            query = query.where(col(Enrollment.learner_id) == learner_id)
        query = query.order_by(col(Enrollment.queued_at), col(Enrollment.id))
        async with self.uow.read() as session:
            return (await session.exec(query.limit(limit).offset(offset))).all()

    async def summary(self, *, scope: Principal) -> Summary:
        """How many enrollments within ``scope`` are in each state."""
        query = (
            select(Enrollment.status, func.count())
            .join(Center, col(Center.id) == col(Enrollment.center_id))
            .where(visible_enrollments(scope))
            .group_by(col(Enrollment.status))
        )
        async with self.uow.read() as session:
            rows = await session.exec(query)
            counts = {EnrollmentStatus(status): count for status, count in rows.all()}
        return Summary.of(counts)


async def complete_enrollment(
    tx: Transaction, *, enrollment_id: str, completed_on: date
) -> Enrollment:
    """Close the enrollment whose training completed on ``completed_on``; its place goes to
    the next learner waiting.

    Runs inside the consumer's transaction. A repeated completion changes nothing. Raises
    :class:`EnrollmentNotFound`, or a :class:`~fursa.enrollment.domain.EnrollmentError` when
    the rules refuse the completion.
    """
    session = tx.session
    enrollment = await session.get(Enrollment, enrollment_id, with_for_update=True)
    if enrollment is None:
        raise EnrollmentNotFound(enrollment_id)
    if domain.complete(enrollment, on=completed_on):
        session.add(enrollment)
        await release_identity(session, enrollment.id)
        audit.record(
            session,
            None,
            "enrollment.completed",
            entity="enrollment",
            entity_id=enrollment.id,
            learner_id=enrollment.learner_id,
        )
        await places.fill_places(tx, Intake.of(enrollment))
        log.info("enrollment %s completed", enrollment_id)
    return enrollment
