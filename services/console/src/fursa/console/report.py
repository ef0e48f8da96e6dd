"""The directorate's yearly programme report: the PDF a directorate sends up to the academy and
to Entraide Nationale, in Arabic (right to left) or French.

A title page (the programme, the province or region, the school year, the day it was drawn
up), the year's key figures and where those who left went, then the dashboard's tables by
center, association, pathway, sex, age band and nationality and the capacity against the
demand, with bars. The figures are always those for publication: the services withhold counts
of 1 to 4 (``<5``), as on the dashboard. Scoped by the person's token, like the dashboard: the
services count only what the person may see.

WeasyPrint renders it (as the certification service's diplomas), shaping the Arabic with the
machine's Amiri font; nothing is fetched from the internet."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from fursa.console.charts import BarChart, bar_chart
from fursa.console.clients import Certification, Enrollment, Statistics
from fursa.console.dashboard import (
    Choice,
    Gettext,
    Names,
    capacity_table,
    enrolments_table,
    names_in,
)
from fursa.console.i18n import Language, local_date
from fursa.console.pages import PagesDep, Person
from fursa.console.services import CertificationClient, StatisticsClient
from fursa.console.signin import CurrentPerson
from fursa.console.tables import Cell, Table
from fursa.console.territories import province_name, region_name

# WeasyPrint logs each rendering step (and its stylesheets at import) at INFO: keep warnings.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

router = APIRouter()

BY = ("center", "association", "pathway", "sex", "age_band", "nationality")
EXITS = (
    "back_in_school",
    "vocational_training",
    "employed",
    "apprenticed",
    "none",
    "unknown",
)


@dataclass(frozen=True)
class KeyFigure:
    label: str
    value: Cell


@dataclass(frozen=True)
class YearReport:
    """Everything the report prints, in its language."""

    school_year: str
    area: str  # the province or region it covers
    drawn_up: str
    figures: list[KeyFigure]
    exits: Table
    tables: list[Table]
    charts: list[BarChart]


def area_of(person: Person, language: Language, _: Gettext) -> str:
    """The province or region the report covers, by name."""
    principal = person.principal
    if principal.province_code:
        return province_name(principal.province_code, language, _)
    if principal.region_code:
        return region_name(principal.region_code, language, _)
    return _("All regions")


def exit_names(_: Gettext) -> dict[str, str]:
    return {
        "back_in_school": _("Back to school"),
        "vocational_training": _("Vocational training"),
        "employed": _("In work"),
        "apprenticed": _("Apprenticeship"),
        "none": _("Neither school nor work"),
        "unknown": _("Not known"),
    }


def key_figures(year: list[dict[str, Any]], issued: int, _: Gettext) -> list[KeyFigure]:
    """The year's counts per status (none counted: zero) and the diplomas issued."""
    row = year[0] if year else {}
    return [
        KeyFigure(_("Enrolled"), row.get("enrolled", 0)),
        KeyFigure(_("Completed"), row.get("completed", 0)),
        KeyFigure(_("Withdrawn"), row.get("withdrawn", 0)),
        KeyFigure(_("On the waiting list"), row.get("waitlisted", 0)),
        KeyFigure(_("Certificates issued"), issued),
    ]


def exits_table(rows: list[dict[str, Any]], _: Gettext) -> Table:
    """Where those who left went: per exit outcome, the completed and the withdrawn."""
    names = exit_names(_)
    return Table(
        name="exits",
        title=_("Where learners went on leaving"),
        headings=[_("Situation on leaving"), _("Completed"), _("Withdrawn")],
        rows=[
            [names[row["group"]["exit_outcome"]], row["completed"], row["withdrawn"]]
            for row in rows
            if row["group"]["exit_outcome"] in EXITS
        ],
    )


async def year_report(
    person: Person,
    language: Language,
    names: Names,
    statistics: StatisticsClient,
    certification: CertificationClient,
    school_year: str,
    _: Gettext,
) -> YearReport:
    chosen = Choice("school_year", school_year, publication=True)
    per_year, exits, diplomas = await asyncio.gather(
        statistics.statistics(by="school_year", **chosen.query()),
        statistics.statistics(by="exit_outcome", **chosen.query()),
        certification.summary(),
    )
    tables = await asyncio.gather(
        *(
            enrolments_table(statistics, names, Choice(by, school_year, publication=True), _)
            for by in BY
        ),
        capacity_table(statistics, names, chosen, _),
    )
    right_to_left = language == "ar"
    by_pathway, capacity = tables[BY.index("pathway")], tables[-1]
    charts = [
        bar_chart(
            by_pathway.title,
            [_("Enrolled"), _("On the waiting list"), _("Completed")],
            [(str(row[0]), [row[2], row[1], row[4]]) for row in by_pathway.rows],
            right_to_left=right_to_left,
        ),
        bar_chart(
            capacity.title,
            [_("Places"), _("Enrolled"), _("On the waiting list")],
            [(f"{row[0]} · {row[1]}", row[3:6]) for row in capacity.rows],
            right_to_left=right_to_left,
        ),
    ]
    return YearReport(
        school_year=school_year,
        area=area_of(person, language, _),
        drawn_up=local_date(date.today(), language),
        figures=key_figures(per_year["rows"], diplomas["issued"], _),
        exits=exits_table(exits["rows"], _),
        tables=list(tables),
        charts=charts,
    )


def render_pdf(html: str) -> bytes:
    # Imported on first use: loading WeasyPrint (Pango, fonts) costs the console's start a
    # second, and most requests never print.
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


@router.get("/dashboard/report.pdf")
async def report(
    request: Request,
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    statistics: Statistics,
    certification: Certification,
    school_year: Annotated[str, Query(pattern=r"^[0-9]{4}/[0-9]{4}$")],
    asked: Annotated[Language | None, Query(alias="language")] = None,
) -> Response:
    """The report in the language asked for, else the person's."""
    language = asked or pages.language(request)

    def _(message: str) -> str:
        return pages.translate(language, message)

    names = await names_in(language, pages, enrollment)
    built = await year_report(person, language, names, statistics, certification, school_year, _)
    pdf = await asyncio.to_thread(render_pdf, pages.document(language, "report.html", report=built))
    filename = f"report-{school_year.replace('/', '-')}-{language}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
