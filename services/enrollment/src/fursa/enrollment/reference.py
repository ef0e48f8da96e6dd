"""Reference data: associations, centers (capacity, workshops), school years and partnership
agreements (the referrals that arrive through them are the ``referral_desk``'s).

Administrators set up associations, centers and school years; an association's staff set the
capacity and workshops of its own centers and record its own agreements.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, func, inspect, or_
from sqlmodel import col, select

from fursa.enrollment import audit
from fursa.enrollment.demo import demo_association, demo_center, demo_school_years
from fursa.enrollment.domain import EnrollmentStatus, Refused
from fursa.enrollment.models import (
    Association,
    Center,
    CenterCapacity,
    CenterWorkshop,
    Enrollment,
    PartnershipAgreement,
    SchoolYear,
)
from fursa.enrollment.places import Intake, fill_places
from fursa.enrollment.service import (
    CenterNotFound,
    UnknownSchoolYear,
    sees_center,
    visible_centers,
)
from fursa.shared.auth import Principal
from fursa.shared.contracts import Pathway
from fursa.shared.messaging.outbox import UnitOfWork

log = logging.getLogger(__name__)


class NotFound(LookupError):  # noqa: N818 - reads as what happened
    """A reference record that does not exist, or lies outside the caller's scope."""


class AlreadyExists(Refused):
    rule = "already_exists"
    conflict = True


class InvalidPeriod(Refused):
    rule = "ends_before_it_starts"


class InvalidAgeBounds(Refused):
    rule = "min_age_above_max_age"


@dataclass(frozen=True)
class CenterPlaces:
    """A center's capacity on a pathway in a school year, and how it is used."""

    pathway: Pathway
    school_year: str
    places: int
    enrolled: int
    waitlisted: int


@dataclass(frozen=True)
class CenterView:
    center: Center
    workshops: Sequence[str]
    places: Sequence[CenterPlaces]


def _check_period(starts_on: date, ends_on: date | None) -> None:
    if ends_on is not None and ends_on < starts_on:
        raise InvalidPeriod(starts_on=starts_on.isoformat(), ends_on=ends_on.isoformat())


def _check_ages(min_age: int | None, max_age: int | None) -> None:
    if min_age is not None and max_age is not None and min_age > max_age:
        raise InvalidAgeBounds(min_age=min_age, max_age=max_age)


