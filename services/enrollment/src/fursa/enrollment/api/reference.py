"""Reference data over HTTP: associations, centers (capacity, workshops), school years,
pathways and partnership agreements."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from fursa.enrollment.api.common import Admin, Id, References, Writer, refused
from fursa.enrollment.domain import Refused
from fursa.enrollment.models import Association, Center, PartnershipAgreement, SchoolYear
from fursa.enrollment.reference import CenterView, NotFound
from fursa.enrollment.service import CenterNotFound
from fursa.shared.auth import CurrentPrincipal, Staff
from fursa.shared.contracts import Pathway
from fursa.shared.contracts.common import SchoolYear as SchoolYearCode
from fursa.shared.contracts.common import Uuid
from fursa.shared.contracts.enrollment import AdminCode
from fursa.shared.problems import Problem

router = APIRouter(tags=["reference data"])

Name = Annotated[str, Field(min_length=1, max_length=200)]
FrenchName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="The name in French (Latin script), as on documents.",
        examples=["Centre Al-Nasr"],
    ),
]
# Holding an Arabic letter catches the French name typed into the Arabic field.
ArabicName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=r"[\u0621-\u064a]",
        description="The name in Arabic, as on documents.",
        examples=["مركز النصر"],
    ),
]
Age = Annotated[int, Field(ge=5, le=30)]
Workshop = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", examples=["tailoring"])]

PATHWAYS = {
    Pathway.SCHOOL_REINTEGRATION: ("Réintégration scolaire", "الإدماج المدرسي"),
    Pathway.VOCATIONAL_TRAINING: ("Formation professionnelle", "التكوين المهني"),
    Pathway.SOCIO_PROFESSIONAL_INSERTION: (
        "Insertion socio-professionnelle",
        "الإدماج السوسيو-مهني",
    ),
}


class NamesIn(BaseModel):
    """A name per language: ``name`` in French (as before Arabic names existed), ``name_ar``
    in Arabic (bilingual documents print the French name in its place while it is unset)."""

    model_config = ConfigDict(extra="forbid")

    name: FrenchName
    name_ar: ArabicName | None = None


class AssociationIn(NamesIn):
    pass


class AssociationPublic(BaseModel):
    id: str
    name: str
    name_ar: str | None

    @classmethod
    def of(cls, association: Association) -> AssociationPublic:
        return cls.model_validate(association, from_attributes=True)


Latitude = Annotated[float, Field(ge=-90, le=90, description="WGS 84, decimal degrees")]
Longitude = Annotated[float, Field(ge=-180, le=180, description="WGS 84, decimal degrees")]


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latitude: Latitude
    longitude: Longitude


class CenterIn(NamesIn):
    commune: Annotated[str, Field(min_length=1, max_length=100)]
    province_code: AdminCode
    region_code: AdminCode
    association_id: Uuid
    latitude: Latitude | None = None
    longitude: Annotated[Longitude | None, Field(validate_default=True)] = None

    @field_validator("longitude")
    @classmethod
    def located_by_both(cls, longitude: float | None, info: ValidationInfo) -> float | None:
        if (info.data.get("latitude") is None) != (longitude is None):
            raise ValueError("latitude and longitude go together: give both or neither")
        return longitude


class PlacesPublic(BaseModel):
    pathway: Pathway
    school_year: str
    places: int
    enrolled: int
    waitlisted: int


class CenterPublic(BaseModel):
    id: str
    name: str
    name_ar: str | None
    commune: str
    province_code: str
    region_code: str
    association_id: str
    latitude: float | None
    longitude: float | None

    @classmethod
    def of(cls, center: Center) -> CenterPublic:
        return cls.model_validate(center, from_attributes=True)


class CenterDetail(CenterPublic):
    workshops: list[str]
    places: list[PlacesPublic]

    @classmethod
    def of_view(cls, view: CenterView) -> CenterDetail:
        return cls(
            **CenterPublic.of(view.center).model_dump(),
            workshops=list(view.workshops),
            places=[PlacesPublic.model_validate(p, from_attributes=True) for p in view.places],
        )


class CapacityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pathway: Pathway
    school_year: SchoolYearCode
    places: Annotated[int, Field(ge=0, le=10_000)]


class WorkshopsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workshops: Annotated[list[Workshop], Field(max_length=50)]


class SchoolYearIn(BaseModel):
    """A school year of intake and the ages it takes, on the day it starts."""

    model_config = ConfigDict(extra="forbid")

    code: SchoolYearCode
    starts_on: date
    ends_on: date
    min_age: Age = 12
    max_age: Age = 18


class SchoolYearPublic(SchoolYearIn):
    model_config = ConfigDict(extra="ignore")


class PathwayPublic(BaseModel):
    code: Pathway
    fr: str
    ar: str


class AgreementIn(BaseModel):
    """An agreement between an association and a partner body; its age bounds, when set,
    replace the school year's for the learners it refers."""

    model_config = ConfigDict(extra="forbid")

    association_id: Uuid
    partner_name: Name
    partner_id: Annotated[
        Uuid | None,
        Field(
            description="The partner as onboarded (`partner_id` of `fursa partner add`), "
            "whose system follows the referrals made through the agreement; absent: it is "
            "told nothing."
        ),
    ] = None
    purpose: Annotated[str, Field(min_length=1, max_length=1000)]
    starts_on: date
    ends_on: date | None = None
    min_age: Age | None = None
    max_age: Age | None = None


class AgreementPartnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    partner_id: Uuid | None


class AgreementPublic(AgreementIn):
    model_config = ConfigDict(extra="ignore")

    id: str


@router.get("/associations")
async def list_associations(principal: Staff, service: References) -> list[AssociationPublic]:
    """The associations the caller may see: their own, and those that run a center they see."""
    found = await service.associations(scope=principal)
    return [AssociationPublic.of(association) for association in found]


@router.post("/associations", status_code=status.HTTP_201_CREATED)
async def create_association(
    body: AssociationIn, principal: Admin, service: References
) -> AssociationPublic:
    """Register an association (administrators)."""
    association = await service.create_association(
        name=body.name, name_ar=body.name_ar, by=principal
    )
    return AssociationPublic.of(association)


@router.put("/associations/{association_id}/names")
async def rename_association(
    association_id: Id, body: NamesIn, principal: Admin, service: References
) -> AssociationPublic:
    """Set an association's French and Arabic names (administrators)."""
    try:
        association = await service.rename_association(
            association_id, name=body.name, name_ar=body.name_ar, by=principal
        )
    except NotFound:
        raise Problem.not_found() from None
    return AssociationPublic.of(association)


@router.get("/centers")
async def list_centers(principal: Staff, service: References) -> list[CenterPublic]:
    """The centers the caller may see."""
    return [CenterPublic.of(center) for center in await service.centers(scope=principal)]


@router.post("/centers", status_code=status.HTTP_201_CREATED)
async def create_center(body: CenterIn, principal: Admin, service: References) -> CenterPublic:
    """Open a center run by an association (administrators)."""
    try:
        center = await service.create_center(**body.model_dump(), by=principal)
    except NotFound:
        raise Problem.rule("unknown_association", status=422) from None
    return CenterPublic.of(center)


@router.put("/centers/{center_id}/names")
async def rename_center(
    center_id: Id, body: NamesIn, principal: Admin, service: References
) -> CenterPublic:
    """Set a center's French and Arabic names (administrators); learners enrolled from then
    on carry them to the diplomas."""
    try:
        center = await service.rename_center(
            center_id, name=body.name, name_ar=body.name_ar, by=principal
        )
    except CenterNotFound:
        raise Problem.not_found() from None
    return CenterPublic.of(center)


@router.put("/centers/{center_id}/location")
async def locate_center(
    center_id: Id, body: LocationIn, principal: Admin, service: References
) -> CenterPublic:
    """Set where a center stands (administrators): learners waiting at the centers of its
    province are offered its places nearest first."""
    try:
        center = await service.locate_center(
            center_id, latitude=body.latitude, longitude=body.longitude, by=principal
        )
    except CenterNotFound:
        raise Problem.not_found() from None
    return CenterPublic.of(center)


