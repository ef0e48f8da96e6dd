"""Waiting lists across centers: when a center's pathway is full, the nearest centers of the
province with room, a place taken there at once, and the demand the province leaves unmet.

A center's name, commune and free places are the programme's reference data, not a learner's:
staff see every center of their learner's province that has room, and may place the learner at
those they may see (their association's, or any for the directorate). Unmet demand is counted
per center, pathway and commune, with the small-cell suppression of the published statistics.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sqlalchemy
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.enrollment import audit, domain, events, places
from fursa.enrollment.domain import EnrollmentStatus
from fursa.enrollment.models import Center, CenterCapacity, Enrollment, Learner, Transfer
from fursa.enrollment.nearby import Location, OpenIntake, distance_km, nearest_first
from fursa.enrollment.places import Intake
from fursa.enrollment.service import (
    CenterFull,
    CenterNotFound,
    EnrollmentNotFound,
    EnrollmentService,
    EnrollmentView,
    new_id,
    sees_center,
    visible_centers,
)
from fursa.shared.auth import Principal
from fursa.shared.clock import local_today
from fursa.shared.contracts import Pathway
from fursa.shared.messaging.outbox import UnitOfWork
from fursa.shared.publication import publishable


@dataclass(frozen=True)
class PlacesNearby:
    """For one enrollment: where it waits, and the open intakes of its province."""

    enrollment_id: str
    center_id: str
    pathway: Pathway
    school_year: str
    status: EnrollmentStatus
    open_intakes: list[OpenIntake]
    placeable: frozenset[str]


@dataclass(frozen=True)
class Demand:
    """One center's intake: its places (``None``: no limit), learners holding one, learners
    waiting (``None`` when suppressed for publication)."""

    center_id: str
    center_name: str
    center_name_ar: str | None
    commune: str
    pathway: Pathway
    school_year: str
    places: int | None
    enrolled: int | None
    waitlisted: int | None


@dataclass(frozen=True)
class CommuneDemand:
    commune: str
    pathway: Pathway
    school_year: str
    free_places: int | None
    waitlisted: int | None


def _location(center: Center) -> Location | None:
    if center.latitude is None or center.longitude is None:
        return None
    return Location(center.latitude, center.longitude)


async def _counts(
    session: AsyncSession, center_ids: list[str], pathway: Pathway, school_year: str
) -> Counter[tuple[str, str]]:
    """Learners per (center, status) on one pathway and school year."""
    query = (
        select(col(Enrollment.center_id), col(Enrollment.status), func.count())
        .where(
            col(Enrollment.center_id).in_(center_ids),
            col(Enrollment.pathway) == pathway,
            col(Enrollment.school_year) == school_year,
        )
        .group_by(col(Enrollment.center_id), col(Enrollment.status))
    )
    found = (await session.execute(query)).all()
    return Counter({(str(c), str(s)): int(n) for c, s, n in found})


class WaitingLists:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def places_nearby(self, enrollment_id: str, *, scope: Principal) -> PlacesNearby:
        """The centers of the enrollment's province that take one more learner on its pathway
        this school year, nearest first; raises :class:`EnrollmentNotFound` outside ``scope``."""
        async with self.uow.read() as session:
            enrollment = await session.get(Enrollment, enrollment_id)
            home = None if enrollment is None else await session.get(Center, enrollment.center_id)
            if enrollment is None or home is None or not sees_center(scope, home):
                raise EnrollmentNotFound(enrollment_id)
            others = (
                await session.exec(
                    select(Center).where(
                        col(Center.province_code) == home.province_code,
                        col(Center.id) != home.id,
                    )
                )
            ).all()
            ids = [center.id for center in others]
            capacities = {
                capacity.center_id: capacity.places
                for capacity in (
                    await session.exec(
                        select(CenterCapacity).where(
                            col(CenterCapacity.center_id).in_(ids),
                            col(CenterCapacity.pathway) == enrollment.pathway,
                            col(CenterCapacity.school_year) == enrollment.school_year,
                        )
                    )
                ).all()
            }
            counts = await _counts(session, ids, enrollment.pathway, enrollment.school_year)
            placeable = frozenset(
                center.id
                for center in (
                    await session.exec(
                        select(Center).where(col(Center.id).in_(ids), visible_centers(scope))
                    )
                ).all()
            )
        here = _location(home)
        open_intakes = []
        for center in others:
            room = places.Room(
                places=capacities.get(center.id),
                enrolled=counts[(center.id, EnrollmentStatus.ENROLLED)],
                waiting=counts[(center.id, EnrollmentStatus.WAITLISTED)],
            )
            if not room.takes_one_more:
                continue
            there = _location(center)
            open_intakes.append(
                OpenIntake(
                    center_id=center.id,
                    name=center.name,
                    name_ar=center.name_ar,
                    commune=center.commune,
                    association_id=center.association_id,
                    free_places=None if room.places is None else room.places - room.enrolled,
                    distance_km=None
                    if here is None or there is None
                    else round(distance_km(here, there), 1),
                    same_commune=center.commune.casefold() == home.commune.casefold(),
                )
            )
        return PlacesNearby(
            enrollment_id=enrollment.id,
            center_id=home.id,
            pathway=enrollment.pathway,
            school_year=enrollment.school_year,
            status=enrollment.status,
            open_intakes=nearest_first(open_intakes),
            placeable=placeable,
        )

    async def take_place_elsewhere(
        self, enrollment_id: str, *, center_id: str, scope: Principal
    ) -> EnrollmentView:
        """Enrol a waiting learner at once at another center with room (same pathway and
        year), out of the line it waited in; the move is kept in its history.

        Publishes learner-enrolled for the new center (as a promotion from a waiting list).
        Raises :class:`CenterFull` when the center has no free place, or someone waits there.
        """
        async with self.uow.begin() as tx:
            session = tx.session
            enrollment = await session.get(Enrollment, enrollment_id, with_for_update=True)
            home = None if enrollment is None else await session.get(Center, enrollment.center_id)
            if enrollment is None or home is None or not sees_center(scope, home):
                raise EnrollmentNotFound(enrollment_id)
            center = await session.get(Center, center_id)
            if center is None or not sees_center(scope, center):
                raise CenterNotFound(center_id)
            origin = Intake.of(enrollment)
            destination = Intake(center_id, enrollment.pathway, enrollment.school_year)
            # Both capacity rows, in one order (as a transfer does): never a deadlock.
            rooms = {
                intake: await places.lock(session, intake)
                for intake in sorted({origin, destination}, key=lambda i: i.center_id)
            }
            left = domain.take_place_elsewhere(enrollment, to_center_id=center_id, on=local_today())
            if not rooms[destination].takes_one_more:
                raise CenterFull(center_id=center_id)
            enrollment.association_id = center.association_id
            session.add(enrollment)
            session.add(
                Transfer(
                    id=new_id(),
                    enrollment_id=enrollment.id,
                    from_center_id=left,
                    to_center_id=center_id,
                    transferred_on=local_today(),
                    recorded_by=scope.subject,
                )
            )
            learner = await session.get(Learner, enrollment.learner_id)
            assert learner is not None
            await tx.emit(
                events.learner_enrolled(enrollment, center, learner, promoted=True),
                subject=enrollment.id,
                sequence=enrollment.version,
            )
            audit.record(
                session,
                scope,
                "enrollment.placed_elsewhere",
                entity="enrollment",
                entity_id=enrollment.id,
                learner_id=enrollment.learner_id,
                details={"from_center_id": left, "to_center_id": center_id},
            )
        return await EnrollmentService(self.uow).get(enrollment_id, scope=scope)

    async def demand(
        self, *, scope: Principal, school_year: str | None = None, publication: bool = False
    ) -> tuple[list[Demand], list[CommuneDemand]]:
        """Per center and pathway within ``scope``: places, enrolled and waiting learners; and
        per commune: the free places and the learners waiting (unmet demand)."""
        query = (
            sqlalchemy.select(
                Center,
                col(Enrollment.pathway),
                col(Enrollment.school_year),
                col(Enrollment.status),
                func.count(),
            )
            .join(Center, col(Center.id) == col(Enrollment.center_id))
            .where(
                visible_centers(scope),
                col(Enrollment.status).in_(
                    [EnrollmentStatus.ENROLLED, EnrollmentStatus.WAITLISTED]
                ),
            )
            .group_by(
                col(Center.id),
                col(Enrollment.pathway),
                col(Enrollment.school_year),
                col(Enrollment.status),
            )
        )
        capacities = sqlalchemy.select(CenterCapacity, Center).join(
            Center, col(Center.id) == col(CenterCapacity.center_id)
        )
        capacities = capacities.where(visible_centers(scope))
        if school_year is not None:
            query = query.where(col(Enrollment.school_year) == school_year)
            capacities = capacities.where(col(CenterCapacity.school_year) == school_year)
        async with self.uow.read() as session:
            counted = (await session.execute(query)).all()
            limits = (await session.execute(capacities)).all()
        centers: dict[str, Center] = {}
        counts: Counter[tuple[str, str, str, str]] = Counter()
        for center, pathway, year, status, n in counted:
            centers[center.id] = center
            counts[(center.id, str(pathway), str(year), str(status))] += int(n)
        places_of: dict[tuple[str, str, str], int] = {}
        for capacity, center in limits:
            centers[center.id] = center
            places_of[(center.id, str(capacity.pathway), capacity.school_year)] = capacity.places
        intakes = sorted(
            {(c, p, y) for c, p, y, _ in counts} | set(places_of),
            key=lambda k: (centers[k[0]].name, k[1], k[2]),
        )
        shown = publishable if publication else int
        rows = []
        communes: dict[tuple[str, str, str], list[int]] = {}
        for center_id, pathway, year in intakes:
            center = centers[center_id]
            enrolled = counts[(center_id, pathway, year, EnrollmentStatus.ENROLLED)]
            waiting = counts[(center_id, pathway, year, EnrollmentStatus.WAITLISTED)]
            limit = places_of.get((center_id, pathway, year))
            rows.append(
                Demand(
                    center_id=center_id,
                    center_name=center.name,
                    center_name_ar=center.name_ar,
                    commune=center.commune,
                    pathway=Pathway(pathway),
                    school_year=year,
                    places=limit,
                    enrolled=shown(enrolled),
                    waitlisted=shown(waiting),
                )
            )
            commune = communes.setdefault((center.commune, pathway, year), [0, 0])
            commune[0] += 0 if limit is None else max(limit - enrolled, 0)
            commune[1] += waiting
        return rows, [
            CommuneDemand(
                commune=commune,
                pathway=Pathway(pathway),
                school_year=year,
                free_places=free,
                waitlisted=shown(waited),
            )
            for (commune, pathway, year), (free, waited) in sorted(communes.items())
        ]
