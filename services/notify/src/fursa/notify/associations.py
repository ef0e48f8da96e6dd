"""Where an association hears of its learners: one e-mail address and a language, set by its
own staff. Removing it cancels the association's notices not yet sent."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col

from fursa.notify.domain import DeliveryStatus
from fursa.notify.models import AssociationContact, Delivery
from fursa.shared.clock import utcnow
from fursa.shared.contracts import Language, RecipientKind
from fursa.shared.db import Database
from fursa.shared.messaging.outbox import UnitOfWork


async def set_contact(
    uow: UnitOfWork, *, association_id: str, email: str, language: Language, by: str
) -> AssociationContact:
    """Create or replace the association's address; pending notices go to the new one."""
    async with uow.begin() as tx:
        contact = AssociationContact(
            association_id=association_id,
            email=email,
            preferred_language=language.value,
            updated_at=utcnow(),
            updated_by=by,
        )
        contact = await tx.session.merge(contact)
    return contact


async def contact_of(db: Database, *, association_id: str) -> AssociationContact | None:
    async with db.read() as session:
        return await session.get(AssociationContact, association_id)


async def remove_contact(uow: UnitOfWork, *, association_id: str) -> bool:
    """Forget the address and cancel the notices still waiting; ``False`` if there was none."""
    async with uow.begin() as tx:
        contact = await tx.session.get(AssociationContact, association_id)
        if contact is None:
            return False
        await tx.session.delete(contact)
        await tx.session.execute(
            update(Delivery)
            .where(
                col(Delivery.recipient_kind) == RecipientKind.ASSOCIATION.value,
                col(Delivery.recipient) == association_id,
                col(Delivery.status) == DeliveryStatus.PENDING.value,
            )
            .values(status=DeliveryStatus.CANCELLED.value, last_error="address_removed")
        )
    return True
