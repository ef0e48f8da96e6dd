"""The directorate's dashboard: enrolments and waiting lists, unmet demand, capacity against
demand, diplomas, and reintegration and placement after the programme, by center, association,
pathway, sex, age band, nationality or school year, for one school year or all; each table drawn as
bars and exported as CSV or XLSX.

The services count and scope (a directorate its province or region, an officer their region)
and withhold small cells when the figures are for publication; the console only names what
they answer in the person's language, so a table, its chart and its exports say the same."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from babel import Locale
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from fursa.console.capacity import Intake
from fursa.console.charts import BarChart, bar_chart
from fursa.console.clients import Certification, Enrollment, Statistics
from fursa.console.i18n import LOCALES, Language
from fursa.console.learners import association_names, center_names, pathway_names
from fursa.console.pages import Pages, PagesDep
from fursa.console.services import EnrollmentClient, StatisticsClient
from fursa.console.signin import CurrentPerson
from fursa.console.tables import Cell, Table, as_csv, as_xlsx

router = APIRouter()

Dimension = Literal[
    "center", "association", "pathway", "sex", "age_band", "nationality", "school_year"
]
DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)
STATUSES = ("waitlisted", "enrolled", "withdrawn", "completed")
MOMENTS = ("6_months", "12_months")
FIGURES = ("reached", "reintegrated", "placed", "reintegration_rate", "placement_rate")
Gettext = Callable[[str], str]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Choice:
    """What the person asked to see: the grouping, the school year, published figures or not."""

    by: str
    school_year: str
    publication: bool

    def query(self) -> dict[str, str | bool | None]:
        return {"school_year": self.school_year or None, "publication": self.publication}


async def choice(
    by: Annotated[Dimension, Query()] = "center",
    school_year: Annotated[str, Query(pattern=r"^([0-9]{4}/[0-9]{4})?$")] = "",
    figures: Annotated[Literal["published", "exact"], Query()] = "published",
) -> Choice:
    return Choice(str(by), school_year, figures == "published")


class Names:
    """A group's value as the person reads it (a center's name, an association's, a pathway's,
    a country's)."""

    def __init__(
        self,
        gettext: Gettext,
        language: Language,
        centers: dict[str, str],
        associations: dict[str, str],
        pathways: dict[str, str],
    ) -> None:
        self._gettext = gettext
        self.language = language
        self._centers = centers
        self._associations = associations
        self._pathways = pathways

    def heading(self, dimension: str) -> str:
        _ = self._gettext
        return {
            "center": _("Center"),
            "association": _("Association"),
            "pathway": _("Pathway"),
            "sex": _("Sex"),
            "age_band": _("Age band"),
            "nationality": _("Nationality"),
            "school_year": _("School year"),
        }[dimension]

    def of(self, dimension: str, value: str) -> str:
        if dimension == "center":
            return self._centers.get(value, value)
        if dimension == "association":
            return self._associations.get(value, value)
        if dimension == "pathway":
            return self._pathways.get(value, value)
        if dimension == "sex":
            return self._gettext("Female") if value == "female" else self._gettext("Male")
        if dimension == "age_band":
            _ = self._gettext
            bands = {
                "under_12": _("Under 12"),
                "12_14": _("12 to 14"),
                "15_17": _("15 to 17"),
                "18_and_over": _("18 and over"),
            }
            return bands.get(value, value)
        if dimension == "nationality":
            return str(Locale.parse(LOCALES[self.language]).territories.get(value, value))
        return value


async def names_in(language: Language, pages: Pages, enrollment: EnrollmentClient) -> Names:
    """Centers, associations, pathways and groups named in ``language``."""
    centers, associations, pathways = await asyncio.gather(
        enrollment.centers(), enrollment.associations(), enrollment.pathways()
    )
    return Names(
        lambda message: pages.translate(language, message),
        language,
        center_names(centers, language),
        association_names(associations, language),
        pathway_names(pathways, language),
    )


async def enrolments_table(
    statistics: StatisticsClient, names: Names, chosen: Choice, _: Gettext
) -> Table:
    found = await statistics.statistics(by=chosen.by, **chosen.query())
    return Table(
        name="enrolments",
        title=_("Enrolments and waiting lists"),
        headings=[
            names.heading(chosen.by),
            _("On the waiting list"),
            _("Enrolled"),
            _("Withdrawn"),
            _("Completed"),
        ],
        rows=[
            [names.of(chosen.by, row["group"][chosen.by]), *(row[s] for s in STATUSES)]
            for row in found["rows"]
        ],
    )


async def demand_table(
    statistics: StatisticsClient, names: Names, chosen: Choice, _: Gettext
) -> Table:
    found = await statistics.demand(**chosen.query())
    return Table(
        name="demand",
        title=_("Unmet demand"),
        headings=[
            _("Center"),
            _("Pathway"),
            _("School year"),
            _("Places"),
            _("Enrolled"),
            _("On the waiting list"),
        ],
        rows=[
            [
                names.of("center", row["center_id"]),
                names.of("pathway", row["pathway"]),
                row["school_year"],
                row["places"] if row["places"] is not None else _("no limit"),
                row["enrolled"],
                row["waitlisted"],
            ]
            for row in found["centers"]
        ],
        labels=3,
    )


