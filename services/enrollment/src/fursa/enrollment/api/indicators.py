"""The reintegration and placement indicators over HTTP: JSON, CSV or XLSX."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from fursa.enrollment.api.common import Enrollments
from fursa.enrollment.indicator_exports import as_csv, as_xlsx, labeller
from fursa.enrollment.indicator_reports import indicator_report
from fursa.enrollment.indicators import Dimension, Moment
from fursa.shared import problems
from fursa.shared.auth import Staff
from fursa.shared.contracts.common import SchoolYear
from fursa.shared.problems import Language

router = APIRouter(tags=["statistics"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class MomentPublic(BaseModel):
    """A moment's figures (``null``: withheld, or a rate with nobody reached)."""

    reached: int | None
    reintegrated: int | None
    placed: int | None
    reintegration_rate: float | None
    placement_rate: float | None


class IndicatorRowPublic(BaseModel):
    """One group: its dimensions' values (ids and codes), their names in the language asked,
    its learners (``null``: withheld) and its figures at each moment."""

    group: dict[Dimension, str]
    names: dict[Dimension, str]
    learners: int | None
    moments: dict[Moment, MomentPublic]


class IndicatorsPublic(BaseModel):
    by: list[Dimension]
    publication: bool
    language: Language
    rows: list[IndicatorRowPublic]


@router.get(
    "/indicators",
    response_model=IndicatorsPublic,
    responses={
        200: {
            "description": "The rows as JSON, or a table with `format=csv` or `format=xlsx`.",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def get_indicators(
    request: Request,
    principal: Staff,
    service: Enrollments,
    by: Annotated[list[Dimension] | None, Query()] = None,
    school_year: SchoolYear | None = None,
    publication: bool = False,
    format: Literal["json", "csv", "xlsx"] = "json",
    lang: Language | None = None,
) -> IndicatorsPublic | Response:
    """Reintegration and placement of the learners within the caller's scope, 6 and 12
    months after their training, grouped ``by`` center, association, pathway, sex, age band,
    nationality and/or school year (by center when not given); docs/indicators.md defines
    each figure. ``publication=true`` withholds counts of 1 to 4 and the rates resting on
    them. Names and headings are in ``lang``, else in the language the caller accepts."""
    language: Language = lang or ("fr" if problems.language_of(request) == "fr" else "ar")
    report = await indicator_report(
        service.uow,
        scope=principal,
        by=list(dict.fromkeys(by or [Dimension.CENTER])),
        school_year=school_year,
        publication=publication,
    )
    if format == "csv":
        return Response(
            as_csv(report, language),
            media_type="text/csv; charset=utf-8",
            headers=_attachment(f"indicators-{language}.csv"),
        )
    if format == "xlsx":
        return Response(
            as_xlsx(report, language),
            media_type=XLSX,
            headers=_attachment(f"indicators-{language}.xlsx"),
        )
    label = labeller(report, language)
    return IndicatorsPublic(
        by=report.by,
        publication=report.publication,
        language=language,
        rows=[
            IndicatorRowPublic(
                group=row.values,
                names={d: label(d, value) for d, value in row.values.items()},
                learners=row.learners,
                moments={
                    m: MomentPublic.model_validate(figures, from_attributes=True)
                    for m, figures in row.moments.items()
                },
            )
            for row in report.rows
        ],
    )


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}
