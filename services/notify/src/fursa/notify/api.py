"""HTTP routes of the notify service: thin translations to the service layer.

Responses name recipients by kind only: no phone number or address ever leaves through here.

Every route needs a bearer token of the programme's staff (partners are refused with 403) and
shows only what was sent about learners enrolled within the caller's association, center or
territory: any other learner's deliveries are answered exactly as if there were none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AfterValidator, BaseModel, ConfigDict

from fursa.notify import service
from fursa.notify.domain import DeliveryStatus
from fursa.shared.auth import PROGRAMME_STAFF, Principal, allow
from fursa.shared.contracts import Channel, RecipientKind
from fursa.shared.problems import MEDIA_TYPE as PROBLEM_JSON
from fursa.shared.runtime import DatabaseDep

# Who may use these internal routes at all; each one then scopes what it shows.
_staff = allow(*PROGRAMME_STAFF)
Viewer = Annotated[Principal, Depends(_staff)]


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


router = APIRouter(
    prefix="/deliveries",
    tags=["deliveries"],
    # On the router too, so that a route added later cannot forget it (resolved once).
    dependencies=[Depends(_staff)],
    responses={
        401: {"description": "No valid bearer token", "content": {PROBLEM_JSON: {}}},
        403: {"description": "A role these routes do not serve", "content": {PROBLEM_JSON: {}}},
    },
)


@router.get("")
async def list_deliveries(
    db: DatabaseDep, viewer: Viewer, learner_id: Annotated[str, Query(max_length=36)]
) -> list[DeliveryPublic]:
    """The messages sent about one learner, oldest first (none for a learner outside the
    caller's scope)."""
    deliveries = await service.deliveries_to(db, learner_id=learner_id, viewer=viewer)
    return [DeliveryPublic.model_validate(delivery) for delivery in deliveries]


@router.get("/summary")
async def summary(db: DatabaseDep, viewer: Viewer) -> DeliverySummaryPublic:
    """How many messages were sent about learners within the caller's scope."""
    return DeliverySummaryPublic(sent=await service.sent_count(db, viewer=viewer))
