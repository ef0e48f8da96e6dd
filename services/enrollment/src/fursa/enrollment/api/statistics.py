"""Statistics for the directorate over HTTP, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from fursa.enrollment.api.common import Enrollments
from fursa.enrollment.statistics import DEFAULT_DIMENSIONS, STATUSES, Dimension, statistics
from fursa.shared.auth import Staff
from fursa.shared.contracts.common import SchoolYear

router = APIRouter(tags=["statistics"])


class StatisticsRow(BaseModel):
    """One group: the dimensions' values, and a count per status (``null``: suppressed)."""

    group: dict[str, str]
    waitlisted: int | None
    enrolled: int | None
    withdrawn: int | None
    completed: int | None


class Statistics(BaseModel):
    by: list[Dimension]
    publication: bool
    rows: list[StatisticsRow]


@router.get(
    "/statistics",
    response_model=Statistics,
    responses={
        200: {
            "description": "The rows as JSON, or as CSV with `format=csv`.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def get_statistics(
    principal: Staff,
    service: Enrollments,
    by: Annotated[list[Dimension] | None, Query()] = None,
    school_year: SchoolYear | None = None,
    publication: bool = False,
    format: Literal["json", "csv"] = "json",
) -> Statistics | Response:
    """Waitlisted, enrolled, withdrawn and completed learners within the caller's scope,
    grouped ``by`` center, pathway, sex, age band, nationality and/or school year (all six
    by default), ``association`` (the one that runs the center) and ``exit_outcome`` (where
    those who left went; ``not_recorded`` for enrollments still open or left without one).
    ``publication=true`` suppresses counts of 1 to 4 (``null``, ``<5`` in CSV).
    """
    dimensions = list(dict.fromkeys(by or DEFAULT_DIMENSIONS))
    rows = await statistics(
        service.uow,
        scope=principal,
        by=dimensions,
        school_year=school_year,
        publication=publication,
    )
    if format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*dimensions, *STATUSES])
        for row in rows:
            writer.writerow(
                [
                    *(row.key[dimension] for dimension in dimensions),
                    *("<5" if row.counts[s] is None else row.counts[s] for s in STATUSES),
                ]
            )
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8")
    return Statistics(
        by=dimensions,
        publication=publication,
        rows=[StatisticsRow(group=dict(row.key), **row.counts) for row in rows],
    )
