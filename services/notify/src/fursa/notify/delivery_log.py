"""What was sent, as the programme's staff and partners see it, and sending it again.

Staff see the deliveries about learners enrolled within their association, center or
territory (by the learner's contact); partners see the log of their own endpoints only.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import ColumnElement, inspect
from sqlmodel import col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from fursa.notify.deliveries import send_again
from fursa.notify.domain import DeliveryStatus
from fursa.notify.models import AUDIT, Contact, Delivery
from fursa.shared.audit import Place
from fursa.shared.auth import Principal
from fursa.shared.contracts import RecipientKind
from fursa.shared.db import Database
from fursa.shared.messaging.outbox import UnitOfWork

T = TypeVar("T")


def visible_to(viewer: Principal) -> ColumnElement[bool]:
    """The deliveries the viewer may see: those about learners enrolled within the viewer's
    association, center or territory (by the learner's contact, joined to the delivery)."""
    columns = inspect(Contact).columns
    return viewer.visible(
        association=columns.association_id,
        center=columns.center_id,
        region=columns.region_code,
        province=columns.province_code,
    )


def _with_contact(query: SelectOfScalar[T]) -> SelectOfScalar[T]:
    # Outer: a delivery whose contact is unknown stays countable by those who see everything.
    return query.outerjoin(Contact, col(Contact.learner_id) == col(Delivery.learner_id))


async def deliveries_to(db: Database, *, learner_id: str, viewer: Principal) -> list[Delivery]:
    """The messages about one learner, oldest first; none unless the viewer may see the
    learner."""
    async with db.read() as session:
        result = await session.exec(
            _with_contact(select(Delivery))
            .where(col(Delivery.learner_id) == learner_id, visible_to(viewer))
            .order_by(col(Delivery.created_at), col(Delivery.id))
        )
        return list(result.all())


async def counts(
    db: Database,
    *,
    viewer: Principal,
    recipient_kind: RecipientKind = RecipientKind.GUARDIAN,
    cause_type: str | None = None,
) -> dict[DeliveryStatus, int]:
    """How many messages about learners to ``recipient_kind`` (guardians or associations) are
    in each status, among those the viewer may see (only those caused by events of
    ``cause_type``, if given)."""
    query = (
        select(Delivery.status, func.count())
        .outerjoin(Contact, col(Contact.learner_id) == col(Delivery.learner_id))
        .where(
            col(Delivery.learner_id).is_not(None),
            col(Delivery.recipient_kind) == recipient_kind.value,
            visible_to(viewer),
        )
        .group_by(col(Delivery.status))
    )
    if cause_type is not None:
        query = query.where(col(Delivery.cause_type) == cause_type)
    async with db.read() as session:
        result = await session.exec(query)
        found = {DeliveryStatus(status): count for status, count in result.all()}
    return {status: found.get(status, 0) for status in DeliveryStatus}


async def resend(uow: UnitOfWork, *, delivery_id: str, viewer: Principal) -> Delivery | None:
    """Send a guardian's message again (``None`` if the viewer may not see it). Raises
    :class:`~fursa.notify.deliveries.NotResendableError` unless it was sent or failed."""
    async with uow.begin() as tx:
        result = await tx.session.exec(
            _with_contact(select(Delivery)).where(
                col(Delivery.id) == delivery_id,
                col(Delivery.learner_id).is_not(None),
                visible_to(viewer),
            )
        )
        delivery = result.first()
        if delivery is None:
            return None
        contact = await tx.session.get(Contact, delivery.learner_id)
        AUDIT.record(
            tx.session,
            viewer,
            "delivery.resent",
            entity="delivery",
            entity_id=delivery.id,
            learner_id=delivery.learner_id,
            place=place_of(contact) if contact else None,
        )
        return await send_again(tx, delivery=delivery)


async def redeliver(
    uow: UnitOfWork, *, endpoint_id: str, delivery_id: str, by: Principal
) -> Delivery | None:
    """Send a partner event to an endpoint again (``None`` if not one of its deliveries)."""
    async with uow.begin() as tx:
        delivery = await tx.session.get(Delivery, delivery_id)
        if delivery is None or delivery.endpoint_id != endpoint_id:
            return None
        AUDIT.record(
            tx.session,
            by,
            "delivery.redelivered",
            entity="delivery",
            entity_id=delivery.id,
            details={"endpoint_id": endpoint_id},
        )
        return await send_again(tx, delivery=delivery)


def place_of(contact: Contact) -> Place:
    """Where a learner's messages sit: their enrollment's association, center and territory."""
    return Place(
        association_id=contact.association_id,
        center_id=contact.center_id,
        province_code=contact.province_code,
        region_code=contact.region_code,
    )
