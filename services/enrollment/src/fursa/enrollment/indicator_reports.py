"""The reintegration and placement indicators read from the enrollment service's tables, within
the caller's scope, with the names of the centers and associations they count.

Every enrollment that took a place counts (waiting ones never entered the programme), in the
school year it was enrolled for (its cohort), whatever the date its follow-ups were recorded;
one that closed (withdrawn or completed) counts at exit too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from fursa.enrollment.domain import EnrollmentStatus, age_band
from fursa.enrollment.indicators import (
    FOLLOW_UPS,
    Dimension,
    IndicatorRow,
    LearnerSituations,
    Moment,
    indicator_rows,
    situation_at_exit,
)
from fursa.enrollment.models import Association, Center, Enrollment, FollowUpSituation, Learner
from fursa.enrollment.service import visible_enrollments
from fursa.shared.auth import Principal
from fursa.shared.contracts import ExitOutcome, OutcomeStatus
from fursa.shared.messaging.outbox import UnitOfWork

LEFT = frozenset({EnrollmentStatus.WITHDRAWN, EnrollmentStatus.COMPLETED})
"""The enrollments whose learner left the programme: counted at exit."""


@dataclass(frozen=True)
class Names:
    """A center's or an association's names: French, and Arabic when it has one."""

    fr: str
    ar: str | None

    def in_language(self, language: str) -> str:
        """The name in ``language`` (``ar`` or ``fr``); the French one while no Arabic is set."""
        return self.ar if language == "ar" and self.ar else self.fr


@dataclass(frozen=True)
class IndicatorReport:
    """The rows of the indicators, and the names of the centers and associations they name."""

    by: list[Dimension]
    publication: bool
    rows: list[IndicatorRow]
    centers: dict[str, Names]
    associations: dict[str, Names]


async def indicator_report(
    uow: UnitOfWork,
    *,
    scope: Principal,
    by: Sequence[Dimension],
    school_year: str | None = None,
    publication: bool = False,
) -> IndicatorReport:
    """The indicators of the enrollments within ``scope`` (of ``school_year`` when given),
    grouped ``by`` the dimensions in that order; ``publication`` withholds small cells."""
    condition = visible_enrollments(scope) & (col(Enrollment.status) != EnrollmentStatus.WAITLISTED)
    if school_year is not None:
        condition = condition & (col(Enrollment.school_year) == school_year)
    enrollments = (
        select(
            col(Enrollment.id),
            col(Enrollment.center_id),
            col(Center.association_id),
            col(Enrollment.pathway),
            col(Learner.sex),
            col(Enrollment.age_at_start),
            col(Learner.nationality),
            col(Enrollment.school_year),
            col(Enrollment.status),
            col(Enrollment.exit_outcome),
        )
        .join(Center, col(Center.id) == col(Enrollment.center_id))
        .join(Learner, col(Learner.id) == col(Enrollment.learner_id))
        .where(condition)
    )
    follow_ups = (
        select(
            col(FollowUpSituation.enrollment_id),
            col(FollowUpSituation.months_after),
            col(FollowUpSituation.status),
        )
        .join(Enrollment, col(Enrollment.id) == col(FollowUpSituation.enrollment_id))
        .join(Center, col(Center.id) == col(Enrollment.center_id))
        .where(condition, col(FollowUpSituation.months_after).in_(FOLLOW_UPS))
    )
    async with uow.read() as session:
        found = (await session.execute(enrollments)).all()
        situations: dict[str, dict[Moment, OutcomeStatus | None]] = defaultdict(dict)
        for row in found:
            if row.status in LEFT:
                outcome = None if row.exit_outcome is None else ExitOutcome(row.exit_outcome)
                situations[row.id][Moment.AT_EXIT] = situation_at_exit(outcome)
        for enrollment_id, months_after, status in (await session.execute(follow_ups)).all():
            situations[enrollment_id][FOLLOW_UPS[months_after]] = OutcomeStatus(status)
        centers = await _names(session, Center, {row.center_id for row in found})
        associations = await _names(session, Association, {row.association_id for row in found})
    learners = [
        LearnerSituations(
            values={
                Dimension.CENTER: row.center_id,
                Dimension.ASSOCIATION: row.association_id,
                Dimension.PATHWAY: str(row.pathway),
                Dimension.SEX: str(row.sex),
                Dimension.AGE_BAND: age_band(int(row.age_at_start)),
                Dimension.NATIONALITY: str(row.nationality),
                Dimension.SCHOOL_YEAR: str(row.school_year),
            },
            situations=situations.get(row.id, {}),
        )
        for row in found
    ]
    return IndicatorReport(
        by=list(by),
        publication=publication,
        rows=indicator_rows(learners, by, publication=publication),
        centers=centers,
        associations=associations,
    )


async def _names(
    session: Any, table: type[Center] | type[Association], ids: set[str]
) -> dict[str, Names]:
    if not ids:
        return {}
    query = select(col(table.id), col(table.name), col(table.name_ar)).where(col(table.id).in_(ids))
    return {
        row_id: Names(fr=name, ar=name_ar)
        for row_id, name, name_ar in (await session.execute(query)).all()
    }
