"""Association staff enrol learners from a file: CSV as ``fursa import`` reads it, or XLSX (its
first sheet, the same header row and columns; see docs/import.md). The console reads the file's
shape and posts its rows to the enrollment service, which validates and enrols each one as the
enrol form would; the answer page counts who was enrolled and lists every row that was not, by
its line, with the reasons in the person's language and the columns named as the form names
them."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from openpyxl import load_workbook
from starlette.datastructures import UploadFile

from fursa.cli.learners_import import COLUMNS, MAX_BATCH, MalformedFile, Row, batches, read_rows
from fursa.console.clients import Enrollment
from fursa.console.pages import CheckedForm, PagesDep
from fursa.console.signin import EnrollingPerson

router = APIRouter()

MAX_FILE_BYTES = 2_000_000
XLSX = ".xlsx"


def _cell(value: Any) -> str:
    """A spreadsheet cell as the CSV column's text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def workbook_as_csv(data: bytes) -> bytes:
    """The first sheet of an XLSX workbook as CSV text, each sheet row one line (so the lines a
    report names are the sheet's row numbers), the columns those the header row names."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise MalformedFile(1, "not an XLSX workbook") from None
    rows = [[_cell(value) for value in values] for values in workbook.worksheets[0].values]
    workbook.close()
    header = rows[0] if rows else []
    width = max((n + 1 for n, name in enumerate(header) if name), default=0)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    for row in rows:
        writer.writerow((row + [""] * width)[:width])
    return text.getvalue().encode()


class UnreadableFile(Exception):  # noqa: N818 - reads as what the file is
    """Nothing of the file was imported: ``reason`` says why (see imports.html)."""

    def __init__(self, reason: str, line: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


async def rows_of(upload: object) -> tuple[list[Row], list[int]]:
    """The uploaded file's rows, and the lines of those whose cells do not match the header
    row."""
    if not isinstance(upload, UploadFile):
        raise UnreadableFile("missing")
    data = await upload.read(MAX_FILE_BYTES + 1)
    if not data:
        raise UnreadableFile("missing")
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableFile("too_large")
    try:
        if (upload.filename or "").lower().endswith(XLSX):
            data = workbook_as_csv(data)
        rows, misshapen = read_rows(data)
    except MalformedFile as malformed:
        raise UnreadableFile("malformed", malformed.line) from None
    return rows, [problem.line for problem in misshapen]


def template_csv() -> bytes:
    """The header row of a learners file, for spreadsheet programs (UTF-8 with its mark)."""
    return (",".join(COLUMNS) + "\r\n").encode("utf-8-sig")


def _import_page(request: Request, pages: PagesDep, **context: Any) -> Response:
    return pages.render(
        request, "imports.html", max_megabytes=MAX_FILE_BYTES // 1_000_000, **context
    )


@router.get("/imports")
async def import_form(request: Request, person: EnrollingPerson, pages: PagesDep) -> Response:
    return _import_page(request, pages, person=person, unreadable=None)


@router.get("/imports/template.csv")
async def import_template(person: EnrollingPerson) -> Response:
    return Response(
        template_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="fursa-learners.csv"'},
    )


@router.post("/imports")
async def import_file(
    request: Request,
    person: EnrollingPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    form: CheckedForm,
) -> Response:
    try:
        rows, misshapen = await rows_of(form.get("file"))
    except UnreadableFile as unreadable:
        return _import_page(request, pages, status_code=422, person=person, unreadable=unreadable)
    outcomes = []
    for batch in batches(rows, MAX_BATCH):
        outcomes += await enrollment.import_learners(
            [{"line": row.line, "key": row.key, "cells": row.cells} for row in batch]
        )
    counts = Counter(outcome["status"] for outcome in outcomes)
    not_imported = [o for o in outcomes if o["status"] in ("invalid", "refused")]
    not_imported += [{"line": line, "status": "misshapen"} for line in misshapen]
    return pages.render(
        request,
        "import_result.html",
        person=person,
        counts=counts,
        not_imported=sorted(not_imported, key=lambda outcome: outcome["line"]),
    )
