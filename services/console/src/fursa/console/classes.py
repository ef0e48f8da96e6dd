"""Educators' classes: a center's classes, a class's roster, and attendance for a session taken
in a few taps on a phone. The attendance form works as a plain form; with the console's script
it is also kept on the device (IndexedDB) until the training service has it, so a session
called while the center's connection is down is sent when it returns (static/attendance.js)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from fursa.console import offline
from fursa.console.clients import Enrollment, Training
from fursa.console.learners import center_names
from fursa.console.pages import CheckedForm, PagesDep, Person
from fursa.console.services import ServiceProblem, TrainingClient
from fursa.console.signin import CurrentPerson
from fursa.shared.clock import local_today

router = APIRouter()

Id = Annotated[str, Path(max_length=64)]
MARKS = ("present", "absent", "excused")


@router.get("/classes")
async def my_classes(
    request: Request,
    person: CurrentPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    training: Training,
) -> Response:
    """The classes of each center the person works with (an educator: their own)."""
    language = pages.language(request)
    centers = center_names(await enrollment.centers(), language)
    if person.principal.center_id:
        centers = {person.principal.center_id: centers.get(person.principal.center_id, "")}
    classes = await asyncio.gather(*(training.classes(center) for center in centers))
    due = await asyncio.gather(*(training.follow_ups_due(center) for center in centers))
    return pages.render(
        request,
        "classes.html",
        person=person,
        centers=[
            {"id": center, "name": name, "classes": found, "due": week["due"]}
            for (center, name), found, week in zip(centers.items(), classes, due, strict=True)
        ],
        done=request.session.pop("done", None),
    )


@router.get("/sw.js", include_in_schema=False)
async def service_worker() -> Response:
    """The service worker, from the root so that its scope covers the class pages. Browsers
    compare its bytes on every visit (``no-cache``) and install a release's new one."""
    return Response(
        offline.service_worker(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )


@router.post("/centers/{center_id}/classes")
async def start_class(
    center_id: Id, training: Training, form: CheckedForm, _person: CurrentPerson
) -> Response:
    """Put the center's learners who are in no class yet into the class named."""
    class_name = str(form.get("class_name") or "").strip().replace("/", "-")[:64] or "A"
    open_trainings, classes = await asyncio.gather(
        training.call("GET", "/trainings", params={"status": "open", "limit": 1000}),
        training.classes(center_id),
    )
    named = [c["class_name"] for c in classes if c["class_name"]]
    rosters = await asyncio.gather(*(training.roster(center_id, name) for name in named))
    placed = {line["training_id"] for roster in rosters for line in roster}
    await asyncio.gather(
        *(
            training.call("PUT", f"/trainings/{t['id']}/class", json={"class_name": class_name})
            for t in open_trainings
            if t["center_id"] == center_id and t["id"] not in placed
        )
    )
    return RedirectResponse(f"/centers/{center_id}/classes/{quote(class_name)}", status_code=303)


async def class_modules(training: TrainingClient, center_id: str) -> list[str]:
    """The modules a class can be called or assessed for: those of the pathways of the
    center's open trainings."""
    open_trainings, curriculum = await asyncio.gather(
        training.call("GET", "/trainings", params={"status": "open", "limit": 1000}),
        training.call("GET", "/curriculum", params={"center_id": center_id}),
    )
    pathways = {t["pathway"] for t in open_trainings if t["center_id"] == center_id}
    return sorted(
        {
            module["module"]
            for plan in curriculum["pathways"]
            if plan["pathway"] in pathways
            for module in plan["modules"]
        }
    )


def refusal_message(refusal: ServiceProblem) -> str:
    """What the training service said when it refused an entry, each line's reason with it."""
    return " ".join([refusal.detail, *refusal.field_errors().values()])


async def _roster_page(
    request: Request,
    pages: PagesDep,
    person: Person,
    training: TrainingClient,
    center_id: str,
    class_name: str,
    *,
    values: dict[str, str] | None = None,
    problem: str = "",
    recorded: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    roster, modules, sessions = await asyncio.gather(
        training.roster(center_id, class_name),
        class_modules(training, center_id),
        training.class_sessions(center_id, class_name),
    )
    return pages.render(
        request,
        "roster.html",
        status_code=status_code,
        person=person,
        center_id=center_id,
        class_name=class_name,
        roster=roster,
        modules=modules,
        sessions=sessions,
        values=values or {"held_on": local_today().isoformat(), "hours": "2"},
        marks=MARKS,
        problem=problem,
        recorded=recorded,
    )


@router.get("/centers/{center_id}/classes/{class_name}")
async def class_roster(
    request: Request,
    center_id: Id,
    class_name: Id,
    person: CurrentPerson,
    pages: PagesDep,
    training: Training,
) -> Response:
    recorded = request.session.pop("recorded", None)
    return await _roster_page(
        request, pages, person, training, center_id, class_name, recorded=recorded
    )


def session_body(form: FormData, class_name: str) -> dict[str, Any]:
    """The attendance form as the training service's session: every learner of the call with
    their mark (present unless tapped absent or excused)."""
    marks = {
        str(name).removeprefix("mark-"): str(value)
        for name, value in form.multi_items()
        if str(name).startswith("mark-")
    }
    hours = str(form.get("hours") or "")
    return {
        "module": str(form.get("module") or ""),
        "held_on": str(form.get("held_on") or ""),
        "hours": float(hours) if hours.replace(".", "", 1).isdigit() else hours,
        "class_name": class_name,
        "attendance": [
            {"training_id": training_id, "present": mark == "present", "excused": mark == "excused"}
            for training_id, mark in marks.items()
        ],
    }


def _conflict_message(pages: PagesDep, request: Request) -> str:
    return pages.gettext(
        request,
        "This class's attendance for this module and day was already recorded (by you or a "
        "colleague): it was not recorded twice.",
    )


@router.post("/centers/{center_id}/classes/{class_name}/attendance")
async def take_attendance(
    request: Request,
    center_id: Id,
    class_name: Id,
    person: CurrentPerson,
    pages: PagesDep,
    training: Training,
    form: CheckedForm,
) -> Response:
    """Record a session's attendance. The script (``Accept: application/json``) learns
    whether it was recorded, already recorded (the same class, module and day: the training
    service's unique key makes a resend a no-op) or refused; a plain form gets the page."""
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        session = await training.record_session(session_body(form, class_name))
    except ServiceProblem as refusal:
        if refusal.status in (401, 403) or refusal.status >= 500:
            raise
        conflict = refusal.status == 409
        message = _conflict_message(pages, request) if conflict else refusal_message(refusal)
        if wants_json:
            return JSONResponse(
                {"status": "conflict" if conflict else "refused", "message": message}
            )
        values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        return await _roster_page(
            request,
            pages,
            person,
            training,
            center_id,
            class_name,
            values=values,
            problem=message,
            status_code=409 if conflict else 422,
        )
    if wants_json:
        return JSONResponse({"status": "recorded", "session_id": session["id"]})
    request.session["recorded"] = {"present": session["present"], "learners": session["learners"]}
    return RedirectResponse(f"/centers/{center_id}/classes/{quote(class_name)}", status_code=303)
