"""The training HTTP API: request and response shapes, and thin routes over the service.

Every route needs a bearer token of the programme's staff (403 otherwise) and answers within
the caller's scope: a training record outside it answers 404 (or, inside a class's entries,
``not_found``), exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from fursa.shared import problems
from fursa.shared.auth import Principal, Role, Staff, allow
from fursa.shared.contracts import OutcomeStatus, Pathway, TrainingResult
from fursa.shared.contracts.common import SchoolYear
from fursa.shared.problems import Problem
from fursa.training.corrections import Mark
from fursa.training.curriculum import MAX_SESSION_HOURS, Progress, UnmetCondition
from fursa.training.domain import TrainingAlreadyCompleted, TrainingClosed, TrainingStatus
from fursa.training.follow_up import FollowUp, follow_up_errors
from fursa.training.indicators import Dimension, Indicators, PublishedIndicators, published
from fursa.training.models import ClassSession, FollowUpOutcome, TrainingRecord
from fursa.training.service import (
    AlreadyRecorded,
    ClassAssessment,
    ClassSessionRecord,
    CompletionRefused,
    EntriesRefused,
    TrainingNotCompleted,
    TrainingNotFound,
    TrainingService,
)

# The training service's rules, by code, in the programme's two languages.
problems.register_messages(
    {
        "training_already_completed": {
            "fr": "Cette formation est déjà terminée ; son résultat ne change plus.",
            "ar": "هذا التكوين منتهٍ من قبل؛ لا تتغير نتيجته.",
        },
        "training_closed": {
            "fr": "Cette formation est close (apprenant retiré).",
            "ar": "هذا التكوين مغلق (انسحب المتعلم).",
        },
        "training_not_completed": {
            "fr": "Le suivi vient après la fin de la formation.",
            "ar": "تأتي المتابعة بعد انتهاء التكوين.",
        },
        "completion_conditions_unmet": {
            "fr": "La formation ne remplit pas encore les conditions de réussite.",
            "ar": "لا يستوفي التكوين شروط النجاح بعد.",
        },
        "class_entries_refused": {
            "fr": "Certaines lignes de la classe sont refusées ; rien n'a été enregistré.",
            "ar": "رُفضت بعض أسطر القسم؛ لم يُحفظ أي شيء.",
        },
        "already_recorded": {
            "fr": "Déjà enregistré.",
            "ar": "مسجل من قبل.",
        },
    }
)

# What each refused entry or unmet condition means, by rule.
RULES: dict[str, dict[str, str]] = {
    "not_found": {"fr": "formation introuvable", "ar": "التكوين غير موجود"},
    "duplicate": {"fr": "apprenant en double", "ar": "متعلم مكرر"},
    "training_closed": {"fr": "formation close", "ar": "تكوين مغلق"},
    "module_not_in_pathway": {
        "fr": "module absent du parcours de l'apprenant",
        "ar": "الوحدة ليست من مسار المتعلم",
    },
    "other_center": {"fr": "apprenant d'un autre centre", "ar": "متعلم من مركز آخر"},
    "future_date": {"fr": "date dans le futur", "ar": "تاريخ في المستقبل"},
    "excused_but_present": {
        "fr": "seule une absence peut être justifiée",
        "ar": "لا يُبرَّر إلا الغياب",
    },
    "missing": {"fr": "champ obligatoire pour cette situation", "ar": "حقل إلزامي لهذه الحالة"},
    "not_for_status": {
        "fr": "champ sans objet pour cette situation",
        "ar": "حقل لا يخص هذه الحالة",
    },
    "module_not_passed": {"fr": "module non validé", "ar": "وحدة غير مكتسبة"},
    "iso_week": {
        "fr": "semaine ISO attendue, p. ex. 2026-W49",
        "ar": "أسبوع بصيغة ISO، مثل 2026-W49",
    },
    "module_and_workshop": {
        "fr": "un module est obligatoire ou atelier, pas les deux",
        "ar": "الوحدة إما إلزامية أو ورشة، لا كلاهما",
    },
    "more_than_offered": {
        "fr": "plus d'ateliers exigés que d'ateliers proposés",
        "ar": "ورشات مطلوبة أكثر من المعروضة",
    },
    "workshops_not_passed": {"fr": "ateliers non validés", "ar": "ورشات غير مكتسبة"},
    "attendance_below_minimum": {"fr": "assiduité insuffisante", "ar": "مواظبة غير كافية"},
}


def rule_errors(request: Request, pairs: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    language = problems.language_of(request)
    return [{"field": name, "rule": rule, "message": RULES[rule][language]} for name, rule in pairs]


def _unmet(request: Request, unmet: Sequence[UnmetCondition]) -> list[dict[str, Any]]:
    language = problems.language_of(request)
    errors = []
    for condition in unmet:
        error: dict[str, Any] = {
            "field": condition.module or condition.condition,
            "rule": condition.condition,
            "message": RULES[condition.condition][language],
        }
        if condition.required is not None:
            error |= {"required": condition.required, "actual": condition.actual}
        errors.append(error)
    return errors


# Who records what happens in a class and how a training ends: the center's educators, its
# association's staff, administrators. Reading (indicators, trainings) is for every programme
# role (Staff), scoped.
Recorder = Annotated[Principal, Depends(allow(Role.EDUCATOR, Role.ASSOCIATION_STAFF, Role.ADMIN))]

Id = Annotated[str, Path(max_length=64)]
Module = Annotated[str, Field(pattern=r"^[a-z][a-z_]{0,63}$", description="e.g. `literacy`.")]
TrainingId = Annotated[str, Field(min_length=1, max_length=64)]
ClassName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^/]+$")]


class StrictBody(BaseModel):
    """A request body: unknown fields, NaN and infinities refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Presence(StrictBody):
    training_id: TrainingId
    present: bool
    excused: Annotated[
        bool,
        Field(
            description="An absence with a justification: it does not count towards "
            "the at-risk threshold (only for an absence)."
        ),
    ] = False

    def mark(self) -> Mark:
        return Mark(present=self.present, excused=self.excused)


