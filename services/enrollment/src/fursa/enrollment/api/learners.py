"""Learners' records over HTTP: reading, corrections, consent, subject-access export,
erasure (the audit log is the kernel's ``GET /audit``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from fursa.enrollment.api.common import (
    Duplicates,
    Id,
    Learners,
    MassarCode,
    Mobile,
    Nationality,
    SpecialNeeds,
    Writer,
    YearLeftSchool,
    refused,
)
from fursa.enrollment.domain import EnrollmentStatus, Refused
from fursa.enrollment.duplicate_reviews import ReviewNotFound
from fursa.enrollment.eligibility import SchoolLevel
from fursa.enrollment.learners import LearnerFound, LearnerNotFound, LearnerSearch, LearnerView
from fursa.enrollment.models import DuplicateDecision, DuplicateReview
from fursa.shared.auth import Staff
from fursa.shared.contracts import Consent, Language, Pathway, Sex
from fursa.shared.contracts.common import SchoolYear
from fursa.shared.contracts.enrollment import ArabicName, ArabicPlace, LatinName, LatinPlace
from fursa.shared.db import INT64_MAX
from fursa.shared.problems import FIELD_RULES, Problem, language_of

router = APIRouter(tags=["learners"])


Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class GuardianCorrection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    phone: Mobile | None = None
    email: Email | None = None
    preferred_language: Language | None = None


class ContactCorrection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: Mobile | None = None
    email: Email | None = None
    preferred_language: Language | None = None


class LearnerCorrection(BaseModel):
    """The fields to correct, and only those (a field left out stays as it is)."""

    model_config = ConfigDict(extra="forbid")

    first_name_ar: ArabicName | None = None
    last_name_ar: ArabicName | None = None
    first_name_latin: LatinName | None = None
    last_name_latin: LatinName | None = None
    birth_date: date | None = None
    birth_place_ar: ArabicPlace | None = None
    birth_place_fr: LatinPlace | None = None
    sex: Sex | None = None
    nationality: Nationality | None = None
    massar_code: MassarCode | None = None
    last_school_level: SchoolLevel | None = None
    year_left_school: YearLeftSchool | None = None
    special_needs: SpecialNeeds | None = None
    guardian: GuardianCorrection | None = None
    contact: ContactCorrection | None = None

    def changes(self) -> dict[str, Any]:
        """Field → new value, with the guardian's and the learner's own contact fields as
        ``guardian.<field>`` and ``contact.<field>``."""
        given = self.model_dump(exclude_unset=True)
        for block in ("guardian", "contact"):
            fields = given.pop(block, None) or {}
            given.update({f"{block}.{name}": value for name, value in fields.items()})
        return given


# What a correction may set to nothing: the rest of the record is required.
CLEARABLE = frozenset(
    {
        "birth_place_ar",
        "birth_place_fr",
        "massar_code",
        "year_left_school",
        "special_needs",
        "guardian.email",
        "contact.email",
    }
)


class ConsentChange(Consent):
    """The consent as it now stands, all of it (``partner_sharing`` left out: not given)."""

    model_config = ConfigDict(extra="forbid")


class GuardianPublic(BaseModel):
    name: str | None
    phone: str | None
    email: str | None
    preferred_language: Language


class ContactPublic(BaseModel):
    """The learner's own contact (an adult is their own contact)."""

    phone: str | None
    email: str | None
    preferred_language: Language | None


class ConsentPublic(BaseModel):
    data_use: bool
    notifications: bool
    partner_sharing: bool
    recorded_on: date
    recorded_by: str


