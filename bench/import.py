"""Bulk import rate (`fursa import`) beside parsing and validating the same file, same run.

Generates a learners CSV of N distinct learners (Arabic and Latin names), starts a nats-server
and the enrollment service (SQLite, development mode: the demo center), then measures:

* baseline: reading the CSV and validating every row as the service does (no HTTP, no
  database) — the most an import could do on this machine;
* ``fursa import``: the same rows posted in batches, each row enrolled (learner, enrollment,
  identity keys, audit entry, outbox event) and committed;
* re-import of the same file: every row answered ``already_imported``.

Usage: python bench/import.py [--rows 10000] [--batch 200]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import tempfile
import time
from pathlib import Path

import httpx

from fursa.cli.learners_import import COLUMNS, import_learners, read_rows
from fursa.cli.platform import Platform
from fursa.enrollment.api.imports import enrollment_request
from fursa.shared.auth import dev_authorization
from fursa.shared.natsserver import free_port

NAMES = [
    ("سلمى", "بنعلي", "Salma", "Benali", "female"),
    ("يوسف", "العلوي", "Youssef", "El Alaoui", "male"),
    ("هدى", "أمزيان", "Houda", "Amziane", "female"),
    ("أيوب", "الإدريسي", "Ayoub", "El Idrissi", "male"),
    ("مريم", "بوزيد", "Meryem", "Bouzid", "female"),
]


def learners_csv(rows: int, center_id: str) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for n in range(rows):
        first_ar, last_ar, first, last, sex = NAMES[n % len(NAMES)]
        writer.writerow(
            {
                "first_name_ar": first_ar,
                "last_name_ar": last_ar,
                "first_name_latin": first,
                "last_name_latin": last,
                "birth_date": f"{2008 + n % 5}-0{1 + n % 9}-1{n % 10}",
                "sex": sex,
                "nationality": "MA",
                "last_school_level": "primary_6",
                "year_left_school": "2024",
                "guardian_name": f"{first} {last}",
                "guardian_phone": f"+2126{n:08d}",
                "guardian_language": "ar" if n % 3 else "fr",
                "consent_data_use": "true",
                "consent_notifications": "true",
                "center_id": center_id,
                "pathway": "vocational_training",
                "school_year": "2025/2026",
            }
        )
    return out.getvalue().encode()


def baseline(data: bytes) -> float:
    """Rows per second read and validated, without HTTP or a database."""
    started = time.perf_counter()
    rows, _problems = read_rows(data)
    for row in rows:
        enrollment_request({k: v for k, v in row.cells.items() if v})
    return len(rows) / (time.perf_counter() - started)


async def measure(url: str, rows: int, batch: int) -> None:
    headers = dev_authorization()
    async with httpx.AsyncClient(headers=headers) as http:
        center_id = (await http.get(f"{url}/centers")).json()[0]["id"]
    data = learners_csv(rows, center_id)
    parsed, _ = read_rows(data)
    base = baseline(data)
    first = await import_learners(parsed, url=url, headers=headers, batch_size=batch)
    again = await import_learners(parsed, url=url, headers=headers, batch_size=batch)
    assert first.counts["enrolled"] == rows, first.counts
    assert again.counts["already_imported"] == rows, again.counts
    print(f"{rows} rows ({len(data) / 1e6:.1f} MB), batches of {batch}, SQLite")
    print(f"baseline: read + validate        {base:8.0f} rows/s")
    print(f"fursa import (enrolled)          {first.rate:8.0f} rows/s  ({first.seconds:.1f} s)")
    print(f"re-import (already imported)     {again.rate:8.0f} rows/s  ({again.seconds:.1f} s)")
    print(f"ratio import / baseline          {first.rate / base:8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var:
        platform = Platform(var_dir=Path(var), ports={"enrollment": free_port()})
        platform.start(timeout_s=600)  # a loaded 2-core machine starts a service slowly
        try:
            asyncio.run(measure(platform.url("enrollment"), args.rows, args.batch))
        finally:
            platform.stop()


if __name__ == "__main__":
    main()
