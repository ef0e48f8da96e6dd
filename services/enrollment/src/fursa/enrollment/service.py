"""The enrollment service layer: each public operation is one unit of work.

State changes and the events they cause commit together (the transactional outbox): an
operation opens its transaction with ``uow.begin()`` and emits through it. Operations that
react to another service's event run inside the consumer's transaction instead, which the
kernel opens, so that the effect and the inbox record commit together.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, func, inspect
from sqlmodel import col, select

from fursa.enrollment import domain
from fursa.enrollment.demo import demo_association, demo_center
from fursa.enrollment.domain import EnrollmentStatus, Summary
from fursa.enrollment.models import Association, Center, Enrollment, Learner
from fursa.shared.auth import Principal
from fursa.shared.clock import local_today
from fursa.shared.contracts import LearnerEnrolled, LearnerPII, Pathway
from fursa.shared.messaging.outbox import Transaction, UnitOfWork

log = logging.getLogger(__name__)


class CenterNotFound(LookupError):  # noqa: N818 - reads as what happened
    def __init__(self, center_id: str) -> None:
        super().__init__(f"there is no center {center_id}")


class EnrollmentNotFound(LookupError):  # noqa: N818 - reads as what happened
    def __init__(self, enrollment_id: str) -> None:
        super().__init__(f"there is no enrollment {enrollment_id}")


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


class EnrollmentService:
    """Enrolls learners and answers questions about centers and enrollments.

    Every operation a caller asks for takes the caller's ``scope``: what lies outside it is
    treated exactly as what does not exist.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def enroll(
        self,
        *,
        scope: Principal,
        learner: LearnerPII,
        massar_code: str | None,
        center_id: str,
        pathway: Pathway,
        school_year: str,
    ) -> Enrollment:
        """Enroll a learner in a center and publish ``learner-enrolled``.

        The learner, the enrollment and the event commit together or not at all. The event
        carries the learner's personal data in its ``pii`` block only. Raises
        :class:`CenterNotFound` for an unknown center, or one outside ``scope``.
        """
        async with self.uow.begin() as tx:
            center = await tx.session.get(Center, center_id)
            if center is None or not sees_center(scope, center):
                raise CenterNotFound(center_id)
            person = Learner(
                id=new_id(),
                first_name_ar=learner.first_name_ar,
                last_name_ar=learner.last_name_ar,
                first_name_latin=learner.first_name_latin,
                last_name_latin=learner.last_name_latin,
                birth_date=learner.birth_date,
                sex=learner.sex,
                massar_code=massar_code,
                guardian_name=learner.guardian.name,
                guardian_phone=learner.guardian.phone,
                guardian_email=learner.guardian.email,
                guardian_language=learner.guardian.preferred_language,
                consent_data_use=learner.consent.data_use,
                consent_notifications=learner.consent.notifications,
            )
            tx.session.add(person)
            await tx.session.flush()  # the enrollment's foreign key needs the learner's row
            enrollment = Enrollment(
                id=new_id(),
                learner_id=person.id,
                center_id=center.id,
                association_id=center.association_id,
                pathway=pathway,
                school_year=school_year,
                status=EnrollmentStatus.ENROLLED,
                enrolled_on=local_today(),
            )
            tx.session.add(enrollment)
            await tx.emit(
                LearnerEnrolled(
                    enrollment_id=enrollment.id,
                    learner_id=person.id,
                    association_id=center.association_id,
                    center_id=center.id,
                    region_code=center.region_code,
                    province_code=center.province_code,
                    pathway=pathway,
                    school_year=school_year,
                    enrolled_on=enrollment.enrolled_on,
                    pii=learner,
                ),
                subject=enrollment.id,
                sequence=enrollment.version,
            )
        log.info("enrollment %s opened in center %s", enrollment.id, center.id)
        return enrollment

    async def get(self, enrollment_id: str, *, scope: Principal) -> Enrollment:
        """One enrollment; raises :class:`EnrollmentNotFound`, also when outside ``scope``."""
        query = (
            select(Enrollment)
            .join(Center, col(Center.id) == col(Enrollment.center_id))
            .where(col(Enrollment.id) == enrollment_id, visible_enrollments(scope))
        )
        async with self.uow.read() as session:
            enrollment = (await session.exec(query)).first()
        if enrollment is None:
            raise EnrollmentNotFound(enrollment_id)
        return enrollment

    async def summary(self, *, scope: Principal) -> Summary:
        """How many enrollments within ``scope`` are active, how many completed."""
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

    async def centers(self, *, scope: Principal) -> Sequence[Center]:
        """The centers within ``scope``, by name."""
        query = select(Center).where(visible_centers(scope)).order_by(col(Center.name))
        async with self.uow.read() as session:
            return (await session.exec(query)).all()

    async def seed_demo_center(self) -> bool:
        """Create the demo association and center when no center exists (development only).

        Returns whether it created them.
        """
        async with self.uow.begin() as tx:
            if (await tx.session.exec(select(Center).limit(1))).first() is not None:
                return False
            association = demo_association()
            if await tx.session.get(Association, association.id) is None:
                tx.session.add(association)
            tx.session.add(demo_center())
        log.info("seeded the demo center")
        return True


async def complete_enrollment(
    tx: Transaction, *, enrollment_id: str, completed_on: date
) -> Enrollment:
    """Close the enrollment whose training completed on ``completed_on``.

    Runs inside the consumer's transaction. A repeated completion changes nothing. Raises
    :class:`EnrollmentNotFound`, or a :class:`~fursa.enrollment.domain.EnrollmentError` when
    the rules refuse the completion.
    """
    enrollment = await tx.session.get(Enrollment, enrollment_id, with_for_update=True)
    if enrollment is None:
        raise EnrollmentNotFound(enrollment_id)
    if domain.complete(enrollment, on=completed_on):
        tx.session.add(enrollment)
        log.info("enrollment %s completed", enrollment_id)
    return enrollment