class LearnerPublic(BaseModel):
    """A learner's record, personal data included (only for callers who see the learner)."""

    id: str
    first_name_ar: str | None
    last_name_ar: str | None
    first_name_latin: str | None
    last_name_latin: str | None
    birth_date: date | None
    birth_place_ar: str | None
    birth_place_fr: str | None
    sex: Sex
    nationality: str
    massar_code: str | None
    last_school_level: SchoolLevel
    year_left_school: int | None
    special_needs: str | None
    guardian: GuardianPublic
    contact: ContactPublic
    consent: ConsentPublic
    enrollment_ids: list[str]
    erased_at: datetime | None

    @classmethod
    def of(cls, view: LearnerView) -> LearnerPublic:
        learner = view.learner
        return cls(
            **learner.model_dump(
                include={
                    "id",
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
                    "erased_at",
                }
            ),
            guardian=GuardianPublic(
                name=learner.guardian_name,
                phone=learner.guardian_phone,
                email=learner.guardian_email,
                preferred_language=learner.guardian_language,
            ),
            contact=ContactPublic(
                phone=learner.phone,
                email=learner.email,
                preferred_language=learner.preferred_language,
            ),
            consent=ConsentPublic(
                data_use=learner.consent_data_use,
                notifications=learner.consent_notifications,
                partner_sharing=learner.consent_partner_sharing,
                recorded_on=learner.consent_recorded_on,
                recorded_by=learner.consent_recorded_by,
            ),
            enrollment_ids=list(view.enrollment_ids),
        )


class CurrentEnrollment(BaseModel):
    enrollment_id: str
    center_id: str
    pathway: Pathway
    school_year: str
    status: EnrollmentStatus


class LearnerListed(BaseModel):
    """A learner as a search lists them: names, birth date and the current enrolment."""

    id: str
    first_name_ar: str | None
    last_name_ar: str | None
    first_name_latin: str | None
    last_name_latin: str | None
    birth_date: date | None
    sex: Sex
    massar_code: str | None
    current_enrollment: CurrentEnrollment

    @classmethod
    def of(cls, found: LearnerFound) -> LearnerListed:
        learner, enrollment = found.learner, found.current
        return cls(
            **learner.model_dump(
                include={
                    "id",
                    "first_name_ar",
                    "last_name_ar",
                    "first_name_latin",
                    "last_name_latin",
                    "birth_date",
                    "sex",
                    "massar_code",
                }
            ),
            current_enrollment=CurrentEnrollment(
                enrollment_id=enrollment.id,
                center_id=enrollment.center_id,
                pathway=enrollment.pathway,
                school_year=enrollment.school_year,
                status=enrollment.status,
            ),
        )


class LearnerList(BaseModel):
    items: list[LearnerListed]
    total: int
    limit: int
    offset: int


class DuplicateReviewPublic(BaseModel):
    """A pair the possible-duplicate check found: ``learner_id`` may be the earlier
    ``earlier_learner_id``."""

    learner_id: str
    earlier_learner_id: str
    score: float
    found_at: datetime
    decision: DuplicateDecision | None
    decided_by: str | None
    decided_at: datetime | None

    @classmethod
    def of(cls, review: DuplicateReview) -> DuplicateReviewPublic:
        return cls.model_validate(review, from_attributes=True)


class DuplicateDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    same_person: bool


@router.get("/learners")
async def find_learners(
    principal: Staff,
    learners: Learners,
    name: Annotated[
        str | None,
        Query(max_length=200, description="Words of the name, in Arabic or Latin script."),
    ] = None,
    massar_code: Annotated[str | None, Query(max_length=20)] = None,
    guardian_phone: Annotated[
        str | None,
        Query(pattern=r"^[+0-9 .\-]{9,20}$", description="As typed: +212…, 06…, 00212…"),
    ] = None,
    center_id: Annotated[str | None, Query(max_length=64)] = None,
    pathway: Pathway | None = None,
    school_year: SchoolYear | None = None,
    status: EnrollmentStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
) -> LearnerList:
    """The learners the caller may see that match every criterion given, by Latin name.

    A name matches in either script whatever its spelling's variants (hamza, taa marbuta,
    ``ou``/``u``, ``El-``, doubled letters); enrolment criteria hold for one of the learner's
    enrolments. Each learner comes with their current enrolment.
    """
    search = LearnerSearch(
        name=name,
        massar_code=massar_code,
        guardian_phone=guardian_phone,
        center_id=center_id,
        pathway=pathway,
        school_year=school_year,
        status=status,
    )
    page = await learners.find(search, scope=principal, limit=limit, offset=offset)
    return LearnerList(
        items=[LearnerListed.of(found) for found in page.found],
        total=page.total,
        limit=limit,
        offset=offset,
    )


