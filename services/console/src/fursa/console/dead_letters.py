"""Administrators' dead letters: for one service at a time, the events its consumers could
not apply (type, why, when, how many deliveries — never the event itself, which the
services do not list), a replay or a confirmed discard of each, and the trail of both.

Why an event failed is told in the person's language from the kind of failure the consumer
recorded (the start of its error); the service's own words, in English, stay one click away
for the operator who fixes the cause."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from fursa.console.clients import Operations
from fursa.console.pages import CheckedForm, PagesDep
from fursa.console.services import ServiceProblem
from fursa.console.signin import CurrentPerson

router = APIRouter()

Service = Literal["enrollment", "training", "certification", "notify"]
SERVICES: tuple[Service, ...] = get_args(Service)
TRAIL_ACTIONS = ("dead_letter.replayed", "dead_letter.discarded")
TRAIL_LENGTH = 20
DeadLetterId = Annotated[int, Path(ge=1, le=2**63 - 1)]

FailureKind = Literal["invalid", "unprocessable", "exhausted", "other"]
# How the shared consumer starts the error it records, by kind of failure.
FAILURE_PREFIXES: dict[str, FailureKind] = {
    "invalid event:": "invalid",
    "unprocessable:": "unprocessable",
    "failed on last delivery:": "exhausted",
}


def failure_kind(error: str) -> FailureKind:
    """The kind of failure a dead letter's error records: an event the service cannot read,
    one its rules refuse, one that kept failing until its last delivery, or another."""
    return next(
        (kind for prefix, kind in FAILURE_PREFIXES.items() if error.startswith(prefix)), "other"
    )


@router.get("/dead-letters")
async def dead_letters(
    request: Request,
    person: CurrentPerson,
    pages: PagesDep,
    operations: Operations,
    service: Annotated[Service, Query()] = "enrollment",
) -> Response:
    client = operations[service]
    trail = [entry for action in TRAIL_ACTIONS for entry in await client.audit(action, 1000)]
    trail.sort(key=lambda entry: int(entry["id"]), reverse=True)
    return pages.render(
        request,
        "dead_letters.html",
        person=person,
        services=SERVICES,
        service=service,
        dead_letters=[
            {**letter, "failure": failure_kind(letter["error"])}
            for letter in await client.dead_letters()
        ],
        trail=trail[:TRAIL_LENGTH],
        done=request.session.pop("done", None),
    )


@router.post("/dead-letters/{service}/{dead_letter_id}/{action}")
async def settle(
    request: Request,
    service: Service,
    dead_letter_id: DeadLetterId,
    action: Literal["replay", "discard"],
    operations: Operations,
    form: CheckedForm,
) -> Response:
    """Replay the dead letter or discard it; the service records either in its trail."""
    client = operations[service]
    consumer = str(form.get("consumer") or "")
    try:
        if action == "replay":
            await client.replay(dead_letter_id, consumer)
        else:
            await client.discard(dead_letter_id, consumer)
    except ServiceProblem as refusal:
        if refusal.status != 409:
            raise
        request.session["done"] = {"failed": dead_letter_id, "detail": refusal.detail}
    else:
        request.session["done"] = {action: dead_letter_id}
    return RedirectResponse(f"/dead-letters?service={service}", status_code=303)
