"""Who signs each region's diplomas: Entraide Nationale's regional coordinator, by name and
title in Arabic and French, set by the region's officers (or an administrator).

A certificate keeps the signatory of the day it was issued: a later change prints on the
certificates issued from then on, never on those already given.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import inspect
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.certification import domain
from fursa.certification.domain import Bilingual
from fursa.certification.models import AUDIT, Signatory
from fursa.shared.audit import Place
from fursa.shared.auth import Principal
from fursa.shared.clock import utcnow
from fursa.shared.db import Database
from fursa.shared.messaging.outbox import UnitOfWork


class RegionNotFound(LookupError):  # noqa: N818 - reads as what happened
    """Not one of Morocco's regions, or outside the caller's scope."""


async def signatory_of(
    session: AsyncSession, *, region_code: str, default: tuple[Bilingual, Bilingual]
) -> tuple[Bilingual, Bilingual]:
    """The name and title a certificate of the region prints: the region's signatory, else
    ``default`` (the configured title, with an empty name: a line to sign on)."""
    signatory = await session.get(Signatory, region_code)
    if signatory is None:
        return default
    return (
        Bilingual(signatory.name_ar, signatory.name_fr),
        Bilingual(signatory.title_ar, signatory.title_fr),
    )


async def signatories(db: Database, *, viewer: Principal) -> Sequence[Signatory]:
    """The signatories of the regions the viewer may see, by region."""
    async with db.read() as session:
        found = await session.exec(
            select(Signatory)
            .where(viewer.visible(region=inspect(Signatory).columns.region_code))
            .order_by(col(Signatory.region_code))
        )
        return found.all()


async def set_signatory(
    uow: UnitOfWork, *, region_code: str, name: Bilingual, title: Bilingual, by: Principal
) -> Signatory:
    """Set who signs the region's diplomas from now on. A region outside the caller's scope,
    or not one of Morocco's regions, raises :class:`RegionNotFound`."""
    if region_code not in domain.REGIONS or not by.sees(region_code=region_code):
        raise RegionNotFound(region_code)
    signatory = Signatory(
        region_code=region_code,
        name_ar=name.ar,
        name_fr=name.fr,
        title_ar=title.ar,
        title_fr=title.fr,
        updated_at=utcnow(),
        updated_by=by.subject,
    )
    async with uow.begin() as tx:
        AUDIT.record(
            tx.session,
            by,
            "signatory.set",
            entity="signatory",
            entity_id=region_code,
            place=Place(region_code=region_code),
        )
        return await tx.session.merge(signatory)