class ReferenceData:
    """Reads and changes the programme's reference data, within the caller's scope."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    # --- associations -----------------------------------------------------------------------

    async def associations(self, *, scope: Principal) -> Sequence[Association]:
        """The associations the caller may see, by name: their own, and those that run a center
        the caller sees (a directorate's dashboard names them)."""
        running = select(col(Center.association_id)).where(visible_centers(scope))
        query = select(Association).where(
            or_(
                scope.visible(association=inspect(Association).c.id),
                col(Association.id).in_(running),
            )
        )
        async with self.uow.read() as session:
            return (await session.exec(query.order_by(col(Association.name)))).all()

    async def create_association(
        self, *, name: str, name_ar: str | None = None, by: Principal
    ) -> Association:
        """Register an association (administrators), named in French and in Arabic."""
        association = Association(id=str(uuid.uuid4()), name=name, name_ar=name_ar)
        async with self.uow.begin() as tx:
            tx.session.add(association)
            audit.record(
                tx.session,
                by,
                "association.created",
                entity="association",
                entity_id=association.id,
                details={"name": name, "name_ar": name_ar},
            )
        return association

    async def rename_association(
        self, association_id: str, *, name: str, name_ar: str | None, by: Principal
    ) -> Association:
        """Set an association's French and Arabic names (administrators)."""
        async with self.uow.begin() as tx:
            association = await tx.session.get(Association, association_id)
            if association is None:
                raise NotFound(association_id)
            before = {"name": association.name, "name_ar": association.name_ar}
            association.name, association.name_ar = name, name_ar
            tx.session.add(association)
            audit.record(
                tx.session,
                by,
                "association.renamed",
                entity="association",
                entity_id=association_id,
                details={"from": before, "to": {"name": name, "name_ar": name_ar}},
            )
        return association

    # --- centers ----------------------------------------------------------------------------

    async def centers(self, *, scope: Principal) -> Sequence[Center]:
        """The centers within ``scope``, by name."""
        query = select(Center).where(visible_centers(scope)).order_by(col(Center.name))
        async with self.uow.read() as session:
            return (await session.exec(query)).all()

    async def center(self, center_id: str, *, scope: Principal) -> CenterView:
        """A center with its workshops and the use of its places; :class:`CenterNotFound`
        outside ``scope``."""
        async with self.uow.read() as session:
            center = await session.get(Center, center_id)
            if center is None or not sees_center(scope, center):
                raise CenterNotFound(center_id)
            workshops = (
                await session.exec(
                    select(CenterWorkshop.workshop)
                    .where(col(CenterWorkshop.center_id) == center_id)
                    .order_by(col(CenterWorkshop.workshop))
                )
            ).all()
            capacities = (
                await session.exec(
                    select(CenterCapacity)
                    .where(col(CenterCapacity.center_id) == center_id)
                    .order_by(col(CenterCapacity.school_year), col(CenterCapacity.pathway))
                )
            ).all()
            used = await session.exec(
                select(Enrollment.pathway, Enrollment.school_year, Enrollment.status, func.count())
                .where(col(Enrollment.center_id) == center_id)
                .group_by(
                    col(Enrollment.pathway), col(Enrollment.school_year), col(Enrollment.status)
                )
            )
            counts = {(p, y, s): n for p, y, s, n in used.all()}
        return CenterView(
            center,
            workshops,
            [
                CenterPlaces(
                    pathway=capacity.pathway,
                    school_year=capacity.school_year,
                    places=capacity.places,
                    enrolled=counts.get(
                        (capacity.pathway, capacity.school_year, EnrollmentStatus.ENROLLED), 0
                    ),
                    waitlisted=counts.get(
                        (capacity.pathway, capacity.school_year, EnrollmentStatus.WAITLISTED), 0
                    ),
                )
                for capacity in capacities
            ],
        )

    async def create_center(
        self,
        *,
        name: str,
        name_ar: str | None = None,
        commune: str,
        province_code: str,
        region_code: str,
        association_id: str,
        latitude: float | None = None,
        longitude: float | None = None,
        by: Principal,
    ) -> Center:
        """Open a center run by an association (administrators), named in French and in
        Arabic, located when its coordinates are known."""
        center = Center(
            id=str(uuid.uuid4()),
            name=name,
            name_ar=name_ar,
            commune=commune,
            province_code=province_code,
            region_code=region_code,
            association_id=association_id,
            latitude=latitude,
            longitude=longitude,
        )
        async with self.uow.begin() as tx:
            if await tx.session.get(Association, association_id) is None:
                raise NotFound(association_id)
            tx.session.add(center)
            audit.record(
                tx.session,
                by,
                "center.created",
                entity="center",
                entity_id=center.id,
                details={"name": name, "name_ar": name_ar, "association_id": association_id},
            )
        return center

    async def rename_center(
        self, center_id: str, *, name: str, name_ar: str | None, by: Principal
    ) -> Center:
        """Set a center's French and Arabic names (administrators). Learners enrolled from
        then on carry the new names to the services that print them."""
        async with self.uow.begin() as tx:
            center = await tx.session.get(Center, center_id)
            if center is None:
                raise CenterNotFound(center_id)
            before = {"name": center.name, "name_ar": center.name_ar}
            center.name, center.name_ar = name, name_ar
            tx.session.add(center)
            audit.record(
                tx.session,
                by,
                "center.renamed",
                entity="center",
                entity_id=center_id,
                details={"from": before, "to": {"name": name, "name_ar": name_ar}},
            )
        return center

    async def locate_center(
        self, center_id: str, *, latitude: float, longitude: float, by: Principal
    ) -> Center:
        """Set where a center stands (administrators): waiting learners of its province are
        offered the nearest places first."""
        async with self.uow.begin() as tx:
            center = await tx.session.get(Center, center_id)
            if center is None:
                raise CenterNotFound(center_id)
            before = {"latitude": center.latitude, "longitude": center.longitude}
            center.latitude, center.longitude = latitude, longitude
            tx.session.add(center)
            audit.record(
                tx.session,
                by,
                "center.located",
                entity="center",
                entity_id=center_id,
                details={"from": before, "to": {"latitude": latitude, "longitude": longitude}},
            )
        return center

    async def set_capacity(
        self, center_id: str, *, pathway: Pathway, school_year: str, places: int, by: Principal
    ) -> CenterView:
        """Set how many learners a center takes on a pathway in a school year.

        More places promote learners from the waiting list at once; fewer places never
        remove anyone already enrolled.
        """
        async with self.uow.begin() as tx:
            session = tx.session
            center = await session.get(Center, center_id)
            if center is None or not sees_center(by, center):
                raise CenterNotFound(center_id)
            if await session.get(SchoolYear, school_year) is None:
                raise UnknownSchoolYear(school_year=school_year)
            capacity = await session.get(
                CenterCapacity, (center_id, pathway, school_year), with_for_update=True
            )
            before = None if capacity is None else capacity.places
            if capacity is None:
                capacity = CenterCapacity(
                    center_id=center_id, pathway=pathway, school_year=school_year, places=places
                )
            capacity.places = places
            session.add(capacity)
            await session.flush()
            audit.record(
                session,
                by,
                "center.capacity_set",
                entity="center",
                entity_id=center_id,
                details={
                    "pathway": pathway,
                    "school_year": school_year,
                    "from": before,
                    "to": places,
                },
            )
            await fill_places(tx, Intake(center_id, pathway, school_year))
        return await self.center(center_id, scope=by)

    async def set_workshops(
        self, center_id: str, *, workshops: Sequence[str], by: Principal
    ) -> CenterView:
        """Replace the list of workshops a center offers."""
        async with self.uow.begin() as tx:
            session = tx.session
            center = await session.get(Center, center_id)
            if center is None or not sees_center(by, center):
                raise CenterNotFound(center_id)
            await session.execute(
                delete(CenterWorkshop).where(col(CenterWorkshop.center_id) == center_id)
            )
            for workshop in sorted(set(workshops)):
                session.add(CenterWorkshop(center_id=center_id, workshop=workshop))
            audit.record(
                session,
                by,
                "center.workshops_set",
                entity="center",
                entity_id=center_id,
                details={"workshops": sorted(set(workshops))},
            )
        return await self.center(center_id, scope=by)

    # --- school years -----------------------------------------------------------------------

    async def school_years(self) -> Sequence[SchoolYear]:
        async with self.uow.read() as session:
            return (await session.exec(select(SchoolYear).order_by(col(SchoolYear.code)))).all()

    async def put_school_year(self, year: SchoolYear, *, by: Principal) -> SchoolYear:
        """Create or change a school year and its age bounds (administrators)."""
        _check_period(year.starts_on, year.ends_on)
        _check_ages(year.min_age, year.max_age)
        async with self.uow.begin() as tx:
            await tx.session.merge(year)
            audit.record(
                tx.session,
                by,
                "school_year.set",
                entity="school_year",
                entity_id=year.code,
                details=year.model_dump(mode="json"),
            )
        return year

    # --- agreements and referrals -----------------------------------------------------------

    async def agreements(self, *, scope: Principal) -> Sequence[PartnershipAgreement]:
        query = select(PartnershipAgreement).where(
            scope.visible(association=inspect(PartnershipAgreement).c.association_id)
        )
        async with self.uow.read() as session:
            return (await session.exec(query.order_by(col(PartnershipAgreement.starts_on)))).all()

    async def agreement(self, agreement_id: str, *, scope: Principal) -> PartnershipAgreement:
        async with self.uow.read() as session:
            agreement = await session.get(PartnershipAgreement, agreement_id)
        if agreement is None or not scope.sees(association_id=agreement.association_id):
            raise NotFound(agreement_id)
        return agreement

    async def create_agreement(
        self, agreement: PartnershipAgreement, *, by: Principal
    ) -> PartnershipAgreement:
        """Record an agreement between an association and a partner body."""
        if not by.sees(association_id=agreement.association_id):
            raise NotFound(agreement.association_id)
        _check_period(agreement.starts_on, agreement.ends_on)
        _check_ages(agreement.min_age, agreement.max_age)
        agreement.id = str(uuid.uuid4())
        async with self.uow.begin() as tx:
            if await tx.session.get(Association, agreement.association_id) is None:
                raise NotFound(agreement.association_id)
            tx.session.add(agreement)
            audit.record(
                tx.session,
                by,
                "agreement.created",
                entity="agreement",
                entity_id=agreement.id,
                details={
                    "partner_name": agreement.partner_name,
                    "partner_id": agreement.partner_id,
                },
            )
        return agreement

    async def name_partner(
        self, agreement_id: str, *, partner_id: str | None, by: Principal
    ) -> PartnershipAgreement:
        """Name the onboarded partner (notify's id) whose system follows the agreement's
        referrals, or none. Raises :class:`NotFound` outside ``by``'s scope."""
        async with self.uow.begin() as tx:
            agreement = await tx.session.get(PartnershipAgreement, agreement_id)
            if agreement is None or not by.sees(association_id=agreement.association_id):
                raise NotFound(agreement_id)
            before = agreement.partner_id
            agreement.partner_id = partner_id
            tx.session.add(agreement)
            audit.record(
                tx.session,
                by,
                "agreement.partner_named",
                entity="agreement",
                entity_id=agreement_id,
                details={"from": before, "to": partner_id},
            )
        return agreement

    # --- development seed -------------------------------------------------------------------

    async def seed_demo_data(self) -> bool:
        """Create the demo association, center and school years when no center exists
        (development only). Returns whether it created them."""
        async with self.uow.begin() as tx:
            session = tx.session
            if (await session.exec(select(Center).limit(1))).first() is not None:
                return False
            association = demo_association()
            if await session.get(Association, association.id) is None:
                session.add(association)
                await session.flush()
            session.add(demo_center())
            for year in demo_school_years():
                if await session.get(SchoolYear, year.code) is None:
                    session.add(year)
        log.info("seeded the demo center")
        return True