class SessionRequest(StrictBody):
    """A session given to a class, with the whole class's attendance (one call)."""

    module: Module
    held_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]
    hours: Annotated[float, Field(gt=0, le=MAX_SESSION_HOURS)]
    class_name: ClassName = "A"
    attendance: Annotated[list[Presence], Field(min_length=1, max_length=500)]

    def record(self) -> ClassSessionRecord:
        return ClassSessionRecord(
            module=self.module,
            held_on=self.held_on,
            hours=self.hours,
            class_name=self.class_name,
            attendance=[(p.training_id, p.mark()) for p in self.attendance],
        )


class SessionPublic(BaseModel):
    id: str
    center_id: str
    class_name: str
    module: str
    held_on: date
    hours: float
    learners: int
    present: int
    at_risk: list[str] = Field(description="Trainings whose at-risk episode this session began.")


class Score(StrictBody):
    training_id: TrainingId
    score: Annotated[float, Field(ge=0, le=20, description="Out of 20.")]


class AssessmentRequest(StrictBody):
    """A module's assessment of a class: each learner's score out of 20."""

    module: Module
    assessed_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]
    scores: Annotated[list[Score], Field(min_length=1, max_length=500)]


class AssessmentResult(BaseModel):
    id: str
    training_id: str
    module: str
    assessed_on: date
    score: float
    passed: bool


class CompletionRequest(StrictBody):
    """How the training ends: ``passed`` (the completion rule must be met) or ``failed``."""

    result: TrainingResult = TrainingResult.PASSED


class OutcomeRequest(StrictBody):
    """Where the learner is at a follow-up after the programme."""

    months_after: Annotated[int, Field(ge=1, le=60, description="e.g. 6 or 12.")]
    status: OutcomeStatus
    school: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    level: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    institution: Annotated[str | None, Field(min_length=1, max_length=200)] = None

    def follow_up(self) -> FollowUp:
        return FollowUp(
            months_after=self.months_after,
            status=self.status,
            school=self.school,
            level=self.level,
            institution=self.institution,
        )


class OutcomePublic(BaseModel):
    id: str
    training_id: str
    months_after: int
    status: OutcomeStatus
    school: str | None
    level: str | None
    institution: str | None
    recorded_on: date

    @classmethod
    def of(cls, outcome: FollowUpOutcome) -> OutcomePublic:
        return cls.model_validate(outcome, from_attributes=True)


class TrainingPublic(BaseModel):
    """A learner's training record (it holds no personal data)."""

    id: str
    enrollment_id: str
    learner_id: str
    center_id: str
    pathway: Pathway
    school_year: str
    status: TrainingStatus
    opened_at: datetime
    completed_on: date | None
    closed_on: date | None
    hours_attended: float | None
    attendance_rate: float | None
    result: TrainingResult | None
    workshops: list[str]
    at_risk: bool

    @classmethod
    def of(cls, record: TrainingRecord) -> TrainingPublic:
        return cls.model_validate(record, from_attributes=True)


