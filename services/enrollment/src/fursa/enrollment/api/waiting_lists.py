"""Waiting lists across centers over HTTP: the places nearby for a waiting learner, taking one,
and the unmet demand by center and commune."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from fursa.enrollment.api.common import Enrollments, Id, Writer, refused
from fursa.enrollment.api.enrollments import EnrollmentPublic
from fursa.enrollment.domain import EnrollmentStatus, Refused
from fursa.enrollment.service import CenterNotFound, EnrollmentNotFound
from fursa.enrollment.waiting_lists import CommuneDemand, Demand, WaitingLists
from fursa.shared.auth import Staff
from fursa.shared.contracts import Pathway
from fursa.shared.contracts.common import SchoolYear, Uuid
from fursa.shared.problems import Problem

router = APIRouter(tags=["waiting lists"])


async def waiting_lists(service: Enrollments) -> WaitingLists:
    return WaitingLists(service.uow)


Lists = Annotated[WaitingLists, Depends(waiting_lists)]


class OpenIntakePublic(BaseModel):
    center_id: str
    name: str
    name_ar: str | None
    commune: str
    association_id: str
    free_places: int | None
    distance_km: float | None
    same_commune: bool
    can_place: bool


class PlacesNearbyPublic(BaseModel):
    """Where the learner waits, and the centers of the province with room on its pathway this
    school year, nearest first (``free_places`` null: no limit set; ``can_place``: the caller
    may place the learner there)."""

    enrollment_id: str
    center_id: str
    pathway: Pathway
    school_year: str
    status: EnrollmentStatus
    open_intakes: list[OpenIntakePublic]


class PlaceElsewhereRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    center_id: Uuid


class DemandPublic(BaseModel):
    center_id: str
    center_name: str
    center_name_ar: str | None
    commune: str
    pathway: Pathway
    school_year: str
    places: int | None
    enrolled: int | None
    waitlisted: int | None

    @classmethod
    def of(cls, row: Demand) -> DemandPublic:
        return cls.model_validate(row, from_attributes=True)


class CommuneDemandPublic(BaseModel):
    commune: str
    pathway: Pathway
    school_year: str
    free_places: int | None
    waitlisted: int | None

    @classmethod
    def of(cls, row: CommuneDemand) -> CommuneDemandPublic:
        return cls.model_validate(row, from_attributes=True)


class DemandReport(BaseModel):
    """Places, learners holding one and learners waiting, per center intake and per commune
    (``null``: suppressed, 1 to 4 learners, with ``publication=true``)."""

    publication: bool
    centers: list[DemandPublic]
    communes: list[CommuneDemandPublic]


@router.get("/enrollments/{enrollment_id}/places-nearby")
async def places_nearby(enrollment_id: Id, principal: Staff, lists: Lists) -> PlacesNearbyPublic:
    """The nearest centers of the learner's province with room on its pathway this year."""
    try:
        found = await lists.places_nearby(enrollment_id, scope=principal)
    except EnrollmentNotFound:
        raise Problem.not_found() from None
    return PlacesNearbyPublic(
        enrollment_id=found.enrollment_id,
        center_id=found.center_id,
        pathway=found.pathway,
        school_year=found.school_year,
        status=found.status,
        open_intakes=[
            OpenIntakePublic(
                **OpenIntakePublic.model_validate(
                    {**vars(intake), "can_place": intake.center_id in found.placeable}
                ).model_dump()
            )
            for intake in found.open_intakes
        ],
    )


@router.post("/enrollments/{enrollment_id}/place-elsewhere")
async def place_elsewhere(
    enrollment_id: Id, body: PlaceElsewhereRequest, principal: Writer, lists: Lists
) -> EnrollmentPublic:
    """A waiting learner takes a place at another center with room (same pathway and year):
    enrolled there at once, out of the line; publishes learner-enrolled for that center."""
    try:
        view = await lists.take_place_elsewhere(
            enrollment_id, center_id=body.center_id, scope=principal
        )
    except EnrollmentNotFound:
        raise Problem.not_found() from None
    except CenterNotFound:
        raise Problem.rule("unknown_center", status=404, center_id=body.center_id) from None
    except Refused as exc:
        raise refused(exc) from None
    return EnrollmentPublic.of_view(view)


@router.get("/statistics/demand", tags=["statistics"])
async def demand(
    request: Request,
    principal: Staff,
    lists: Lists,
    school_year: SchoolYear | None = None,
    publication: bool = False,
) -> DemandReport:
    """Unmet demand within the caller's scope: each center intake's places, enrolled and
    waiting learners, and per commune the free places beside the learners waiting."""
    centers, communes = await lists.demand(
        scope=principal, school_year=school_year, publication=publication
    )
    return DemandReport(
        publication=publication,
        centers=[DemandPublic.of(row) for row in centers],
        communes=[CommuneDemandPublic.of(row) for row in communes],
    )
