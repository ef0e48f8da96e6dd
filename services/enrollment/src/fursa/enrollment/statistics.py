"""Statistics for the directorate: how many learners are waitlisted, enrolled, withdrawn and
completed, by center, pathway, sex, age band, nationality and school year, and on request by
the association that runs the center or by where those who left went (their outcome at exit:
a withdrawal back to school is a success, not a dropout).

Counts cover the caller's scope only (a directorate its province or region). Published
statistics suppress small cells: a count of 1 to 4 could single out a child.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from fursa.enrollment.domain import EnrollmentStatus, age_band
from fursa.enrollment.models import Center, Enrollment, Learner
from fursa.enrollment.service import visible_enrollments
from fursa.shared.auth import Principal
from fursa.shared.messaging.outbox import UnitOfWork
from fursa.shared.publication import publishable


class Dimension(StrEnum):
    CENTER = "center"
    ASSOCIATION = "association"
    PATHWAY = "pathway"
    SEX = "sex"
    AGE_BAND = "age_band"
    NATIONALITY = "nationality"
    SCHOOL_YEAR = "school_year"
    EXIT_OUTCOME = "exit_outcome"


DEFAULT_DIMENSIONS = tuple(
    d for d in Dimension if d not in (Dimension.ASSOCIATION, Dimension.EXIT_OUTCOME)
)
"""What the statistics are grouped by when the caller does not say."""

NOT_RECORDED = "not_recorded"
"""The exit outcome of an enrollment that has none: still open, or not recorded yet."""

STATUSES = tuple(EnrollmentStatus)


@dataclass(frozen=True)
class Row:
    """One cell group: the values of the chosen dimensions and a count per status."""

    key: dict[str, str]
    counts: dict[str, int | None]


async def statistics(
    uow: UnitOfWork,
    *,
    scope: Principal,
    by: Sequence[Dimension],
    school_year: str | None = None,
    publication: bool = False,
) -> list[Row]:
    """Counts per status, grouped by the dimensions ``by`` (in that order), within ``scope``."""
    columns = {
        Dimension.CENTER: col(Enrollment.center_id),
        Dimension.ASSOCIATION: col(Center.association_id),
        Dimension.PATHWAY: col(Enrollment.pathway),
        Dimension.SEX: col(Learner.sex),
        Dimension.AGE_BAND: col(Enrollment.age_at_start),
        Dimension.NATIONALITY: col(Learner.nationality),
        Dimension.SCHOOL_YEAR: col(Enrollment.school_year),
        Dimension.EXIT_OUTCOME: col(Enrollment.exit_outcome),
    }
    grouped: list[Any] = [columns[dimension] for dimension in by]
    query = (
        select(*grouped, col(Enrollment.status), func.count())
        .join(Center, col(Center.id) == col(Enrollment.center_id))
        .join(Learner, col(Learner.id) == col(Enrollment.learner_id))
        .where(visible_enrollments(scope))
        .group_by(*grouped, col(Enrollment.status))
    )
    if school_year is not None:
        query = query.where(col(Enrollment.school_year) == school_year)
    async with uow.read() as session:
        found = (await session.execute(query)).all()
    counts: Counter[tuple[tuple[str, ...], str]] = Counter()
    for row in found:
        values = [
            _value(dimension, value) for dimension, value in zip(by, row[: len(by)], strict=True)
        ]
        status, count = row[len(by)], row[len(by) + 1]
        counts[(tuple(values), str(status))] += int(count)
    keys = sorted({values for values, _status in counts})
    return [
        Row(
            key=dict(zip(by, values, strict=True)),
            counts={
                status: (publishable if publication else int)(counts[(values, status)])
                for status in STATUSES
            },
        )
        for values in keys
    ]


def _value(dimension: Dimension, value: Any) -> str:
    if dimension is Dimension.AGE_BAND:
        return age_band(int(value))
    if value is None:
        return NOT_RECORDED
    return str(value)
