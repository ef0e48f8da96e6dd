"""Where an association hears of its learners: one e-mail address and a language, set by its
own staff. Removing it cancels the association's notices not yet sent."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.notify.domain import DeliveryStatus
from fursa.notify.models import AUDIT, AssociationContact, Delivery
from fursa.shared.audit import Place
from fursa.shared.auth import Principal
from fursa.shared.clock import utcnow
from fursa.shared.contracts import Language, RecipientKind
from fursa.shared.db import Database
from fursa.shared.messaging.outbox import UnitOfWork


async def set_contact(
    uow: UnitOfWork, *, association_id: str, email: str, language: Language, by: Principal
) -> AssociationContact:
    """Create or replace the association's address; pending notices go to the new one."""
    async with uow.begin() as tx:
        contact = AssociationContact(
            association_id=association_id,
            email=email,
            preferred_language=language.value,
            updated_at=utcnow(),
            updated_by=by.subject,
        )
        contact = await tx.session.merge(contact)
        _audit(tx.session, by, "association_contact.set", association_id, language=language)
    return contact


async def contact_of(db: Database, *, association_id: str) -> AssociationContact | None:
    async with db.read() as session:
        return await session.get(AssociationContact, association_id)


async def remove_contact(uow: UnitOfWork, *, association_id: str, by: Principal) -> bool:
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
        _audit(tx.session, by, "association_contact.removed", association_id)
    return True


def _audit(
    session: AsyncSession, by: Principal, action: str, association_id: str, **details: object
) -> None:
    """An entry about the association's address (never the address itself)."""
    AUDIT.record(
        session,
        by,
        action,
        entity="association_contact",
        entity_id=association_id,
        place=Place(association_id=association_id),
        details=details or None,
    )
