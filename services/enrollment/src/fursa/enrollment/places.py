"""A center's places on a pathway in a school year (its *intake*): who holds one, who waits,
who is next.

Everything that takes or frees a place first locks the capacity row of the intake
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite runs one writer at a time), so two requests
never take the last place twice and a freed place goes to exactly one learner.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Label, ScalarSelect, and_, bindparam, case, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.enrollment import audit, domain, events
from fursa.enrollment.domain import EnrollmentStatus
from fursa.enrollment.models import Center, CenterCapacity, Enrollment, Learner
from fursa.shared.clock import local_today
from fursa.shared.contracts import Pathway
from fursa.shared.messaging.outbox import Transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Intake:
    """A center's intake on one pathway for one school year."""

    center_id: str
    pathway: Pathway
    school_year: str

    @classmethod
    def of(cls, enrollment: Enrollment) -> Intake:
        return cls(enrollment.center_id, enrollment.pathway, enrollment.school_year)

    def holding(self, status: EnrollmentStatus) -> list[ColumnElement[bool]]:
        return [
            col(Enrollment.center_id) == self.center_id,
            col(Enrollment.pathway) == self.pathway,
            col(Enrollment.school_year) == self.school_year,
            col(Enrollment.status) == status,
        ]


@dataclass(frozen=True)
class Room:
    """How an intake stands: its places (``None``: no limit set), who holds one, who waits
    (not counted when there is no limit)."""

    places: int | None
    enrolled: int
    waiting: int

    @property
    def takes_one_more(self) -> bool:
        """A newcomer takes a place only when one is free and nobody is waiting for it."""
        return domain.has_room(self.places, self.enrolled) and self.waiting == 0


# The intake's capacity row, locked; then who holds a place and who waits, in one count. Two
# statements, not one: on PostgreSQL a statement that waited for the lock reads the counts of
# the snapshot it started with, before the writer it waited for committed. Built once, so
# SQLAlchemy compiles each once.
_CAPACITY = (
    select(col(CenterCapacity.places))
    .where(
        col(CenterCapacity.center_id) == bindparam("center_id"),
        col(CenterCapacity.pathway) == bindparam("pathway"),
        col(CenterCapacity.school_year) == bindparam("school_year"),
    )
    .with_for_update()
)
_HOLDERS = select(
    func.count().filter(col(Enrollment.status) == EnrollmentStatus.ENROLLED),
    func.count().filter(col(Enrollment.status) == EnrollmentStatus.WAITLISTED),
).where(
    col(Enrollment.center_id) == bindparam("center_id"),
    col(Enrollment.pathway) == bindparam("pathway"),
    col(Enrollment.school_year) == bindparam("school_year"),
    col(Enrollment.status).in_([EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED]),
)


async def lock(session: AsyncSession, intake: Intake) -> Room:
    """Lock the intake's capacity for this transaction and say how it stands."""
    where = {
        "center_id": intake.center_id,
        "pathway": intake.pathway,
        "school_year": intake.school_year,
    }
    places = (await session.execute(_CAPACITY, where)).scalar()
    if places is None:
        # No limit set: nobody ever waited here, and counting the places taken is moot.
        return Room(places=None, enrolled=0, waiting=0)
    enrolled, waiting = (await session.execute(_HOLDERS, where)).one()
    return Room(places=places, enrolled=enrolled, waiting=waiting)


async def waiting_list(session: AsyncSession, intake: Intake) -> Sequence[Enrollment]:
    """The waiting list, first in line first, locked for promotion.

    The row locks make a promotion wait for a concurrent withdrawal from the list, after which
    PostgreSQL reads the row again and leaves it out: a learner who left is never promoted.
    """
    query = (
        select(Enrollment)
        .where(*intake.holding(EnrollmentStatus.WAITLISTED))
        .order_by(col(Enrollment.queued_at), col(Enrollment.id))
        .with_for_update()
    )
    return (await session.exec(query)).all()


def _position_in_line() -> ScalarSelect[int]:
    ahead = aliased(Enrollment)
    return (
        select(func.count())
        .select_from(ahead)
        .where(
            col(ahead.center_id) == col(Enrollment.center_id),
            col(ahead.pathway) == col(Enrollment.pathway),
            col(ahead.school_year) == col(Enrollment.school_year),
            col(ahead.status) == EnrollmentStatus.WAITLISTED,
            or_(
                col(ahead.queued_at) < col(Enrollment.queued_at),
                and_(
                    col(ahead.queued_at) == col(Enrollment.queued_at),
                    col(ahead.id) <= col(Enrollment.id),
                ),
            ),
        )
        .scalar_subquery()
    )


POSITION_IN_LINE: Label[int | None] = case(
    (col(Enrollment.status) == EnrollmentStatus.WAITLISTED, _position_in_line())
).label("position_in_line")
"""For a query on enrollments: where a waitlisted one stands in its line (1 = next), NULL for
the others (the line is not counted for them).

A column of the same statement, so that the status and the position read together come from
one snapshot even while promotions commit. Built once: SQLAlchemy compiles the statements
that hold it once, instead of adapting its correlated alias again on every call.
"""


async def fill_places(tx: Transaction, intake: Intake) -> list[Enrollment]:
    """Promote waitlisted learners, first in line first, into the places that are free.

    Each promotion publishes learner-enrolled for the same enrollment, marked as a promotion.
    Runs in the transaction that freed the place (a withdrawal, a transfer out, a completion,
    a larger capacity).
    """
    session = tx.session
    room = await lock(session, intake)
    if room.places is None or room.waiting == 0 or room.enrolled >= room.places:
        return []
    line = await waiting_list(session, intake)
    center = await session.get(Center, intake.center_id)
    assert center is not None
    promoted = []
    for enrollment in line[: room.places - room.enrolled]:
        learner = await session.get(Learner, enrollment.learner_id)
        assert learner is not None
        domain.promote(enrollment, on=local_today())
        session.add(enrollment)
        await tx.emit(
            events.learner_enrolled(enrollment, center, learner, promoted=True),
            subject=enrollment.id,
            sequence=enrollment.version,
        )
        audit.record(
            session,
            None,
            "enrollment.promoted",
            entity="enrollment",
            entity_id=enrollment.id,
            learner_id=learner.id,
        )
        promoted.append(enrollment)
        log.info("enrollment %s promoted from the waiting list", enrollment.id)
    return promoted
