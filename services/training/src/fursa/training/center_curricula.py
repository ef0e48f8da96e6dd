"""Each center's curriculum per pathway, kept in the database and managed through the API.

A center teaches what its agreement says; where a center has set nothing for a pathway, the
deployment's curriculum (``FURSA_TRAINING_CURRICULUM``, or the development seed) applies. A
training follows the curriculum of the center it is in now (a transfer brings the learner
under the new center's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.shared.audit import Place
from fursa.shared.auth import Principal
from fursa.shared.clock import utcnow
from fursa.shared.contracts import Pathway
from fursa.shared.messaging.outbox import UnitOfWork
from fursa.training import audit
from fursa.training.curriculum import Curriculum, PathwayPlan
from fursa.training.models import CenterCurriculum, TrainingCenter, table_of


class CenterNotFound(LookupError):  # noqa: N818 - reads as what happened
    """A center training does not know, or one outside the caller's scope."""


@dataclass(frozen=True)
class PlanInForce:
    """A pathway's curriculum at a center, and whether the center set it or it is the default."""

    pathway: Pathway
    plan: PathwayPlan
    own: bool


class Following(Protocol):
    """A training as its curriculum depends on it: the pathway it follows, at which center."""

    @property
    def id(self) -> str: ...
    @property
    def center_id(self) -> str: ...
    @property
    def pathway(self) -> Pathway: ...


_curricula = table_of(CenterCurriculum)
_CURRICULA = sa.select(
    _curricula.c.center_id,
    _curricula.c.pathway,
    _curricula.c.modules,
    _curricula.c.workshops,
    _curricula.c.workshops_required,
).where(_curricula.c.center_id.in_(sa.bindparam("centers", expanding=True)))


def plan_of(row: CenterCurriculum) -> PathwayPlan:
    return PathwayPlan(
        modules=dict(row.modules),
        workshops=dict(row.workshops),
        workshops_required=row.workshops_required,
    )


async def plans_for(
    session: AsyncSession, default: Curriculum, records: Sequence[Following]
) -> dict[str, PathwayPlan]:
    """Each training's curriculum: its center's for its pathway, or the default."""
    centers = list({record.center_id for record in records})
    own = {
        (center_id, pathway): PathwayPlan(
            modules=dict(modules), workshops=dict(workshops), workshops_required=required
        )
        for center_id, pathway, modules, workshops, required in await session.execute(
            _CURRICULA, {"centers": centers}
        )
    }
    return {
        record.id: own.get((record.center_id, record.pathway), default[record.pathway])
        for record in records
    }


async def visible_center(session: AsyncSession, center_id: str, scope: Principal) -> bool:
    """Whether the caller may see ``center_id``: an administrator any, an educator their own;
    the others a center that enrollments placed within their association or territory."""
    if scope.sees(center_id=center_id):
        return True
    center = await session.get(TrainingCenter, center_id)
    return center is not None and scope.sees(
        association_id=center.association_id,
        center_id=center.center_id,
        region_code=center.region_code,
        province_code=center.province_code,
    )


class CenterCurricula:
    """Reads and sets the curriculum of a center, within the caller's scope."""

    def __init__(self, uow: UnitOfWork, default: Curriculum) -> None:
        self.uow = uow
        self.default = default

    async def in_force(self, center_id: str, *, scope: Principal) -> list[PlanInForce]:
        """Every pathway's curriculum at the center; raises :class:`CenterNotFound`."""
        async with self.uow.read() as session:
            if not await visible_center(session, center_id, scope):
                raise CenterNotFound(center_id)
            query = select(CenterCurriculum).where(col(CenterCurriculum.center_id) == center_id)
            own = {row.pathway: plan_of(row) for row in (await session.exec(query)).all()}
        return [
            PlanInForce(pathway, own.get(pathway, plan), own=pathway in own)
            for pathway, plan in self.default.items()
        ]

    async def set(
        self, center_id: str, pathway: Pathway, plan: PathwayPlan, *, scope: Principal
    ) -> PlanInForce:
        """Set the center's curriculum of ``pathway`` (replacing what it had set)."""
        async with self.uow.begin() as tx:
            if not await visible_center(tx.session, center_id, scope):
                raise CenterNotFound(center_id)
            row = await tx.session.get(CenterCurriculum, (center_id, pathway), with_for_update=True)
            if row is None:
                row = CenterCurriculum(
                    center_id=center_id,
                    pathway=pathway,
                    modules={},
                    updated_by=scope.subject,
                    updated_at=utcnow(),
                )
            row.modules = dict(plan.modules)
            row.workshops = dict(plan.workshops)
            row.workshops_required = plan.workshops_required
            row.updated_by = scope.subject
            row.updated_at = utcnow()
            tx.session.add(row)
            await _audit(tx.session, scope, "curriculum.set", center_id, pathway)
        return PlanInForce(pathway, plan, own=True)

    async def reset(self, center_id: str, pathway: Pathway, *, scope: Principal) -> PlanInForce:
        """Drop the center's own curriculum of ``pathway``: the default applies again."""
        async with self.uow.begin() as tx:
            if not await visible_center(tx.session, center_id, scope):
                raise CenterNotFound(center_id)
            row = await tx.session.get(CenterCurriculum, (center_id, pathway))
            if row is not None:
                await tx.session.delete(row)
                await _audit(tx.session, scope, "curriculum.reset", center_id, pathway)
        return PlanInForce(pathway, self.default[pathway], own=False)


async def _audit(
    session: AsyncSession, scope: Principal, action: str, center_id: str, pathway: Pathway
) -> None:
    center = await session.get(TrainingCenter, center_id)
    audit.AUDIT.record(
        session,
        scope,
        action,
        entity="curriculum",
        entity_id=center_id,
        place=audit.place_of(center) if center else Place(center_id=center_id),
        details={"pathway": pathway},
    )