@router.get("/centers/{center_id}")
async def get_center(center_id: Id, principal: Staff, service: References) -> CenterDetail:
    """A center with its workshops and its places per pathway and school year."""
    try:
        return CenterDetail.of_view(await service.center(center_id, scope=principal))
    except CenterNotFound:
        raise Problem.not_found() from None


@router.put("/centers/{center_id}/capacity")
async def set_capacity(
    center_id: Id, body: CapacityIn, principal: Writer, service: References
) -> CenterDetail:
    """Set the places of a pathway for a school year; more places promote waiting learners."""
    try:
        view = await service.set_capacity(
            center_id,
            pathway=body.pathway,
            school_year=body.school_year,
            places=body.places,
            by=principal,
        )
    except CenterNotFound:
        raise Problem.not_found() from None
    except Refused as exc:
        raise refused(exc) from None
    return CenterDetail.of_view(view)


@router.put("/centers/{center_id}/workshops")
async def set_workshops(
    center_id: Id, body: WorkshopsIn, principal: Writer, service: References
) -> CenterDetail:
    """Replace the workshops a center offers."""
    try:
        view = await service.set_workshops(center_id, workshops=body.workshops, by=principal)
    except CenterNotFound:
        raise Problem.not_found() from None
    return CenterDetail.of_view(view)


@router.get("/school-years")
async def list_school_years(
    _principal: CurrentPrincipal, service: References
) -> list[SchoolYearPublic]:
    return [
        SchoolYearPublic.model_validate(year, from_attributes=True)
        for year in await service.school_years()
    ]


@router.put("/school-years")
async def put_school_year(
    body: SchoolYearIn, principal: Admin, service: References
) -> SchoolYearPublic:
    """Open a school year for enrollment, or change its dates and age bounds."""
    try:
        year = await service.put_school_year(SchoolYear(**body.model_dump()), by=principal)
    except Refused as exc:
        raise refused(exc) from None
    return SchoolYearPublic.model_validate(year, from_attributes=True)


@router.get("/pathways")
async def list_pathways(_principal: CurrentPrincipal) -> list[PathwayPublic]:
    """The programme's three pathways, named in French and Arabic."""
    return [PathwayPublic(code=code, fr=fr, ar=ar) for code, (fr, ar) in PATHWAYS.items()]


@router.get("/agreements")
async def list_agreements(principal: Staff, service: References) -> list[AgreementPublic]:
    """The partnership agreements of the associations the caller may see."""
    return [
        AgreementPublic.model_validate(agreement, from_attributes=True)
        for agreement in await service.agreements(scope=principal)
    ]


@router.post("/agreements", status_code=status.HTTP_201_CREATED)
async def create_agreement(
    body: AgreementIn, principal: Writer, service: References
) -> AgreementPublic:
    """Record an agreement of the caller's association with a partner body."""
    try:
        agreement = await service.create_agreement(
            PartnershipAgreement(id="", **body.model_dump()), by=principal
        )
    except NotFound:
        raise Problem.rule("unknown_association", status=422) from None
    except Refused as exc:
        raise refused(exc) from None
    return AgreementPublic.model_validate(agreement, from_attributes=True)


@router.get("/agreements/{agreement_id}")
async def get_agreement(agreement_id: Id, principal: Staff, service: References) -> AgreementPublic:
    try:
        agreement = await service.agreement(agreement_id, scope=principal)
    except NotFound:
        raise Problem.not_found() from None
    return AgreementPublic.model_validate(agreement, from_attributes=True)


@router.put("/agreements/{agreement_id}/partner")
async def name_partner(
    agreement_id: Id, body: AgreementPartnerIn, principal: Writer, service: References
) -> AgreementPublic:
    """Name the onboarded partner whose system follows the agreement's referrals (the
    ``partner_id`` of ``fursa partner add``), or none (``null``)."""
    try:
        agreement = await service.name_partner(
            agreement_id, partner_id=body.partner_id, by=principal
        )
    except NotFound:
        raise Problem.not_found() from None
    return AgreementPublic.model_validate(agreement, from_attributes=True)
