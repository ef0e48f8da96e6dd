"""``fursa import learners.csv``: enroll the learners of a CSV file through the enrollment API.

The file is UTF-8 (with or without a byte-order mark), one learner a row, the columns of
``docs/import.md``. The command checks the file's shape (encoding, header, cells per row)
itself, then posts the rows in batches to ``POST /imports/learners``, which validates each
row and answers row by row. Each row carries an idempotency key — the digest of its cells —
so importing the same file again (or retrying a batch after a network error) creates nothing
twice. Invalid and refused rows are reported by line number with the reason; valid rows are
committed whatever the others do.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

COLUMNS = (
    "first_name_ar",
    "last_name_ar",
    "first_name_latin",
    "last_name_latin",
    "birth_date",
    "sex",
    "nationality",
    "massar_code",
    "last_school_level",
    "year_left_school",
    "special_needs",
    "guardian_name",
    "guardian_phone",
    "guardian_email",
    "guardian_language",
    "learner_phone",
    "learner_email",
    "learner_language",
    "consent_data_use",
    "consent_notifications",
    "consent_partner_sharing",
    "center_id",
    "pathway",
    "school_year",
    "referral_id",
)
OPTIONAL = frozenset(
    {"nationality", "massar_code", "year_left_school", "special_needs", "guardian_email"}
    | {"referral_id", "consent_partner_sharing"}
    # A guardian is optional from 18, when the learner gives their own phone.
    | {"guardian_name", "guardian_phone", "guardian_language"}
    | {"learner_phone", "learner_email", "learner_language"}
)
REQUIRED = tuple(column for column in COLUMNS if column not in OPTIONAL)
IMPORTED = frozenset({"enrolled", "waitlisted", "already_imported"})
MAX_BATCH = 500


class MalformedFile(ValueError):  # noqa: N818 - reads as what the file is
    """The file cannot be read as a learners CSV at all (encoding, header, quoting)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class Row:
    line: int
    cells: dict[str, str]

    @property
    def key(self) -> str:
        """The row's idempotency key: the same cells, the same key."""
        canonical = json.dumps(self.cells, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class RowProblem:
    line: int
    status: str
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[RowProblem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def imported(self) -> int:
        return sum(self.counts[status] for status in IMPORTED)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def read_rows(data: bytes) -> tuple[list[Row], list[RowProblem]]:
    """The file's rows, and the rows whose shape is wrong (too many or too few cells).

    Raises :class:`MalformedFile` for what makes the whole file unreadable: bytes that are not
    UTF-8, a header without the required columns or with unknown ones, broken quoting.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise MalformedFile(line, "not UTF-8 text (save the file as CSV UTF-8)") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip() for name in next(reader, [])]
    except csv.Error as exc:
        raise MalformedFile(1, f"unreadable header: {exc}") from None
    if not header:
        raise MalformedFile(1, "the file is empty: a header row is required")
    missing = [column for column in REQUIRED if column not in header]
    unknown = [column for column in header if column not in COLUMNS]
    repeated = [column for column, n in Counter(header).items() if n > 1]
    if missing or unknown or repeated:
        reasons = []
        if missing:
            reasons.append(f"missing columns: {', '.join(missing)}")
        if unknown:
            reasons.append(f"unknown columns: {', '.join(unknown)}")
        if repeated:
            reasons.append(f"repeated columns: {', '.join(repeated)}")
        raise MalformedFile(1, "; ".join(reasons))
    rows: list[Row] = []
    problems: list[RowProblem] = []
    start = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise MalformedFile(start, f"broken quoting: {exc}") from None
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            problems.append(
                RowProblem(
                    line,
                    "invalid",
                    f"{len(record)} cells where the header has {len(header)}",
                )
            )
            continue
        rows.append(Row(line, dict(zip(header, record, strict=True))))
    return rows, problems


def batches(rows: list[Row], size: int) -> Iterator[list[Row]]:
    for first in range(0, len(rows), size):
        yield rows[first : first + size]


def _reason(result: dict[str, Any]) -> str:
    if result["status"] == "invalid":
        return "; ".join(
            f"{error['field']}: {error['message']} ({error['rule']})" for error in result["errors"]
        )
    params = ", ".join(f"{name}={value}" for name, value in result.get("params", {}).items())
    return f"{result['rule']}" + (f" ({params})" if params else "")


class ImportFailed(RuntimeError):  # noqa: N818 - reads as what happened
    """The service refused a whole batch (authentication, rights, size)."""


async def _post(http: httpx.AsyncClient, url: str, batch: list[Row]) -> list[dict[str, Any]]:
    body = {"rows": [{"line": row.line, "key": row.key, "cells": row.cells} for row in batch]}
    for attempt in range(3):
        try:
            response = await http.post(f"{url}/imports/learners", json=body)
        except httpx.TransportError:
            # Safe to send again: each row's key makes a repeat a no-op.
            if attempt == 2:
                raise
            await asyncio.sleep(0.5 * (attempt + 1))
            continue
        if response.status_code != 200:
            try:
                problem = response.json()
                detail = problem.get("title", "") + (
                    f" — {problem['detail']}" if problem.get("detail") else ""
                )
            except ValueError:
                detail = response.text[:200]
            raise ImportFailed(f"HTTP {response.status_code}: {detail}")
        results: list[dict[str, Any]] = response.json()["rows"]
        return results
    raise AssertionError("unreachable")


async def import_learners(
    rows: list[Row],
    *,
    url: str,
    headers: dict[str, str],
    batch_size: int = 200,
    concurrency: int = 2,
    on_progress: Callable[[int], None] | None = None,
    report: ImportReport | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ImportReport:
    """Post ``rows`` in batches (``concurrency`` at a time); returns what became of them.

    ``transport`` replaces the network (tests drive the service in-process).
    """
    report = report or ImportReport()
    report.rows += len(rows)
    started = time.perf_counter()
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=120, headers=headers, transport=transport) as http:

        async def send(batch: list[Row]) -> None:
            async with limit:
                results = await _post(http, url, batch)
            for result in results:
                report.counts[result["status"]] += 1
                if result["status"] not in IMPORTED:
                    report.problems.append(
                        RowProblem(result["line"], result["status"], _reason(result))
                    )
            if on_progress is not None:
                on_progress(len(batch))

        await asyncio.gather(*(send(batch) for batch in batches(rows, batch_size)))
    report.seconds += time.perf_counter() - started
    report.problems.sort(key=lambda problem: problem.line)
    return report


def read_file(path: Path) -> tuple[list[Row], list[RowProblem]]:
    return read_rows(path.read_bytes())
