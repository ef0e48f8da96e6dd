"""The reintegration and placement indicators as a table a person reads: CSV or XLSX, with the
names of centers and associations (never their ids), every heading and value in Arabic or
French, and an Arabic sheet laid out right to left.

A withheld count reads ``<5`` (as in the enrolment statistics); a rate that is unknown or
withheld is an empty cell. Rates are fractions in CSV (``0.6667``) and percentages in XLSX.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from babel import Locale
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from fursa.enrollment.api.reference import PATHWAYS
from fursa.enrollment.indicator_reports import IndicatorReport
from fursa.enrollment.indicators import MOMENTS, Dimension, IndicatorRow, Moment
from fursa.shared.contracts import Pathway

WITHHELD = "<5"

DIMENSIONS: dict[Dimension, dict[str, str]] = {
    Dimension.CENTER: {"ar": "المركز", "fr": "Centre"},
    Dimension.ASSOCIATION: {"ar": "الجمعية", "fr": "Association"},
    Dimension.PATHWAY: {"ar": "المسار", "fr": "Parcours"},
    Dimension.SEX: {"ar": "الجنس", "fr": "Sexe"},
    Dimension.AGE_BAND: {"ar": "الفئة العمرية", "fr": "Tranche d'âge"},
    Dimension.NATIONALITY: {"ar": "الجنسية", "fr": "Nationalité"},
    Dimension.SCHOOL_YEAR: {"ar": "السنة الدراسية", "fr": "Année scolaire"},
}

LEARNERS = {"ar": "المتعلمون", "fr": "Apprenants"}

# Each moment's columns, with ``{when}`` the moment in the heading's language.
FIGURES: tuple[tuple[str, dict[str, str]], ...] = (
    ("reached", {"ar": "المتابَعون {when}", "fr": "Suivis {when}"}),
    ("reintegrated", {"ar": "المعاد إدماجهم {when}", "fr": "Réintégrés {when}"}),
    ("placed", {"ar": "المدمجون مهنياً {when}", "fr": "Insérés {when}"}),
    (
        "reintegration_rate",
        {"ar": "نسبة إعادة الإدماج {when}", "fr": "Taux de réintégration {when}"},
    ),
    ("placement_rate", {"ar": "نسبة الإدماج المهني {when}", "fr": "Taux d'insertion {when}"}),
)
RATES = frozenset({"reintegration_rate", "placement_rate"})

# At exit, those counted are all who left (not those a follow-up reached): a heading of its own.
LEFT = {"ar": "الخارجون من البرنامج", "fr": "Sortis du programme"}

MOMENT_NAMES: dict[Moment, dict[str, str]] = {
    Moment.AT_EXIT: {"ar": "عند الخروج", "fr": "à la sortie"},
    Moment.SIX_MONTHS: {"ar": "بعد 6 أشهر", "fr": "à 6 mois"},
    Moment.TWELVE_MONTHS: {"ar": "بعد 12 شهراً", "fr": "à 12 mois"},
}

SEXES = {"female": {"ar": "أنثى", "fr": "Féminin"}, "male": {"ar": "ذكر", "fr": "Masculin"}}

AGE_BANDS = {
    "under_12": {"ar": "أقل من 12 سنة", "fr": "Moins de 12 ans"},
    "12_14": {"ar": "12–14 سنة", "fr": "12–14 ans"},
    "15_17": {"ar": "15–17 سنة", "fr": "15–17 ans"},
    "18_and_over": {"ar": "18 سنة فأكثر", "fr": "18 ans et plus"},
}

SHEET_TITLE = {"ar": "مؤشرات الإدماج", "fr": "Indicateurs d'insertion"}


def heading(moment: Moment, figure: str, language: str) -> str:
    """The heading of a moment's figure in ``language``."""
    if moment is Moment.AT_EXIT and figure == "reached":
        return LEFT[language]
    label = dict(FIGURES)[figure][language]
    return label.format(when=MOMENT_NAMES[moment][language])


def headings(report: IndicatorReport, language: str) -> list[str]:
    """The table's column headings in ``language``."""
    return [
        *(DIMENSIONS[d][language] for d in report.by),
        LEARNERS[language],
        *(heading(moment, name, language) for moment in MOMENTS for name, _label in FIGURES),
    ]


def labeller(report: IndicatorReport, language: str) -> Callable[[Dimension, str], str]:
    countries = Locale.parse(language).territories
    pathway_column = 0 if language == "fr" else 1

    def label(dimension: Dimension, value: str) -> str:
        if dimension is Dimension.CENTER:
            return report.centers[value].in_language(language)
        if dimension is Dimension.ASSOCIATION:
            return report.associations[value].in_language(language)
        if dimension is Dimension.PATHWAY:
            return PATHWAYS[Pathway(value)][pathway_column]
        if dimension is Dimension.SEX:
            return SEXES[value][language]
        if dimension is Dimension.AGE_BAND:
            return AGE_BANDS[value][language]
        if dimension is Dimension.NATIONALITY:
            return str(countries.get(value, value))
        return value

    return label


Cell = str | int | float | None


def _cells(report: IndicatorReport, row: IndicatorRow, language: str) -> list[Cell]:
    label = labeller(report, language)
    cells: list[Cell] = [label(d, row.values[d]) for d in report.by]
    cells.append(WITHHELD if row.learners is None else row.learners)
    for moment in MOMENTS:
        figures = row.moments[moment]
        for name, _label in FIGURES:
            value = getattr(figures, name)
            cells.append(WITHHELD if value is None and name not in RATES else value)
    return cells


def as_csv(report: IndicatorReport, language: str) -> str:
    """The report as CSV (with a byte order mark, so that spreadsheets read Arabic right)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headings(report, language))
    for row in report.rows:
        writer.writerow(["" if cell is None else cell for cell in _cells(report, row, language)])
    return out.getvalue()


def as_xlsx(report: IndicatorReport, language: str) -> bytes:
    """The report as one XLSX sheet: headings bold and frozen, rates as percentages, laid out
    right to left in Arabic."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = SHEET_TITLE[language]
    sheet.sheet_view.rightToLeft = language == "ar"
    sheet.append(headings(report, language))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    rate_columns = {
        len(report.by) + 2 + i * len(FIGURES) + j
        for i in range(len(MOMENTS))
        for j, (name, _label) in enumerate(FIGURES)
        if name in RATES
    }
    for row in report.rows:
        sheet.append(_cells(report, row, language))
    for index in rate_columns:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.number_format = "0.0%"
    for index, cells in enumerate(sheet.iter_cols(), start=1):
        widest = max(len(str(cell.value or "")) for cell in cells)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(12, widest + 2), 40)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
