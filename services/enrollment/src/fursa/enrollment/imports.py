"""Bulk import of learners: many enrollments in one transaction, each row on its own.

Each row runs in its own savepoint: a row the rules refuse is reported and rolled back alone,
the others commit. A row carries an idempotency key (a digest of its content, made by the
client): a row imported before is reported as such and changes nothing, so importing the same
file twice creates no duplicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select

from fursa.enrollment.domain import Refused
from fursa.enrollment.models import ImportedRow
from fursa.enrollment.service import Applicant, CenterNotFound, EnrollmentService, Placement
from fursa.shared.auth import Principal
from fursa.shared.clock import utcnow


@dataclass(frozen=True)
class ImportRow:
    line: int
    key: str
    applicant: Applicant
    placement: Placement


@dataclass(frozen=True)
class RowOutcome:
    """What became of a row: ``enrolled``, ``waitlisted``, ``already_imported`` or
    ``refused`` (with the rule), or ``invalid`` (with the fields at fault)."""

    line: int
    status: str
    enrollment_id: str | None = None
    rule: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    possible_duplicates: list[dict[str, Any]] = field(default_factory=list)


async def import_rows(
    enrollments: EnrollmentService, rows: Sequence[ImportRow], *, scope: Principal
) -> list[RowOutcome]:
    """Enroll each row's learner; commit every row the rules accept, in one transaction."""
    outcomes = []
    async with enrollments.uow.begin() as tx:
        session = tx.session
        keys = [row.key for row in rows]
        found = await session.exec(select(ImportedRow).where(col(ImportedRow.key).in_(keys)))
        done = {imported.key: imported.enrollment_id for imported in found.all()}
        for row in rows:
            if row.key in done:
                outcomes.append(RowOutcome(row.line, "already_imported", done[row.key]))
                continue
            try:
                async with session.begin_nested():
                    view = await enrollments.enroll_in(
                        tx, scope=scope, applicant=row.applicant, placement=row.placement
                    )
                    session.add(
                        ImportedRow(
                            key=row.key, enrollment_id=view.enrollment.id, imported_at=utcnow()
                        )
                    )
                    await session.flush()
                done[row.key] = view.enrollment.id
            except CenterNotFound as exc:
                outcomes.append(
                    RowOutcome(
                        row.line,
                        "refused",
                        rule="unknown_center",
                        params={"center_id": exc.center_id},
                    )
                )
            except Refused as exc:
                outcomes.append(RowOutcome(row.line, "refused", rule=exc.rule, params=exc.params))
            else:
                enrollment = view.enrollment
                warnings = [
                    {"learner_id": found.learner_id, "score": found.score}
                    for found in view.possible_duplicates
                ]
                outcomes.append(
                    RowOutcome(
                        row.line,
                        str(enrollment.status),
                        enrollment.id,
                        possible_duplicates=warnings,
                    )
                )
    return outcomes
