"""The directorate's yearly programme report: the PDF a directorate sends up to the academy and
to Entraide Nationale, in Arabic (right to left) or French.

A title page (the programme, the province or region, the school year, the day it was drawn
up), the year's key figures, where those who left went and the diplomas of each school year so
far, then the dashboard's tables by center, association, pathway, sex, age band and
nationality: enrolments and waiting lists, the capacity against the demand, training's
attendance, learners at risk and completions (by center, pathway and sex, as training counts
them), and on landscape pages the return to school, training or work 6 and 12 months on, with
bars. The figures are
always those for publication: the services withhold counts of 1 to 4 (``<5``) and the rates
resting on them, as on the dashboard; the console prints what they answer and computes none.
Scoped by the person's token, like the dashboard: the services count only what the person may
see.

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
from fursa.console.clients import Certification, Enrollment, Statistics, Training
from fursa.console.dashboard import (
    Choice,
    Gettext,
    Names,
    capacity_table,
    enrolments_table,
    indicators_table,
    names_in,
    percent,
)
from fursa.console.i18n import Language, local_date
from fursa.console.pages import PagesDep, Person
from fursa.console.services import (
    CertificationClient,
    EnrollmentClient,
    StatisticsClient,
    TrainingClient,
)
from fursa.console.signin import CurrentPerson
from fursa.console.tables import Cell, Table
from fursa.console.territories import province_name, region_name

# WeasyPrint logs each rendering step (and its stylesheets at import) at INFO: keep warnings.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

router = APIRouter()

BY = ("center", "association", "pathway", "sex", "age_band", "nationality")
# What training counts its attendance, at-risk learners and completions by.
TRAINING_BY = ("center", "pathway", "sex")
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
    certificates: Table
    tables: list[Table]
    attendance: list[Table]
    indicators: list[Table]  # wide: printed on landscape pages
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


async def certificates_table(
    enrollment: EnrollmentClient, certification: CertificationClient, school_year: str, _: Gettext
) -> Table:
    """The diplomas of each school year's cohort up to the report's, as certification counts
    them."""
    years = sorted(y["code"] for y in await enrollment.school_years() if y["code"] <= school_year)
    summaries = await asyncio.gather(*(certification.summary(year) for year in years))
    return Table(
        name="certificates",
        title=_("Diplomas per school year"),
        headings=[_("School year"), _("Certificates issued"), _("Still valid")],
        rows=[
            [year, summary["issued"], summary["active"]]
            for year, summary in zip(years, summaries, strict=True)
        ],
    )


async def attendance_table(
    training: TrainingClient, names: Names, by: str, school_year: str, _: Gettext
) -> Table:
    """Attendance, learners at risk of dropping out and completions, as training publishes
    them (counts of 1 to 4 withheld, and the rates that would give one back)."""
    found = await training.indicators(by=by, school_year=school_year, publication=True)
    rows: list[list[Cell]] = [
        [
            names.of(by, group["group"][by]) if group["group"][by] else _("Not recorded"),
            group["learners"],
            percent(group["attendance_rate"]),
            group["at_risk"],
            group["completed"],
            percent(group["completion_rate"]),
            group["withdrawn"],
        ]
        for group in found
    ]
    return Table(
        name="attendance",
        title=_("Attendance, learners at risk and completions"),
        headings=[
            names.heading(by),
            _("Learners"),
            _("Attendance rate (%)"),
            _("At risk of dropping out"),
            _("Completed"),
            _("Completion rate (%)"),
            _("Withdrawn"),
        ],
        rows=rows,
    )


async def year_report(
    person: Person,
    language: Language,
    names: Names,
    services: tuple[EnrollmentClient, StatisticsClient, TrainingClient, CertificationClient],
    school_year: str,
    _: Gettext,
) -> YearReport:
    enrollment, statistics, training, certification = services
    chosen = Choice("school_year", school_year, publication=True)
    by = [Choice(dimension, school_year, publication=True) for dimension in BY]
    per_year, exits, diplomas, certificates = await asyncio.gather(
        statistics.statistics(by="school_year", **chosen.query()),
        statistics.statistics(by="exit_outcome", **chosen.query()),
        certification.summary(school_year),
        certificates_table(enrollment, certification, school_year, _),
    )
    tables, attendance, indicators = await asyncio.gather(
        asyncio.gather(
            *(enrolments_table(statistics, names, each, _) for each in by),
            capacity_table(statistics, names, chosen, _),
        ),
        asyncio.gather(
            *(attendance_table(training, names, each, school_year, _) for each in TRAINING_BY)
        ),
        asyncio.gather(*(indicators_table(statistics, names, each, _) for each in by)),
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
        certificates=certificates,
        tables=list(tables),
        attendance=list(attendance),
        indicators=list(indicators),
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
    training: Training,
    certification: Certification,
    school_year: Annotated[str, Query(pattern=r"^[0-9]{4}/[0-9]{4}$")],
    asked: Annotated[Language | None, Query(alias="language")] = None,
) -> Response:
    """The report in the language asked for, else the person's."""
    language = asked or pages.language(request)

    def _(message: str) -> str:
        return pages.translate(language, message)

    names = await names_in(language, pages, enrollment)
    services = (enrollment, statistics, training, certification)
    built = await year_report(person, language, names, services, school_year, _)
    pdf = await asyncio.to_thread(render_pdf, pages.document(language, "report.html", report=built))
    filename = f"report-{school_year.replace('/', '-')}-{language}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