# Declared before /learners/{learner_id}, which would otherwise match "duplicates".
@router.get("/learners/duplicates")
async def possible_duplicates(
    principal: Staff,
    reviews: Duplicates,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
) -> list[DuplicateReviewPublic]:
    """The possible duplicates waiting for a decision, among the learners the caller sees,
    most likely first."""
    found = await reviews.open(scope=principal, limit=limit, offset=offset)
    return [DuplicateReviewPublic.of(review) for review in found]


@router.post("/learners/{learner_id}/duplicates/{earlier_learner_id}")
async def decide_duplicate(
    learner_id: Id,
    earlier_learner_id: Id,
    body: DuplicateDecisionIn,
    principal: Writer,
    reviews: Duplicates,
) -> DuplicateReviewPublic:
    """Staff's decision on a possible duplicate: *different* (never found again) or *same
    person* (the later record merges into the earlier: its enrolments move there and its
    personal data is emptied)."""
    try:
        review = await reviews.decide(
            learner_id, earlier_learner_id, same_person=body.same_person, scope=principal
        )
    except ReviewNotFound:
        raise Problem.not_found() from None
    except Refused as exc:
        raise refused(exc) from None
    return DuplicateReviewPublic.of(review)


@router.get("/learners/{learner_id}")
async def get_learner(learner_id: Id, principal: Staff, learners: Learners) -> LearnerPublic:
    """A learner's record, for callers who see one of the learner's enrollments."""
    try:
        return LearnerPublic.of(await learners.get(learner_id, scope=principal))
    except LearnerNotFound:
        raise Problem.not_found() from None


@router.patch("/learners/{learner_id}")
async def correct_learner(
    learner_id: Id,
    body: LearnerCorrection,
    request: Request,
    principal: Writer,
    learners: Learners,
) -> LearnerPublic:
    """Correct a learner's record; publishes learner-updated naming the fields changed."""
    changes = body.changes()
    required = sorted(
        field for field, value in changes.items() if value is None and field not in CLEARABLE
    )
    if required:
        message = FIELD_RULES["missing"][language_of(request)]
        raise Problem(
            422,
            "validation",
            errors=[{"field": field, "rule": "missing", "message": message} for field in required],
        )
    try:
        view = await learners.correct(learner_id, changes=changes, scope=principal)
    except LearnerNotFound:
        raise Problem.not_found() from None
    except Refused as exc:
        raise refused(exc) from None
    return LearnerPublic.of(view)


@router.put("/learners/{learner_id}/consent")
async def change_consent(
    learner_id: Id, body: ConsentChange, principal: Writer, learners: Learners
) -> LearnerPublic:
    """Record the consent as it stands today (audited); publishes learner-updated when it
    changed, and each service applies it from then on: no message without ``notifications``,
    nothing to partners without ``data_use`` and ``partner_sharing``."""
    try:
        view = await learners.change_consent(learner_id, consent=body, scope=principal)
    except LearnerNotFound:
        raise Problem.not_found() from None
    except Refused as exc:
        raise refused(exc) from None
    return LearnerPublic.of(view)


@router.get("/learners/{learner_id}/export")
async def export_learner(learner_id: Id, principal: Writer, learners: Learners) -> dict[str, Any]:
    """Everything held on the learner (a subject-access request), as JSON."""
    try:
        return await learners.export(learner_id, scope=principal)
    except LearnerNotFound:
        raise Problem.not_found() from None


@router.post("/learners/{learner_id}/erasure")
async def erase_learner(learner_id: Id, principal: Writer, learners: Learners) -> LearnerPublic:
    """Erase the learner's personal data here and, through learner-erased, everywhere."""
    try:
        view = await learners.erase(learner_id, scope=principal)
    except LearnerNotFound:
        raise Problem.not_found() from None
    except Refused as exc:
        raise refused(exc) from None
    return LearnerPublic.of(view)