async def indicators_table(
    statistics: StatisticsClient, names: Names, chosen: Choice, _: Gettext
) -> Table:
    found = await statistics.indicators(by=chosen.by, lang=names.language, **chosen.query())
    headings = [names.heading(chosen.by), _("Learners")]
    for moment in MOMENTS:
        when = _("after 6 months") if moment == "6_months" else _("after 12 months")
        labels = (
            _("Followed up"),
            _("Back to school or training"),
            _("In work or apprenticeship"),
            _("Reintegration rate"),
            _("Placement rate"),
        )
        headings += [f"{label} {when}" for label in labels]
    rows: list[list[Any]] = []
    for row in found["rows"]:
        cells: list[Any] = [row["names"][chosen.by], row["learners"]]
        for moment in MOMENTS:
            figures = row["moments"][moment]
            cells += [percent(figures[f]) if f.endswith("_rate") else figures[f] for f in FIGURES]
        rows.append(cells)
    return Table("indicators", _("Back to school, training or work"), headings, rows)


async def capacity_table(
    statistics: StatisticsClient, names: Names, chosen: Choice, _: Gettext
) -> Table:
    found = await statistics.demand(**chosen.query())
    rows: list[list[Cell]] = []
    flagged = []
    for row in found["centers"]:
        intake = Intake(row["places"], row["enrolled"], row["waitlisted"])
        situation = [_("Over capacity")] * intake.over_capacity + [_("Waiting list")] * (
            intake.waiting
        )
        rows.append(
            [
                names.of("center", row["center_id"]),
                names.of("pathway", row["pathway"]),
                row["school_year"],
                row["places"] if row["places"] is not None else _("no limit"),
                row["enrolled"],
                row["waitlisted"],
                intake.unmet,
                intake.occupancy,
                " · ".join(situation),
            ]
        )
        flagged.append(intake.strained)
    return Table(
        name="capacity",
        title=_("Capacity planning"),
        headings=[
            _("Center"),
            _("Pathway"),
            _("School year"),
            _("Places"),
            _("Enrolled"),
            _("On the waiting list"),
            _("Unmet demand"),
            _("Occupancy (%)"),
            _("Situation"),
        ],
        rows=rows,
        labels=3,
        flagged=flagged,
    )


def percent(rate: float | None) -> float | str:
    """A rate as a percentage; unknown (nobody followed up) or withheld, an empty cell as in
    the service's own exports."""
    return "" if rate is None else round(rate * 100, 1)


TABLES = {
    "enrolments": enrolments_table,
    "demand": demand_table,
    "capacity": capacity_table,
    "indicators": indicators_table,
}


def charts(tables: dict[str, Table], _: Gettext, right_to_left: bool) -> dict[str, BarChart]:
    """Each table at a glance: who is enrolled, waiting and done; where the demand is unmet;
    who went back to school, training or work six months on."""
    enrolments, demand, indicators = tables["enrolments"], tables["demand"], tables["indicators"]
    capacity = tables["capacity"]
    return {
        "enrolments": bar_chart(
            enrolments.title,
            [_("Enrolled"), _("On the waiting list"), _("Completed")],
            [(str(row[0]), [row[2], row[1], row[4]]) for row in enrolments.rows],
            right_to_left=right_to_left,
        ),
        "demand": bar_chart(
            demand.title,
            [_("Enrolled"), _("On the waiting list")],
            [(f"{row[0]} · {row[1]}", [row[4], row[5]]) for row in demand.rows],
            right_to_left=right_to_left,
        ),
        "capacity": bar_chart(
            capacity.title,
            [_("Places"), _("Enrolled"), _("On the waiting list")],
            [(f"{row[0]} · {row[1]}", row[3:6]) for row in capacity.rows],
            right_to_left=right_to_left,
        ),
        "indicators": bar_chart(
            indicators.title,
            [
                _("Followed up"),
                _("Back to school or training"),
                _("In work or apprenticeship"),
            ],
            [(str(row[0]), row[2:5]) for row in indicators.rows],
            right_to_left=right_to_left,
        ),
    }


@router.get("/dashboard")
async def dashboard(
    request: Request,
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    statistics: Statistics,
    certification: Certification,
    chosen: Annotated[Choice, Depends(choice)],
) -> Response:
    def _(message: str) -> str:
        return pages.gettext(request, message)

    names = await names_in(pages.language(request), pages, enrollment)
    built, years, diplomas = await asyncio.gather(
        asyncio.gather(*(make(statistics, names, chosen, _) for make in TABLES.values())),
        enrollment.school_years(),
        certification.summary(),
    )
    tables = dict(zip(TABLES, built, strict=True))
    return pages.render(
        request,
        "dashboard.html",
        person=person,
        chosen=chosen,
        dimensions={d: names.heading(d) for d in DIMENSIONS},
        school_years=[year["code"] for year in years],
        tables=tables,
        charts=charts(tables, _, right_to_left=names.language == "ar"),
        diplomas=diplomas,
    )


@router.get("/dashboard/{table}.{format}")
async def export(
    request: Request,
    table: Annotated[Literal["enrolments", "demand", "capacity", "indicators"], Path()],
    format: Annotated[Literal["csv", "xlsx"], Path()],
    _person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    statistics: Statistics,
    chosen: Annotated[Choice, Depends(choice)],
) -> Response:
    """One table as a file, in the person's language; the indicators as the enrollment service
    exports them."""
    language = pages.language(request)
    if table == "indicators":
        content = await statistics.indicators_table(
            format, by=chosen.by, lang=language, **chosen.query()
        )
    else:
        names = await names_in(pages.language(request), pages, enrollment)
        built = await TABLES[table](
            statistics, names, chosen, lambda message: pages.gettext(request, message)
        )
        content = as_csv(built) if format == "csv" else as_xlsx(built, language)
    year = f"-{chosen.school_year.replace('/', '-')}" if chosen.school_year else ""
    filename = f"{table}{year}-{language}.{format}"
    return Response(
        content,
        media_type="text/csv; charset=utf-8" if format == "csv" else XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
