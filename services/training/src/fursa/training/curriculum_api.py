"""The curriculum in force, per center and pathway, and its management.

A center's curriculum is set by its association's staff (or an administrator): the
association signs the partnership agreement whose figures it carries and runs the center.
Educators teach it and are assessed against it, so they read it and do not change it; the
officers and the directorate read it within their territory.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from fursa.shared.auth import Principal, Role, Staff, allow
from fursa.shared.contracts import Pathway
from fursa.shared.problems import Problem
from fursa.training.api import Id, Module, Service, StrictBody, rule_errors
from fursa.training.center_curricula import CenterCurricula, CenterNotFound, PlanInForce
from fursa.training.curriculum import MAX_SESSION_HOURS, ModuleKind, PathwayPlan

# Who sets a center's curriculum: its association's staff and administrators.
CurriculumManager = Annotated[Principal, Depends(allow(Role.ASSOCIATION_STAFF, Role.ADMIN))]

Hours = Annotated[float, Field(gt=0, le=2000, description="Required hours.")]


class CurriculumModule(BaseModel):
    module: str
    kind: ModuleKind
    required_hours: float


class PathwayCurriculum(BaseModel):
    pathway: Pathway
    modules: list[CurriculumModule]
    workshops_required: int
    center_curriculum: bool = Field(
        description="True where the center set its own; false: the deployment's default."
    )

    @classmethod
    def of(cls, in_force: PlanInForce) -> PathwayCurriculum:
        plan = in_force.plan
        return cls(
            pathway=in_force.pathway,
            modules=[
                CurriculumModule(module=module, kind=kind, required_hours=hours)
                for kind, modules in (
                    (ModuleKind.EDUCATIONAL, plan.modules),
                    (ModuleKind.WORKSHOP, plan.workshops),
                )
                for module, hours in modules.items()
            ],
            workshops_required=plan.workshops_required,
            center_curriculum=in_force.own,
        )


class CurriculumPublic(BaseModel):
    """The curriculum and the rules in force (reference data for educators' screens)."""

    center_id: str | None
    pathways: list[PathwayCurriculum]
    min_attendance_share: float
    pass_mark: float
    max_session_hours: float
    at_risk_window_sessions: int
    at_risk_threshold: float
    at_risk_margin: float


class PathwayPlanRequest(StrictBody):
    """A pathway's curriculum at a center: modules every learner follows, workshops to choose
    from, and how many workshops a learner must pass."""

    modules: Annotated[dict[Module, Hours], Field(min_length=1, max_length=50)]
    workshops: Annotated[dict[Module, Hours], Field(default_factory=dict, max_length=50)]
    workshops_required: Annotated[int, Field(ge=0, le=50)] = 0

    def plan(self) -> PathwayPlan:
        return PathwayPlan(
            modules=dict(self.modules),
            workshops=dict(self.workshops),
            workshops_required=self.workshops_required,
        )

    def errors(self) -> list[tuple[str, str]]:
        """``(field, rule)`` of what the curriculum's own rules refuse."""
        errors = [
            (f"workshops.{name}", "module_and_workshop")
            for name in self.workshops
            if name in self.modules
        ]
        if self.workshops_required > len(self.workshops):
            errors.append(("workshops_required", "more_than_offered"))
        return errors


async def _curricula(request: Request) -> CenterCurricula:
    curricula: CenterCurricula = request.app.state.curricula
    return curricula


Curricula = Annotated[CenterCurricula, Depends(_curricula)]

router = APIRouter(tags=["curriculum"])


@router.get("/curriculum", responses={404: {"description": "A center the caller cannot see"}})
async def curriculum(
    principal: Staff,
    service: Service,
    curricula: Curricula,
    center_id: Annotated[str | None, Query(max_length=64)] = None,
) -> CurriculumPublic:
    """Modules and workshops of each pathway with their required hours, and the rules: the
    deployment's, or with ``center_id`` that center's (its own where it set one)."""
    if center_id is None:
        in_force = [PlanInForce(p, plan, own=False) for p, plan in service.rules.curriculum.items()]
    else:
        try:
            in_force = await curricula.in_force(center_id, scope=principal)
        except CenterNotFound:
            raise Problem.not_found() from None
    rules = service.rules
    return CurriculumPublic(
        center_id=center_id,
        pathways=[PathwayCurriculum.of(plan) for plan in in_force],
        min_attendance_share=rules.completion.min_attendance_share,
        pass_mark=rules.completion.pass_mark,
        max_session_hours=MAX_SESSION_HOURS,
        at_risk_window_sessions=rules.early_warning.window_sessions,
        at_risk_threshold=rules.early_warning.threshold,
        at_risk_margin=rules.early_warning.margin,
    )


@router.put("/centers/{center_id}/curriculum/{pathway}")
async def set_center_curriculum(
    center_id: Id,
    pathway: Annotated[Pathway, Path()],
    body: PathwayPlanRequest,
    request: Request,
    principal: CurriculumManager,
    curricula: Curricula,
) -> PathwayCurriculum:
    """Set what a pathway teaches at a center the caller runs (404 outside their scope). Its
    trainings follow it from then on: sessions, progress and completion."""
    errors = body.errors()
    if errors:
        raise Problem(422, "validation", errors=rule_errors(request, errors))
    try:
        in_force = await curricula.set(center_id, pathway, body.plan(), scope=principal)
    except CenterNotFound:
        raise Problem.not_found() from None
    return PathwayCurriculum.of(in_force)


@router.delete("/centers/{center_id}/curriculum/{pathway}")
async def reset_center_curriculum(
    center_id: Id,
    pathway: Annotated[Pathway, Path()],
    principal: CurriculumManager,
    curricula: Curricula,
) -> PathwayCurriculum:
    """Drop a center's own curriculum of a pathway: the deployment's applies again."""
    try:
        in_force = await curricula.reset(center_id, pathway, scope=principal)
    except CenterNotFound:
        raise Problem.not_found() from None
    return PathwayCurriculum.of(in_force)
