"""Corrections of a class's marks and scores, and a learner's record in the class.

A past session opens with each learner's mark as it stands; an educator changes one learner's
mark (present, absent, excused) and says why. A learner's page in the class shows their
progress, their scores (one can be corrected, with why) and every correction of their marks
and scores: who, when, why, from what to what. The training service keeps that history; a
reason is a code, never free text (it could carry a learner's health or family details).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from fursa.console.classes import MARKS, Id, refusal_message
from fursa.console.clients import Training
from fursa.console.pages import CheckedForm, PagesDep, Person
from fursa.console.services import ServiceProblem, TrainingClient
from fursa.console.signin import CurrentPerson
from fursa.shared.clock import CASABLANCA

router = APIRouter()

MARK_REASONS = ("entry_error", "late_arrival", "excuse_presented", "new_information")
SCORE_REASONS = ("entry_error", "remarked")


def class_url(center_id: str, class_name: str) -> str:
    return f"/centers/{center_id}/classes/{quote(class_name)}"


def mark_of(line: dict[str, Any]) -> str:
    """A learner's mark at a session, as the call names it."""
    if line["present"]:
        return "present"
    return "excused" if line["excused"] else "absent"


def when_corrected(correction: dict[str, Any]) -> dict[str, Any]:
    """The correction with its local day and time (the service keeps the instant in UTC)."""
    moment = datetime.fromisoformat(correction["corrected_at"]).astimezone(CASABLANCA)
    return correction | {"day": moment.date(), "time": moment.strftime("%H:%M")}


def _refused(refusal: ServiceProblem) -> str:
    """What to tell the educator beside the form; a refusal of the person themselves (signed
    out, not their role) or a service's fault goes on to the console's error pages."""
    if refusal.status in (401, 403) or refusal.status >= 500:
        raise refusal
    return refusal_message(refusal)


async def _session_page(
    request: Request,
    pages: PagesDep,
    person: Person,
    training: TrainingClient,
    center_id: str,
    class_name: str,
    session_id: str,
    *,
    values: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
) -> Response:
    held = await training.session(session_id)
    return pages.render(
        request,
        "class_session.html",
        status_code=status_code,
        person=person,
        center_id=center_id,
        class_name=class_name,
        held=held,
        marks=MARKS,
        mark_of=mark_of,
        reasons=MARK_REASONS,
        values=values or {},
        problem=problem,
    )


@router.get("/centers/{center_id}/classes/{class_name}/sessions/{session_id}")
async def class_session(
    request: Request,
    center_id: Id,
    class_name: Id,
    session_id: Id,
    person: CurrentPerson,
    pages: PagesDep,
    training: Training,
) -> Response:
    """A past session's call, each learner's mark as it stands, and the form to correct one."""
    return await _session_page(request, pages, person, training, center_id, class_name, session_id)


@router.post("/centers/{center_id}/classes/{class_name}/sessions/{session_id}/correction")
async def correct_mark(
    request: Request,
    center_id: Id,
    class_name: Id,
    session_id: Id,
    person: CurrentPerson,
    pages: PagesDep,
    training: Training,
    form: CheckedForm,
) -> Response:
    """Correct one learner's mark at the session; their page then shows it in the history."""
    training_id = str(form.get("training_id") or "")
    mark = str(form.get("mark") or "")
    body = {
        "present": mark == "present",
        "excused": mark == "excused",
        "reason": str(form.get("reason") or ""),
    }
    problem = ""
    if mark not in MARKS or not training_id or body["reason"] not in MARK_REASONS:
        problem = pages.gettext(request, "Choose the learner, the right mark and the reason.")
    else:
        try:
            await training.correct_mark(session_id, training_id, body)
        except ServiceProblem as refusal:
            problem = _refused(refusal)
    if problem:
        values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        return await _session_page(
            request,
            pages,
            person,
            training,
            center_id,
            class_name,
            session_id,
            values=values,
            problem=problem,
            status_code=422,
        )
    request.session["corrected"] = "mark"
    return RedirectResponse(
        f"{class_url(center_id, class_name)}/learners/{training_id}", status_code=303
    )


