"""The dashboard's tables as a person reads them, on the page and exported: headings and values
in their language, centers and pathways by name (never an id), a withheld count as ``<5``
exactly as the services write it. CSV for any tool, XLSX laid out right to left in Arabic."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

WITHHELD = "<5"
Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    """A titled table: the first ``labels`` columns name the group, the others are figures
    (``None``: withheld for publication); ``flagged`` marks the rows that call for attention."""

    name: str  # the export's file name
    title: str
    headings: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    labels: int = 1
    flagged: list[bool] = field(default_factory=list)


def shown(cell: Cell) -> str | int | float:
    return WITHHELD if cell is None else cell


def as_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.headings)
    writer.writerows([shown(cell) for cell in row] for row in table.rows)
    # With a byte order mark, spreadsheet programs read the Arabic as UTF-8.
    return ("\ufeff" + out.getvalue()).encode()


def as_xlsx(table: Table, language: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = table.title[:31]
    sheet.sheet_view.rightToLeft = language == "ar"
    sheet.append(table.headings)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in table.rows:
        sheet.append([shown(cell) for cell in row])
    for index, heading in enumerate(table.headings, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, min(40, len(heading)))
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
