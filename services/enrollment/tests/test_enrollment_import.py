"""Bulk import: the CSV file's shape (read by ``fursa import``), the rows' validation and
rules (by the service), idempotent re-import, and access."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from fursa.cli.learners_import import (
    COLUMNS,
    MalformedFile,
    Row,
    import_learners,
    read_rows,
)
from fursa.cli.main import app as cli
from fursa.enrollment.demo import DEMO_CENTER_ID
from fursa.shared.auth import dev_authorization

Caller = Callable[[str], dict[str, str]]
Desk = Any


def cells(n: int, **changes: str) -> dict[str, str]:
    """The cells of the n-th learner of a file: each row another learner."""
    row = {
        "first_name_ar": "مريم",
        "last_name_ar": "الإدريسي",
        "first_name_latin": "Meryem",
        "last_name_latin": "El Idrissi",
        "birth_date": f"2011-0{1 + n % 9}-1{n % 10}",
        "sex": "female",
        "nationality": "MA",
        "massar_code": "",
        "last_school_level": "primary_4",
        "year_left_school": "2022",
        "special_needs": "",
        "guardian_name": "Khadija El Idrissi",
        "guardian_phone": f"+2126{n:08d}",
        "guardian_email": "",
        "guardian_language": "ar",
        "consent_data_use": "true",
        "consent_notifications": "false",
        "center_id": DEMO_CENTER_ID,
        "pathway": "school_reintegration",
        "school_year": "2025/2026",
        "referral_id": "",
    }
    row.update(changes)
    return row


def csv_bytes(rows: list[dict[str, str]], header: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = header or list(COLUMNS)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    return out.getvalue().encode()


async def run_import(app: FastAPI, data: bytes, headers: dict[str, str] | None = None) -> Any:
    rows, problems = read_rows(data)
    assert problems == []
    return await import_learners(
        rows,
        url="http://service",
        headers=headers or dev_authorization(),
        batch_size=3,
        transport=httpx.ASGITransport(app),
    )


# --- the file ------------------------------------------------------------------------------


def test_rows_are_read_with_their_line_numbers_and_arabic_intact() -> None:
    data = b"\xef\xbb\xbf" + csv_bytes([cells(1), cells(2, special_needs="Needs\na ramp")])
    data += csv_bytes([cells(3)])[len(csv_bytes([])) :] + b"\n"

    rows, problems = read_rows(data)

    assert problems == []
    assert [row.line for row in rows] == [2, 3, 5]
    assert rows[0].cells["last_name_ar"] == "الإدريسي"
    assert rows[1].cells["special_needs"] == "Needs\na ramp"


def test_the_same_cells_make_the_same_key() -> None:
    assert Row(2, cells(1)).key == Row(9, cells(1)).key != Row(2, cells(2)).key


def test_a_row_with_too_many_or_too_few_cells_is_reported_by_line() -> None:
    data = (
        csv_bytes([cells(1)]) + b"only,three,cells\n" + csv_bytes([cells(2)])[len(csv_bytes([])) :]
    )

    rows, problems = read_rows(data)

    assert [row.line for row in rows] == [2, 4]
    [problem] = problems
    assert (problem.line, problem.status) == (3, "invalid")
    assert problem.reason == f"3 cells where the header has {len(COLUMNS)}"


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (b"", 1, "the file is empty"),
        (b"first_name_ar,nom\n", 1, "missing columns: last_name_ar"),
        (
            csv_bytes([], [*COLUMNS, "nickname"]),
            1,
            "unknown columns: nickname",
        ),
        (csv_bytes([cells(1)]) + "سلمى".encode("cp1256") + b"\n", 3, "not UTF-8"),
        (csv_bytes([cells(1)]) + b'"unterminated,' + b"x" * 10, 3, "broken quoting"),
    ],
)
def test_a_malformed_file_is_refused_naming_the_line(data: bytes, line: int, reason: str) -> None:
    with pytest.raises(MalformedFile) as caught:
        read_rows(data)

    assert caught.value.line == line
    assert caught.value.reason.startswith(reason)


# --- the service ---------------------------------------------------------------------------


async def test_valid_rows_commit_and_invalid_ones_are_reported_by_line(
    app: FastAPI, desk: Desk
) -> None:
    rows = [
        cells(1),
        cells(2, birth_date="2011-02-30"),
        cells(3, consent_data_use="maybe", guardian_phone="0612"),
        cells(4),
        cells(5, birth_date="2016-01-01"),
        cells(6, center_id="00000000-0000-4000-8000-000000000000"),
        cells(1, guardian_name="Khadija Idrissi"),  # learner 1 again: a duplicate
    ]

    report = await run_import(app, csv_bytes(rows))

    assert report.counts == {"enrolled": 2, "invalid": 2, "refused": 3}
    problems = {problem.line: problem for problem in report.problems}
    assert sorted(problems) == [3, 4, 6, 7, 8]
    assert problems[3].reason.startswith("birth_date: ")
    assert "consent_data_use" in problems[4].reason
    assert "guardian_phone" in problems[4].reason
    assert problems[6].reason.startswith("age_below_minimum")
    assert problems[7].reason.startswith("unknown_center")
    assert problems[8].reason == "duplicate_enrollment"
    summary = (await desk.client.get("/enrollments/summary")).json()
    assert summary["enrolled"] == 2
    assert len(await desk.published("learner-enrolled")) == 2


async def test_importing_the_same_file_twice_creates_no_duplicates(
    app: FastAPI, desk: Desk
) -> None:
    data = csv_bytes([cells(n) for n in range(1, 8)])

    first = await run_import(app, data)
    second = await run_import(app, data)

    assert first.counts == {"enrolled": 7}
    assert second.counts == {"already_imported": 7}
    assert second.problems == []
    assert (await desk.client.get("/enrollments/summary")).json()["total"] == 7
    assert len(await desk.published()) == 7


async def test_a_full_center_waitlists_imported_learners(app: FastAPI, desk: Desk) -> None:
    await desk.set_capacity(DEMO_CENTER_ID, 2, pathway="school_reintegration")

    report = await run_import(app, csv_bytes([cells(n) for n in range(1, 5)]))

    assert report.counts == {"enrolled": 2, "waitlisted": 2}


async def test_staff_import_only_into_their_own_centers(
    app: FastAPI, caller: Caller, centers: dict[str, str]
) -> None:
    rows = [cells(1), cells(2, center_id=centers["B"])]

    report = await run_import(app, csv_bytes(rows), headers=caller("staff_a"))
    educator = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://service")
    async with educator:
        forbidden = await educator.post(
            "/imports/learners",
            json={"rows": [{"line": 2, "key": "0" * 64, "cells": cells(3)}]},
            headers=caller("educator_a1"),
        )

    assert report.counts == {"enrolled": 1, "refused": 1}
    assert report.problems[0].reason.startswith("unknown_center")
    assert forbidden.status_code == 403


async def test_a_batch_over_the_limit_or_of_the_wrong_shape_is_refused(
    client: httpx.AsyncClient,
) -> None:
    row = {"line": 2, "key": "a" * 64, "cells": cells(1)}

    too_many = await client.post("/imports/learners", json={"rows": [row] * 501})
    wrong_key = await client.post("/imports/learners", json={"rows": [{**row, "key": "x"}]})
    unknown = await client.post("/imports/learners", json={"rows": [row], "dry_run": True})
    not_cells = await client.post("/imports/learners", json={"rows": [{**row, "cells": [1, 2]}]})

    assert [r.status_code for r in (too_many, wrong_key, unknown, not_cells)] == [422] * 4
    assert too_many.json()["errors"][0] == {
        "field": "rows",
        "rule": "too_long",
        "message": "List should have at most 500 items after validation, not 501",
    }
    assert wrong_key.json()["errors"][0]["field"] == "rows.0.key"
    assert unknown.json()["errors"][0]["rule"] == "extra_forbidden"
    assert not_cells.json()["errors"][0]["field"] == "rows.0.cells"


async def test_a_row_with_an_unknown_column_is_invalid(client: httpx.AsyncClient) -> None:
    row = {"line": 2, "key": "b" * 64, "cells": {**cells(1), "nickname": "Mimi"}}

    response = await client.post("/imports/learners", json={"rows": [row]})

    assert response.status_code == 200
    [result] = response.json()["rows"]
    assert result["status"] == "invalid"
    assert result["errors"][0]["field"] == "nickname"
    assert result["errors"][0]["rule"] == "extra_forbidden"


async def test_a_refused_row_says_its_rule_in_the_callers_language(
    client: httpx.AsyncClient,
) -> None:
    row = {"line": 2, "key": "c" * 64, "cells": cells(1, birth_date="2016-01-01")}

    response = await client.post(
        "/imports/learners", json={"rows": [row]}, headers={"Accept-Language": "fr"}
    )

    [result] = response.json()["rows"]
    assert result["rule"] == "age_below_minimum"
    assert result["message"].startswith("Âge ")
    assert "le minimum est" in result["message"]


def test_the_command_refuses_a_malformed_file_naming_the_line(tmp_path: Path) -> None:
    broken = tmp_path / "learners.csv"
    broken.write_bytes(csv_bytes([cells(1)]) + "سلمى".encode("cp1256") + b"\n")
    header_only = tmp_path / "unknown.csv"
    header_only.write_bytes(csv_bytes([], [*COLUMNS, "nickname"]))

    encoding = CliRunner().invoke(cli, ["import", str(broken)])
    columns = CliRunner().invoke(cli, ["import", str(header_only)])

    assert encoding.exit_code == columns.exit_code == 2
    assert "line 3: not UTF-8" in encoding.output
    assert "unknown columns: nickname" in columns.output