class ModuleProgress(BaseModel):
    module: str
    hours_held: float
    hours_attended: float
    passed: bool | None


class ProgressPublic(BaseModel):
    """Where a training stands, and what it still lacks to complete as passed."""

    hours_held: float
    hours_attended: float
    attendance_rate: float
    modules: list[ModuleProgress]
    unmet: list[dict[str, Any]]

    @classmethod
    def of(cls, progress: Progress, unmet: list[dict[str, Any]]) -> ProgressPublic:
        modules = sorted({*progress.hours_held, *progress.passed})
        return cls(
            hours_held=progress.total_held,
            hours_attended=progress.total_attended,
            attendance_rate=round(progress.attendance_rate, 4),
            modules=[
                ModuleProgress(
                    module=m,
                    hours_held=progress.hours_held.get(m, 0.0),
                    hours_attended=progress.hours_attended.get(m, 0.0),
                    passed=progress.passed.get(m),
                )
                for m in modules
            ],
            unmet=unmet,
        )


class TrainingSummary(BaseModel):
    open: int
    completed: int
    withdrawn: int


class IndicatorsPublic(BaseModel):
    """A group's indicators; published, ``null`` is a withheld count or rate."""

    group: dict[str, str | None]
    learners: int | None
    completed: int | None
    withdrawn: int | None
    at_risk: int | None
    followed_up: int | None
    attendance_rate: float | None
    completion_rate: float | None
    reintegration_rate: float | None
    placement_rate: float | None

    @classmethod
    def of(cls, figures: Indicators | PublishedIndicators) -> IndicatorsPublic:
        return cls.model_validate(figures, from_attributes=True)


async def _service(request: Request) -> TrainingService:
    service: TrainingService = request.app.state.trainings
    return service


Service = Annotated[TrainingService, Depends(_service)]

router = APIRouter(tags=["training"])


@router.get("/trainings", responses={404: {"description": "An `after` the caller cannot see"}})
async def find_trainings(
    principal: Staff,
    service: Service,
    enrollment_id: Annotated[str | None, Query(max_length=64)] = None,
    status: TrainingStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after: Annotated[str | None, Query(max_length=64)] = None,
) -> list[TrainingPublic]:
    """Trainings visible to the caller, oldest first: an enrollment's (zero or one), or e.g.
    the open trainings of an educator's center (``status=open``). ``after`` (the last id of
    the previous page) continues the listing: a screen polling for new trainings passes the
    last one it holds and receives only those opened since. An ``after`` the caller cannot
    see is a 404."""
    try:
        records = await service.find(
            enrollment_id=enrollment_id, status=status, limit=limit, after=after, scope=principal
        )
    except TrainingNotFound:
        raise Problem.not_found() from None
    return [TrainingPublic.of(record) for record in records]


# Declared before /trainings/{training_id}, which would otherwise match "summary".
@router.get("/trainings/summary")
async def training_summary(principal: Staff, service: Service) -> TrainingSummary:
    """How many of the trainings the caller may see are open, completed and withdrawn."""
    summary = await service.summary(scope=principal)
    return TrainingSummary(
        open=summary.open, completed=summary.completed, withdrawn=summary.withdrawn
    )


@router.get("/trainings/{training_id}")
async def get_training(training_id: Id, principal: Staff, service: Service) -> TrainingPublic:
    """One training the caller may see (404 otherwise)."""
    try:
        return TrainingPublic.of(await service.get(training_id, scope=principal))
    except TrainingNotFound:
        raise Problem.not_found() from None


@router.get("/trainings/{training_id}/progress")
async def training_progress(
    training_id: Id, request: Request, principal: Staff, service: Service
) -> ProgressPublic:
    """Hours held and attended per module, latest results, and what completion still lacks."""
    try:
        progress, unmet = await service.progress(training_id, scope=principal)
    except TrainingNotFound:
        raise Problem.not_found() from None
    return ProgressPublic.of(progress, _unmet(request, unmet))