async def _learner_page(
    request: Request,
    pages: PagesDep,
    person: Person,
    training: TrainingClient,
    center_id: str,
    class_name: str,
    training_id: str,
    *,
    values: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
) -> Response:
    record, progress, assessments, history, roster, sessions = await asyncio.gather(
        training.call("GET", f"/trainings/{training_id}"),
        training.progress(training_id),
        training.assessments_of(training_id),
        training.corrections_of(training_id),
        training.roster(center_id, class_name),
        training.class_sessions(center_id, class_name),
    )
    names = {line["training_id"]: line for line in roster}
    # What each correction corrected: a mark at one of the class's sessions, or a score.
    entries = {s["id"]: s for s in sessions} | {
        a["id"]: {"module": a["module"], "held_on": a["assessed_on"]} for a in assessments
    }
    return pages.render(
        request,
        "class_learner.html",
        status_code=status_code,
        person=person,
        center_id=center_id,
        class_name=class_name,
        record=record,
        line=names.get(training_id, {}),
        progress=progress,
        assessments=list(reversed(assessments)),
        history=[when_corrected(c) for c in reversed(history)],
        entries=entries,
        reasons=SCORE_REASONS,
        mark_of=mark_of,
        corrected=request.session.pop("corrected", None),
        values=values or {},
        problem=problem,
    )


@router.get("/centers/{center_id}/classes/{class_name}/learners/{training_id}")
async def class_learner(
    request: Request,
    center_id: Id,
    class_name: Id,
    training_id: Id,
    person: CurrentPerson,
    pages: PagesDep,
    training: Training,
) -> Response:
    """A learner's progress in the class, their scores and the history of their corrections."""
    return await _learner_page(request, pages, person, training, center_id, class_name, training_id)


@router.post("/centers/{center_id}/classes/{class_name}/learners/{training_id}/score")
async def correct_score(
    request: Request,
    center_id: Id,
    class_name: Id,
    training_id: Id,
    person: CurrentPerson,
    pages: PagesDep,
    training: Training,
    form: CheckedForm,
) -> Response:
    """Correct one of the learner's scores (the paper marked again, a mistyped score)."""
    score = str(form.get("score") or "").strip().replace(",", ".")
    body = {
        "score": float(score) if score.replace(".", "", 1).isdigit() else score,
        "reason": str(form.get("reason") or ""),
    }
    problem = ""
    if not score or body["reason"] not in SCORE_REASONS:
        problem = pages.gettext(request, "Give the right score out of 20 and the reason.")
    else:
        try:
            await training.correct_score(str(form.get("assessment_id") or "-"), body)
        except ServiceProblem as refusal:
            problem = _refused(refusal)
    if problem:
        return await _learner_page(
            request,
            pages,
            person,
            training,
            center_id,
            class_name,
            training_id,
            values={k: str(v) for k, v in form.items() if isinstance(v, str)},
            problem=problem,
            status_code=422,
        )
    request.session["corrected"] = "score"
    return RedirectResponse(
        f"{class_url(center_id, class_name)}/learners/{training_id}", status_code=303
    )


@router.post("/centers/{center_id}/classes/{class_name}/learners/{training_id}/completion")
async def complete_training(
    request: Request,
    center_id: Id,
    class_name: Id,
    training_id: Id,
    person: CurrentPerson,
    pages: PagesDep,
    training: Training,
    _form: CheckedForm,
) -> Response:
    """Mark the training completed (passed): the service checks the completion rule."""
    try:
        await training.complete(training_id)
    except ServiceProblem as refusal:
        return await _learner_page(
            request,
            pages,
            person,
            training,
            center_id,
            class_name,
            training_id,
            problem=_refused(refusal),
            status_code=409 if refusal.status == 409 else 422,
        )
    request.session["corrected"] = "completed"
    return RedirectResponse(
        f"{class_url(center_id, class_name)}/learners/{training_id}", status_code=303
    )
