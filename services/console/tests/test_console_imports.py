"""Reading a file of learners as the import page receives it: an XLSX workbook reads as the CSV
``fursa import`` reads, each sheet row one line, so a refused row is named by its row number."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook

from fursa.cli.learners_import import read_rows
from fursa.console.imports import template_csv, workbook_as_csv


def workbook(*rows: list[object]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    saved = io.BytesIO()
    book.save(saved)
    return saved.getvalue()


def test_a_workbook_reads_as_its_csv_with_the_sheets_row_numbers() -> None:
    header = template_csv().decode("utf-8-sig").strip().split(",")
    learner = dict.fromkeys(header, "x") | {
        "birth_date": datetime(2011, 5, 20),
        "year_left_school": 2023,
        "consent_data_use": True,
        "massar_code": None,
    }
    data = workbook(
        [*header, None, None],
        [learner[column] for column in header],
        [None],
        [learner[column] for column in header[:3]],
    )

    rows, misshapen = read_rows(workbook_as_csv(data))

    # An empty sheet row is skipped, and still counted: the lines are the sheet's rows.
    assert [row.line for row in rows] == [2, 4]
    assert misshapen == []
    cells = rows[0].cells
    assert cells["birth_date"] == "2011-05-20"
    assert cells["year_left_school"] == "2023"
    assert cells["consent_data_use"] == "true"
    assert cells["massar_code"] == ""
    # A short row is padded to the header's width: the service names its empty columns.
    assert rows[1].cells["sex"] == ""


def test_the_template_names_every_column_the_import_reads() -> None:
    rows, misshapen = read_rows(template_csv())

    assert rows == []
    assert misshapen == []
