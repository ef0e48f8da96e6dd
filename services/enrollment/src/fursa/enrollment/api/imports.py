"""Bulk import over HTTP: ``fursa import`` posts the rows of a CSV file in batches.

Each row carries its line number (for the report), an idempotency key and its cells as text;
the answer says, row by row, what became of it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fursa.enrollment.api.common import (
    ConsentIn,
    Enrollments,
    GuardianIn,
    LearnerIn,
    Writer,
    applicant_of,
)
from fursa.enrollment.imports import ImportRow, RowOutcome, import_rows
from fursa.enrollment.service import Placement
from fursa.shared.contracts import Pathway
from fursa.shared.contracts.common import SchoolYear, Uuid
from fursa.shared.problems import FIELD_RULES, language_of

router = APIRouter(tags=["imports"])

MAX_ROWS = 500
Cell = Annotated[str, Field(max_length=1000)]


class LearnerRow(BaseModel):
    """One row of the learners CSV (see docs/import.md), its cells already named."""

    model_config = ConfigDict(extra="forbid")

    first_name_ar: str
    last_name_ar: str
    first_name_latin: str
    last_name_latin: str
    birth_date: str
    sex: str
    nationality: str = "MA"
    massar_code: str | None = None
    last_school_level: str
    year_left_school: str | None = None
    special_needs: str | None = None
    guardian_name: str
    guardian_phone: str
    guardian_email: str | None = None
    guardian_language: str
    consent_data_use: bool
    consent_notifications: bool
    center_id: Uuid
    pathway: Pathway
    school_year: SchoolYear
    referral_id: Uuid | None = None

    def to_import(self, line: int, key: str) -> ImportRow:
        learner = LearnerIn.model_validate(
            self.model_dump(
                include={
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
                },
                exclude_none=True,
            )
        )
        guardian = GuardianIn.model_validate(
            {
                "name": self.guardian_name,
                "phone": self.guardian_phone,
                "email": self.guardian_email,
                "preferred_language": self.guardian_language,
            }
        )
        consent = ConsentIn(
            data_use=self.consent_data_use, notifications=self.consent_notifications
        )
        return ImportRow(
            line=line,
            key=key,
            applicant=applicant_of(learner, guardian, consent),
            placement=Placement(
                center_id=self.center_id,
                pathway=self.pathway,
                school_year=self.school_year,
                referral_id=self.referral_id,
            ),
        )


# Where a nested model's error points, in the CSV's column names.
_COLUMN: dict[tuple[str, ...], str] = {
    ("name",): "guardian_name",
    ("phone",): "guardian_phone",
    ("email",): "guardian_email",
    ("preferred_language",): "guardian_language",
}


class RowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line: Annotated[int, Field(ge=1)]
    key: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="sha256 of the row.")]
    cells: Annotated[dict[str, Cell], Field(max_length=50)]

    @field_validator("cells")
    @classmethod
    def empty_cells_are_absent(cls, cells: dict[str, str]) -> dict[str, str]:
        return {column: value.strip() for column, value in cells.items() if value.strip()}


class ImportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: Annotated[list[RowIn], Field(min_length=1, max_length=MAX_ROWS)]


class RowResult(BaseModel):
    line: int
    status: str
    enrollment_id: str | None = None
    rule: str | None = None
    params: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []


class ImportResult(BaseModel):
    rows: list[RowResult]


def _errors(exc: ValidationError, language: str) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors():
        location = tuple(str(part) for part in error.get("loc", ()))
        field = _COLUMN.get(location, ".".join(location) or "row")
        rule = str(error.get("type", "value_error"))
        message = FIELD_RULES.get(rule, {}).get(language) or str(error.get("msg", rule))
        errors.append({"field": field, "rule": rule, "message": message})
    return errors


@router.post("/imports/learners")
async def import_learners(
    body: ImportRequest, request: Request, principal: Writer, service: Enrollments
) -> ImportResult:
    """Enroll the learners of up to 500 CSV rows; every valid row commits, each invalid or
    refused one is reported by line with the field or rule at fault. A row imported before
    (same key) answers ``already_imported`` and changes nothing."""
    language = language_of(request)
    invalid: list[RowOutcome] = []
    valid: list[ImportRow] = []
    for row in body.rows:
        try:
            valid.append(LearnerRow.model_validate(row.cells).to_import(row.line, row.key))
        except ValidationError as exc:
            invalid.append(RowOutcome(row.line, "invalid", errors=_errors(exc, language)))
    outcomes = await import_rows(service, valid, scope=principal) if valid else []
    ordered = sorted([*invalid, *outcomes], key=lambda outcome: outcome.line)
    return ImportResult(
        rows=[RowResult.model_validate(outcome, from_attributes=True) for outcome in ordered]
    )
