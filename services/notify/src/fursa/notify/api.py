"""HTTP routes of the notify service: thin translations to the service layer.

Responses name recipients by kind only: no phone number or address ever leaves through here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AfterValidator, BaseModel, ConfigDict

from fursa.notify import service
from fursa.notify.domain import DeliveryStatus
from fursa.shared.contracts import Channel, RecipientKind
from fursa.shared.db import Database


def _database(request: Request) -> Database:
    db: Database = request.app.state.runtime.db
    return db


DatabaseDep = Annotated[Database, Depends(_database)]


def _as_utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every instant stored here is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class DeliveryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    learner_id: str | None
    recipient_kind: RecipientKind
    channel: Channel
    template: str
    cause_event_id: str
    cause_type: str
    status: DeliveryStatus
    sent_at: Annotated[datetime, AfterValidator(_as_utc)]


class DeliverySummaryPublic(BaseModel):
    sent: int


router = APIRouter(prefix="/deliveries", tags=["deliveries"])


@router.get("")
async def list_deliveries(
    db: DatabaseDep, learner_id: Annotated[str, Query(max_length=36)]
) -> list[DeliveryPublic]:
    """The messages sent about one learner, oldest first."""
    deliveries = await service.deliveries_to(db, learner_id=learner_id)
    return [DeliveryPublic.model_validate(delivery) for delivery in deliveries]


@router.get("/summary")
async def summary(db: DatabaseDep) -> DeliverySummaryPublic:
    """How many messages were sent."""
    return DeliverySummaryPublic(sent=await service.sent_count(db))
