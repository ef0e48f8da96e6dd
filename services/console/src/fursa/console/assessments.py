"""A class's assessments: an educator records a module's test for the whole class (each
learner's score out of 20; a learner who did not sit it is left blank), and sees the class's
assessments so far, a line per module and day."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from fursa.console.classes import Id, class_modules, refusal_message
from fursa.console.clients import Training
from fursa.console.pages import CheckedForm, PagesDep, Person
from fursa.console.services import ServiceProblem, TrainingClient
from fursa.console.signin import CurrentPerson
from fursa.shared.clock import local_today

router = APIRouter()


def assessment_body(form: FormData) -> dict[str, Any]:
    """The form as the training service's assessment: the scores given, blanks left out."""
    scores = [
        (str(name).removeprefix("score-"), str(value).strip().replace(",", "."))
        for name, value in form.multi_items()
        if str(name).startswith("score-") and str(value).strip()
    ]
    return {
        "module": str(form.get("module") or ""),
        "assessed_on": str(form.get("assessed_on") or ""),
        "scores": [
            {"training_id": training_id, "score": float(score) if _number(score) else score}
            for training_id, score in scores
        ],
    }


def _number(text: str) -> bool:
    return text.replace(".", "", 1).isdigit()


def recorded_lines(assessments: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The class's assessments a line per day and module, the most recent first."""
    lines: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for learner in assessments:
        for assessment in learner:
            lines[(assessment["assessed_on"], assessment["module"])].append(assessment)
    return [
        {
            "assessed_on": day,
            "module": module,
            "learners": len(scores),
            "passed": sum(a["passed"] for a in scores),
        }
        for (day, module), scores in sorted(lines.items(), reverse=True)
    ]


async def _assessment_page(
    request: Request,
    pages: PagesDep,
    person: Person,
    training: TrainingClient,
    center_id: str,
    class_name: str,
    *,
    values: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
) -> Response:
    roster, modules = await asyncio.gather(
        training.roster(center_id, class_name), class_modules(training, center_id)
    )
    assessments = await asyncio.gather(
        *(training.assessments_of(line["training_id"]) for line in roster)
    )
    return pages.render(
        request,
        "assessment.html",
        status_code=status_code,
        person=person,
        center_id=center_id,
        class_name=class_name,
        roster=roster,
        modules=modules,
        values=values or {"assessed_on": local_today().isoformat()},
        recorded=recorded_lines(list(assessments)),
        assessed=request.session.pop("assessed", None),
        problem=problem,
    )


@router.get("/centers/{center_id}/classes/{class_name}/assessment")
async def assessment_form(
    request: Request,
    center_id: Id,
    class_name: Id,
    person: CurrentPerson,
    pages: PagesDep,
    training: Training,
) -> Response:
    return await _assessment_page(request, pages, person, training, center_id, class_name)


@router.post("/centers/{center_id}/classes/{class_name}/assessment")
async def record_assessment(
    request: Request,
    center_id: Id,
    class_name: Id,
    person: CurrentPerson,
    pages: PagesDep,
    training: Training,
    form: CheckedForm,
) -> Response:
    """Record the class's scores in one call: all of them, or none if one is refused."""
    try:
        recorded = await training.record_assessments(assessment_body(form))
    except ServiceProblem as refusal:
        if refusal.status in (401, 403) or refusal.status >= 500:
            raise
        values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        return await _assessment_page(
            request,
            pages,
            person,
            training,
            center_id,
            class_name,
            values=values,
            problem=refusal_message(refusal),
            status_code=409 if refusal.status == 409 else 422,
        )
    request.session["assessed"] = {
        "learners": len(recorded),
        "passed": sum(a["passed"] for a in recorded),
    }
    return RedirectResponse(
        f"/centers/{center_id}/classes/{quote(class_name)}/assessment", status_code=303
    )