@router.post("/sessions", status_code=201)
async def record_session(
    body: SessionRequest, request: Request, principal: Recorder, service: Service
) -> SessionPublic:
    """Record a session and the attendance of its whole class in one call; learners whose
    attendance over their last sessions falls under the threshold are signalled at risk."""
    try:
        session, at_risk = await service.record_session(body.record(), scope=principal)
    except EntriesRefused as exc:
        raise Problem(
            422, "class_entries_refused", errors=rule_errors(request, exc.errors)
        ) from None
    except AlreadyRecorded:
        raise Problem.rule("already_recorded", status=409) from None
    return _session_public(session, body, at_risk)


def _session_public(
    session: ClassSession, body: SessionRequest, at_risk: list[str]
) -> SessionPublic:
    return SessionPublic(
        id=session.id,
        center_id=session.center_id,
        class_name=session.class_name,
        module=session.module,
        held_on=session.held_on,
        hours=session.hours,
        learners=len(body.attendance),
        present=sum(p.present for p in body.attendance),
        at_risk=at_risk,
    )


@router.post("/assessments", status_code=201)
async def record_assessments(
    body: AssessmentRequest, request: Request, principal: Recorder, service: Service
) -> list[AssessmentResult]:
    """Record a module's assessment of a class in one call (each passes at the pass mark)."""
    command = ClassAssessment(
        module=body.module,
        assessed_on=body.assessed_on,
        scores=[(s.training_id, s.score) for s in body.scores],
    )
    try:
        assessments = await service.record_assessments(command, scope=principal)
    except EntriesRefused as exc:
        raise Problem(
            422, "class_entries_refused", errors=rule_errors(request, exc.errors)
        ) from None
    except AlreadyRecorded:
        raise Problem.rule("already_recorded", status=409) from None
    return [
        AssessmentResult(
            id=a.id,
            training_id=a.training_id,
            module=a.module,
            assessed_on=a.assessed_on,
            score=a.score,
            passed=a.passed,
        )
        for a in assessments
    ]


@router.post("/trainings/{training_id}/completion")
async def complete_training(
    training_id: Id,
    body: CompletionRequest,
    request: Request,
    principal: Recorder,
    service: Service,
) -> TrainingPublic:
    """End a training the caller may see: passed when the completion rule is met (422 listing
    each unmet condition otherwise), or failed (404 outside scope; 409 once it has ended)."""
    try:
        record = await service.complete(training_id, body.result, scope=principal)
    except TrainingNotFound:
        raise Problem.not_found() from None
    except TrainingAlreadyCompleted:
        raise Problem.rule("training_already_completed", status=409) from None
    except TrainingClosed:
        raise Problem.rule("training_closed", status=409) from None
    except CompletionRefused as exc:
        raise Problem(
            422, "completion_conditions_unmet", errors=_unmet(request, exc.unmet)
        ) from None
    return TrainingPublic.of(record)


@router.post("/trainings/{training_id}/outcomes", status_code=201)
async def record_outcome(
    training_id: Id,
    body: OutcomeRequest,
    request: Request,
    principal: Recorder,
    service: Service,
) -> OutcomePublic:
    """Record a follow-up of a completed training (e.g. at 6 and 12 months)."""
    follow_up = body.follow_up()
    errors = follow_up_errors(follow_up)
    if errors:
        raise Problem(422, "validation", errors=rule_errors(request, errors))
    try:
        outcome = await service.record_outcome(training_id, follow_up, scope=principal)
    except TrainingNotFound:
        raise Problem.not_found() from None
    except TrainingNotCompleted:
        raise Problem.rule("training_not_completed", status=409) from None
    except AlreadyRecorded:
        raise Problem.rule("already_recorded", status=409) from None
    return OutcomePublic.of(outcome)


@router.get("/indicators")
async def training_indicators(
    principal: Staff,
    service: Service,
    by: Annotated[list[Dimension], Query(max_length=4)] = [],  # noqa: B006 - FastAPI's idiom
    school_year: Annotated[SchoolYear | None, Query()] = None,
    center_id: Annotated[str | None, Query(max_length=64)] = None,
    publication: bool = False,
) -> list[IndicatorsPublic]:
    """Attendance, completion, at-risk, reintegration and placement figures over the trainings
    the caller may see, grouped ``by`` center, pathway, sex and/or school year.
    ``publication=true`` withholds counts of 1 to 4 and the rates that would give one back."""
    groups = await service.indicators(
        scope=principal, by=list(dict.fromkeys(by)), school_year=school_year, center_id=center_id
    )
    return [IndicatorsPublic.of(published(g) if publication else g) for g in groups]
