"""Bulk import over HTTP: ``fursa import`` posts the rows of a CSV file in batches.

Each row carries its line number (for the report), an idempotency key and its cells as text;
the answer says, row by row, what became of it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fursa.enrollment.api.common import Enrollments, Writer, applicant_of
from fursa.enrollment.api.enrollments import EnrollmentRequest
from fursa.enrollment.imports import ImportRow, RowOutcome, import_rows
from fursa.enrollment.service import Placement
from fursa.shared.problems import FIELD_RULES, Problem, language_of

router = APIRouter(tags=["imports"])

MAX_ROWS = 500
# A file's line numbers: far more than any file of learners holds, bounded all the same.
MAX_LINE = 10_000_000
Cell = Annotated[str, Field(max_length=1000)]


# CSV column → where it goes in an enrollment request (see docs/import.md).
COLUMNS: dict[str, tuple[str, ...]] = {
    **{
        name: ("learner", name)
        for name in (
            "first_name_ar",
            "last_name_ar",
            "first_name_latin",
            "last_name_latin",
            "birth_date",
            "birth_place_ar",
            "birth_place_fr",
            "sex",
            "nationality",
            "massar_code",
            "last_school_level",
            "year_left_school",
            "special_needs",
        )
    },
    "guardian_name": ("guardian", "name"),
    "guardian_phone": ("guardian", "phone"),
    "guardian_email": ("guardian", "email"),
    "guardian_language": ("guardian", "preferred_language"),
    "learner_phone": ("contact", "phone"),
    "learner_email": ("contact", "email"),
    "learner_language": ("contact", "preferred_language"),
    "consent_data_use": ("consent", "data_use"),
    "consent_notifications": ("consent", "notifications"),
    "consent_partner_sharing": ("consent", "partner_sharing"),
    "center_id": ("center_id",),
    "pathway": ("pathway",),
    "school_year": ("school_year",),
    "referral_id": ("referral_id",),
}
_COLUMN_OF = {path: column for column, path in COLUMNS.items()}


def enrollment_request(cells: dict[str, str]) -> EnrollmentRequest:
    """The enrollment a row asks for; a :class:`ValidationError` names every cell at fault
    (by the request's field paths, see :func:`column_of`)."""
    body: dict[str, Any] = {"learner": {}, "consent": {}}
    for column, value in cells.items():
        path = COLUMNS.get(column, (column,))
        target = body
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = value
    return EnrollmentRequest.model_validate(body)


def column_of(location: tuple[str, ...]) -> str:
    """The CSV column a validation error points at."""
    return _COLUMN_OF.get(location, ".".join(location) or "row")


def to_import(line: int, key: str, request: EnrollmentRequest) -> ImportRow:
    return ImportRow(
        line=line,
        key=key,
        applicant=applicant_of(request.learner, request.guardian, request.consent, request.contact),
        placement=Placement(
            center_id=request.center_id,
            pathway=request.pathway,
            school_year=request.school_year,
            referral_id=request.referral_id,
        ),
    )


class RowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line: Annotated[
        int, Field(ge=1, le=MAX_LINE, description="The row's line in the file (reports name it).")
    ]
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
    message: str | None = Field(
        default=None, description="A refused row's rule, said in the caller's language."
    )
    errors: list[dict[str, Any]] = []
    possible_duplicates: list[dict[str, Any]] = []


class ImportResult(BaseModel):
    rows: list[RowResult]


def _result(outcome: RowOutcome, language: str) -> RowResult:
    result = RowResult.model_validate(outcome, from_attributes=True)
    if outcome.rule:
        result.message = Problem.rule(outcome.rule, **outcome.params).body(language)["title"]
    return result


def _errors(exc: ValidationError, language: str) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors():
        location = tuple(str(part) for part in error.get("loc", ()))
        field = column_of(location)
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
            valid.append(to_import(row.line, row.key, enrollment_request(row.cells)))
        except ValidationError as exc:
            invalid.append(RowOutcome(row.line, "invalid", errors=_errors(exc, language)))
    outcomes = await import_rows(service, valid, scope=principal) if valid else []
    ordered = sorted([*invalid, *outcomes], key=lambda outcome: outcome.line)
    return ImportResult(rows=[_result(outcome, language) for outcome in ordered])
