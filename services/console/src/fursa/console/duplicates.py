"""Association staff review the possible duplicates the enrollment service found: each pair side
by side, why it looks like one person, and their decision — the same person (the later record
merges into the earlier one, which stays) or two different people. A decided pair leaves the
queue; the service merges, refuses (both records still enrolled) and records who decided."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from fursa.console.clients import Enrollment
from fursa.console.learners import center_names
from fursa.console.pages import CheckedForm, PagesDep, Person
from fursa.console.services import EnrollmentClient, ServiceProblem
from fursa.console.signin import EnrollingPerson

router = APIRouter()

Id = Annotated[str, Path(max_length=64)]
PAGE_SIZE = 20


def likeness(later: dict[str, Any], earlier: dict[str, Any]) -> list[str]:
    """What the two records share, in the words the page says (see likeness_name.html)."""
    reasons = []
    if later.get("massar_code") and later["massar_code"] == earlier.get("massar_code"):
        reasons.append("same_massar_code")
    names = ("first_name_ar", "last_name_ar", "first_name_latin", "last_name_latin")
    same_name = all(
        (later.get(name) or "").casefold() == (earlier.get(name) or "").casefold() for name in names
    )
    reasons.append("same_name" if same_name else "similar_names")
    same_birth = later.get("birth_date") == earlier.get("birth_date")
    reasons.append("same_birth_date" if same_birth else "close_birth_dates")
    phone = later["guardian"].get("phone")
    if phone and phone == earlier["guardian"].get("phone"):
        reasons.append("same_guardian_phone")
    return reasons


async def _record(
    enrollment: EnrollmentClient, learner_id: str, centers: dict[str, str]
) -> dict[str, Any]:
    """A learner's record, with the center of their latest enrolment."""
    learner, enrolments = await asyncio.gather(
        enrollment.learner(learner_id), enrollment.enrollments_of(learner_id)
    )
    latest = max(enrolments, key=lambda item: item["school_year"], default=None)
    return {**learner, "center": centers.get(latest["center_id"], "") if latest else ""}


async def _pair(
    enrollment: EnrollmentClient, learner_id: str, earlier_learner_id: str, centers: dict[str, str]
) -> dict[str, Any]:
    later, earlier = await asyncio.gather(
        _record(enrollment, learner_id, centers),
        _record(enrollment, earlier_learner_id, centers),
    )
    return {"later": later, "earlier": earlier, "likeness": likeness(later, earlier)}


async def _centers(
    request: Request, pages: PagesDep, enrollment: EnrollmentClient
) -> dict[str, str]:
    return center_names(await enrollment.centers(), pages.language(request))


async def _queue_page(
    request: Request,
    person: Person,
    pages: PagesDep,
    enrollment: EnrollmentClient,
    *,
    problem: str = "",
    status_code: int = 200,
) -> Response:
    reviews, centers = await asyncio.gather(
        enrollment.possible_duplicates(PAGE_SIZE), _centers(request, pages, enrollment)
    )
    pairs = await asyncio.gather(
        *(
            _pair(enrollment, review["learner_id"], review["earlier_learner_id"], centers)
            for review in reviews
        )
    )
    return pages.render(
        request,
        "duplicates.html",
        status_code=status_code,
        person=person,
        pairs=[
            pair | {"score": review["score"]} for pair, review in zip(pairs, reviews, strict=True)
        ],
        page_size=PAGE_SIZE,
        done=request.session.pop("done_duplicate", None),
        problem=problem,
    )


async def _merge_page(
    request: Request,
    person: Person,
    pages: PagesDep,
    enrollment: EnrollmentClient,
    learner_id: str,
    earlier_learner_id: str,
    *,
    problem: str = "",
    status_code: int = 200,
) -> Response:
    centers = await _centers(request, pages, enrollment)
    pair = await _pair(enrollment, learner_id, earlier_learner_id, centers)
    return pages.render(
        request,
        "duplicate_merge.html",
        status_code=status_code,
        person=person,
        pair=pair,
        problem=problem,
    )


def _refusal(refusal: ServiceProblem) -> str:
    """The service's reason for refusing a decision (a pair already decided, two records
    both enrolled); other failures go on to the console's own pages."""
    if refusal.status not in (409, 422):
        raise refusal
    return refusal.detail


@router.get("/duplicates")
async def review_queue(
    request: Request, person: EnrollingPerson, pages: PagesDep, enrollment: Enrollment
) -> Response:
    return await _queue_page(request, person, pages, enrollment)


@router.get("/duplicates/{learner_id}/{earlier_learner_id}/merge")
async def merge_confirmation(
    request: Request,
    learner_id: Id,
    earlier_learner_id: Id,
    person: EnrollingPerson,
    pages: PagesDep,
    enrollment: Enrollment,
) -> Response:
    return await _merge_page(request, person, pages, enrollment, learner_id, earlier_learner_id)


@router.post("/duplicates/{learner_id}/{earlier_learner_id}/merge")
async def merge(
    request: Request,
    learner_id: Id,
    earlier_learner_id: Id,
    person: EnrollingPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    _form: CheckedForm,
) -> Response:
    try:
        await enrollment.decide_duplicate(learner_id, earlier_learner_id, same_person=True)
    except ServiceProblem as refusal:
        return await _merge_page(
            request,
            person,
            pages,
            enrollment,
            learner_id,
            earlier_learner_id,
            problem=_refusal(refusal),
            status_code=409,
        )
    return _decided(request, "merged")


@router.post("/duplicates/{learner_id}/{earlier_learner_id}/different")
async def different_people(
    request: Request,
    learner_id: Id,
    earlier_learner_id: Id,
    person: EnrollingPerson,
    pages: PagesDep,
    enrollment: Enrollment,
    _form: CheckedForm,
) -> Response:
    try:
        await enrollment.decide_duplicate(learner_id, earlier_learner_id, same_person=False)
    except ServiceProblem as refusal:
        return await _queue_page(
            request, person, pages, enrollment, problem=_refusal(refusal), status_code=409
        )
    return _decided(request, "different")


def _decided(request: Request, what: str) -> Response:
    """Back to the queue, which says what was decided."""
    request.session["done_duplicate"] = what
    return RedirectResponse("/duplicates", status_code=303)
