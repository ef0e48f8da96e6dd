"""HTTP routes of the notify service: thin translations to the service layer.

* ``/deliveries``: the programme's staff read what was sent about learners within their
  association, center or territory (any other learner's deliveries are answered exactly as if
  there were none) and send a message again. Responses name recipients by kind only: no phone
  number, address or message text ever leaves through here.
* ``/associations/{id}/contact``: an association's staff say where the association hears of
  its learners (one e-mail address and a language).
* ``/partners``: admins register partners; admins and a partner's own system register its
  webhook endpoints, rotate their secrets, read their delivery log and re-deliver. Another
  partner's ids answer 404.
* ``/partner``: the partner event catalog (AsyncAPI 3.0 and JSON Schemas), public like the
  service's own ``/asyncapi``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from fursa.notify import associations, delivery_log, partners, sms_usage
from fursa.notify.deliveries import NotResendableError
from fursa.notify.domain import DeliveryStatus
from fursa.notify.models import Delivery, Partner, PartnerEndpoint
from fursa.notify.partner_catalog import asyncapi_document, partner_schemas
from fursa.notify.settings import NotifySettings
from fursa.shared.auth import Principal, Role, Staff, allow, programme_staff
from fursa.shared.clock import as_utc
from fursa.shared.contracts import Channel, Language, RecipientKind
from fursa.shared.contracts.common import EVENT_TYPE_PATTERN, UUID_PATTERN
from fursa.shared.messaging.outbox import UnitOfWork
from fursa.shared.problems import MEDIA_TYPE as PROBLEM_JSON
from fursa.shared.problems import Problem, register_messages
from fursa.shared.runtime import DatabaseDep

register_messages(
    {
        "not_resendable": {
            "fr": "Seul un message envoyé ou en échec peut être renvoyé (état : {state}).",
            "ar": "لا يمكن إعادة إرسال إلا رسالة مرسلة أو فاشلة (الحالة: {state}).",
        },
        "webhook_url_not_https": {
            "fr": "L'adresse du webhook doit être en https.",
            "ar": "يجب أن يكون عنوان الويب هوك بصيغة https.",
        },
    }
)

UtcInstant = Annotated[datetime, AfterValidator(as_utc)]
IdPath = Annotated[str, Path(pattern=UUID_PATTERN)]

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid bearer token", "content": {PROBLEM_JSON: {}}},
    403: {"description": "A role these routes do not serve", "content": {PROBLEM_JSON: {}}},
    404: {"description": "Unknown, or outside the caller's scope", "content": {PROBLEM_JSON: {}}},
}


async def _uow(request: Request) -> UnitOfWork:
    uow: UnitOfWork = request.app.state.runtime.uow
    return uow


async def _settings(request: Request) -> NotifySettings:
    settings: NotifySettings = request.app.state.runtime.settings
    return settings


UowDep = Annotated[UnitOfWork, Depends(_uow)]
SettingsDep = Annotated[NotifySettings, Depends(_settings)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- deliveries to guardians ---------------------------------------------------------------


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
    attempts: int
    last_error: str | None
    created_at: UtcInstant
    next_attempt_at: UtcInstant | None
    sent_at: UtcInstant | None


class DeliverySummaryPublic(BaseModel):
    pending: int
    sent: int
    failed: int
    cancelled: int


deliveries_router = APIRouter(
    prefix="/deliveries",
    tags=["deliveries"],
    # On the router too, so that a route added later cannot forget it (resolved once).
    dependencies=[Depends(programme_staff)],
    responses=_PROBLEMS,
)


@deliveries_router.get("")
async def list_deliveries(
    db: DatabaseDep, viewer: Staff, learner_id: Annotated[str, Query(pattern=UUID_PATTERN)]
) -> list[DeliveryPublic]:
    """The messages about one learner, oldest first (none for a learner outside the caller's
    scope)."""
    found = await delivery_log.deliveries_to(db, learner_id=learner_id, viewer=viewer)
    return [DeliveryPublic.model_validate(delivery) for delivery in found]


@deliveries_router.get("/summary")
async def summary(
    db: DatabaseDep,
    viewer: Staff,
    cause_type: Annotated[str | None, Query(pattern=EVENT_TYPE_PATTERN)] = None,
    recipient_kind: Annotated[
        Literal[RecipientKind.GUARDIAN, RecipientKind.LEARNER, RecipientKind.ASSOCIATION],
        Query(),
    ] = RecipientKind.GUARDIAN,
) -> DeliverySummaryPublic:
    """How many messages about learners within the caller's scope, to guardians (or to their
    associations), are in each status (only those about events of ``cause_type``, e.g.
    certificate-issued, if given)."""
    counts = await delivery_log.counts(
        db, viewer=viewer, recipient_kind=recipient_kind, cause_type=cause_type
    )
    return DeliverySummaryPublic(**{status.value: n for status, n in counts.items()})


class SmsUsagePublic(BaseModel):
    """One association's SMS in a month: messages accepted by the SMSC and the segments they
    cost (each segment is billed)."""

    association_id: str | None
    messages: int
    segments: int


# A month of this century: year 0 or 9999 fall outside the dates Python can count.
MONTH_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"


@deliveries_router.get("/sms-usage")
async def sms_usage_of_month(
    db: DatabaseDep,
    viewer: Staff,
    month: Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM (UTC)")],
) -> list[SmsUsagePublic]:
    """SMS volume and segments per association in ``month`` (associations the caller sees)."""
    year, number = (int(part) for part in month.split("-"))
    found = await sms_usage.usage(db, year=year, month=number, viewer=viewer)
    return [SmsUsagePublic(**vars(row)) for row in found]


@deliveries_router.post("/{delivery_id}/resend", status_code=202)
async def resend(uow: UowDep, viewer: Staff, delivery_id: IdPath) -> DeliveryPublic:
    """Send a message again (one that was sent or failed), with a fresh round of attempts."""
    try:
        delivery = await delivery_log.resend(uow, delivery_id=delivery_id, viewer=viewer)
    except NotResendableError as exc:
        raise Problem.rule("not_resendable", 409, state=str(exc)) from exc
    if delivery is None:
        raise Problem.not_found()
    return DeliveryPublic.model_validate(delivery)


# ---- where an association hears of its learners --------------------------------------------

_association_managers = allow(Role.ASSOCIATION_STAFF, Role.ADMIN)
AssociationManager = Annotated[Principal, Depends(_association_managers)]


class AssociationContactIn(Strict):
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    preferred_language: Language


class AssociationContactPublic(BaseModel):
    association_id: str
    email: str
    preferred_language: Language
    updated_at: UtcInstant


associations_router = APIRouter(
    prefix="/associations/{association_id}/contact",
    tags=["associations"],
    dependencies=[Depends(_association_managers)],
    responses=_PROBLEMS,
)


async def _own_association(viewer: AssociationManager, association_id: IdPath) -> str:
    """The association of the path, if the caller is its staff or an admin (404 otherwise)."""
    if viewer.role is not Role.ADMIN and viewer.association_id != association_id:
        raise Problem.not_found()
    return association_id


OwnAssociation = Annotated[str, Depends(_own_association)]


@associations_router.put("")
async def set_association_contact(
    uow: UowDep,
    viewer: AssociationManager,
    association_id: OwnAssociation,
    body: AssociationContactIn,
) -> AssociationContactPublic:
    """Where the association hears of its learners: an e-mail for each enrollment, place on
    the waiting list, learner at risk, completion, certificate issued or revoked, in its
    language. It applies to what happens from now on."""
    contact = await associations.set_contact(
        uow,
        association_id=association_id,
        email=body.email,
        language=body.preferred_language,
        by=viewer,
    )
    return AssociationContactPublic.model_validate(contact, from_attributes=True)


@associations_router.get("")
async def show_association_contact(
    db: DatabaseDep, association_id: OwnAssociation
) -> AssociationContactPublic:
    contact = await associations.contact_of(db, association_id=association_id)
    if contact is None:
        raise Problem.not_found()
    return AssociationContactPublic.model_validate(contact, from_attributes=True)


@associations_router.delete("", status_code=204)
async def remove_association_contact(
    uow: UowDep, viewer: AssociationManager, association_id: OwnAssociation
) -> None:
    """Stop the association's notices, those still waiting to be sent included."""
    if not await associations.remove_contact(uow, association_id=association_id, by=viewer):
        raise Problem.not_found()


# ---- partners and their webhooks -----------------------------------------------------------

_admin = allow(Role.ADMIN)
_admin_or_partner = allow(Role.ADMIN, Role.PARTNER)
Manager = Annotated[Principal, Depends(_admin_or_partner)]


def _partner_event_type(value: str) -> str:
    if value not in partner_schemas():
        raise ValueError(f"not a partner event type: {value}")
    return value


PartnerEventType = Annotated[str, Field(max_length=200), AfterValidator(_partner_event_type)]


class PartnerCreate(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]


class PartnerPublic(BaseModel):
    partner_id: str
    name: str


EndpointUrl = Annotated[str, Field(max_length=2048, pattern=r"^https?://[^\s/?#]+[^\s]*$")]
EventTypes = Annotated[list[PartnerEventType], Field(min_length=1, max_length=50)]


class EndpointCreate(Strict):
    url: EndpointUrl
    event_types: EventTypes


class EndpointUpdate(Strict):
    """What to change; fields left out stay as they are."""

    url: EndpointUrl | None = None
    event_types: EventTypes | None = None
    enabled: Annotated[
        bool | None,
        Field(description="true switches a disabled endpoint on again (e.g. after a 410)."),
    ] = None


class EndpointPublic(BaseModel):
    endpoint_id: str
    url: str
    event_types: list[str]
    disabled_at: UtcInstant | None = None
    disabled_reason: str | None = None

    @classmethod
    def of(cls, endpoint: PartnerEndpoint) -> EndpointPublic:
        return cls(
            endpoint_id=endpoint.id,
            url=endpoint.url,
            event_types=endpoint.event_types,
            disabled_at=endpoint.disabled_at,
            disabled_reason=endpoint.disabled_reason,
        )


class EndpointCreated(EndpointPublic):
    secret: Annotated[str, Field(description="Shown once: keep it to verify signatures.")]


class SecretRotated(BaseModel):
    endpoint_id: str
    secret: Annotated[str, Field(description="Shown once: the new signing secret.")]
    previous_secrets_expire_at: UtcInstant


class WebhookDeliveryPublic(BaseModel):
    delivery_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    created_at: UtcInstant
    next_attempt_at: UtcInstant | None
    sent_at: UtcInstant | None

    @classmethod
    def of(cls, delivery: Delivery) -> WebhookDeliveryPublic:
        return cls(
            delivery_id=delivery.id,
            event_id=delivery.cause_event_id,
            event_type=delivery.cause_type,
            status=DeliveryStatus(delivery.status),
            attempts=delivery.attempts,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            next_attempt_at=delivery.next_attempt_at,
            sent_at=delivery.sent_at,
        )


partners_router = APIRouter(
    prefix="/partners",
    tags=["partners"],
    dependencies=[Depends(_admin_or_partner)],
    responses=_PROBLEMS,
)


async def _managed_partner(db: DatabaseDep, viewer: Manager, partner_id: IdPath) -> Partner:
    """The partner of the path, if the caller may manage it (404 otherwise)."""
    partner = await partners.find_partner(db, partner_id=partner_id, viewer=viewer)
    if partner is None:
        raise Problem.not_found()
    return partner


ManagedPartner = Annotated[Partner, Depends(_managed_partner)]


async def _endpoint(db: DatabaseDep, partner: ManagedPartner, endpoint_id: IdPath) -> str:
    """The endpoint of the path, if it is the managed partner's (404 otherwise)."""
    if await partners.find_endpoint(db, partner_id=partner.id, endpoint_id=endpoint_id) is None:
        raise Problem.not_found()
    return endpoint_id


ManagedEndpoint = Annotated[str, Depends(_endpoint)]


@partners_router.post("", status_code=201)
async def register_partner(
    uow: UowDep, admin: Annotated[Principal, Depends(_admin)], body: PartnerCreate
) -> PartnerPublic:
    """Register a partner organisation (admins)."""
    partner = await partners.register_partner(uow, name=body.name, by=admin)
    return PartnerPublic(partner_id=partner.id, name=partner.name)


@partners_router.get("/{partner_id}")
async def show_partner(partner: ManagedPartner) -> PartnerPublic:
    return PartnerPublic(partner_id=partner.id, name=partner.name)


@partners_router.post("/{partner_id}/endpoints", status_code=201)
async def add_endpoint(
    uow: UowDep,
    settings: SettingsDep,
    manager: Manager,
    partner: ManagedPartner,
    body: EndpointCreate,
) -> EndpointCreated:
    """Register a webhook endpoint for chosen partner event types; the answer shows its
    signing secret, once."""
    _require_https(settings, body.url)
    created = await partners.add_endpoint(
        uow, partner_id=partner.id, url=body.url, event_types=body.event_types, by=manager
    )
    return EndpointCreated(
        **EndpointPublic.of(created.endpoint).model_dump(), secret=created.secret
    )


@partners_router.patch("/{partner_id}/endpoints/{endpoint_id}")
async def update_endpoint(
    uow: UowDep,
    settings: SettingsDep,
    manager: Manager,
    partner: ManagedPartner,
    endpoint_id: ManagedEndpoint,
    body: EndpointUpdate,
) -> EndpointPublic:
    """Change an endpoint's URL or event types, or switch it off or on again — after a 410
    disabled it, once the receiver is back. Events published while it was off are not sent
    to it; replay them from the PARTNER stream."""
    if body.url is not None:
        _require_https(settings, body.url)
    endpoint = await partners.update_endpoint(
        uow,
        partner_id=partner.id,
        endpoint_id=endpoint_id,
        url=body.url,
        event_types=body.event_types,
        enabled=body.enabled,
        by=manager,
    )
    if endpoint is None:
        raise Problem.not_found()
    return EndpointPublic.of(endpoint)


def _require_https(settings: NotifySettings, url: str) -> None:
    if settings.mode == "production" and not url.startswith("https://"):
        raise Problem.rule("webhook_url_not_https", field="url")


@partners_router.get("/{partner_id}/endpoints")
async def list_endpoints(db: DatabaseDep, partner: ManagedPartner) -> list[EndpointPublic]:
    return [EndpointPublic.of(e) for e in await partners.endpoints_of(db, partner_id=partner.id)]


@partners_router.post("/{partner_id}/endpoints/{endpoint_id}/secret")
async def rotate_secret(
    uow: UowDep,
    settings: SettingsDep,
    manager: Manager,
    partner: ManagedPartner,
    endpoint_id: ManagedEndpoint,
) -> SecretRotated:
    """A new signing secret (shown once); the previous ones keep signing beside it for the
    grace period, so the receiver can switch without losing a message."""
    rotation = await partners.rotate_secret(
        uow,
        partner_id=partner.id,
        endpoint_id=endpoint_id,
        grace=timedelta(seconds=settings.webhook_secret_grace_s),
        by=manager,
    )
    if rotation is None:
        raise Problem.not_found()
    return SecretRotated(
        endpoint_id=endpoint_id,
        secret=rotation.secret,
        previous_secrets_expire_at=rotation.previous_expire_at,
    )


@partners_router.get("/{partner_id}/endpoints/{endpoint_id}/deliveries")
async def endpoint_deliveries(
    db: DatabaseDep,
    endpoint_id: ManagedEndpoint,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[WebhookDeliveryPublic]:
    """The endpoint's delivery log, newest first."""
    found = await partners.endpoint_deliveries(db, endpoint_id=endpoint_id, limit=limit)
    return [WebhookDeliveryPublic.of(delivery) for delivery in found]


@partners_router.post(
    "/{partner_id}/endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver", status_code=202
)
async def redeliver(
    uow: UowDep, manager: Manager, endpoint_id: ManagedEndpoint, delivery_id: IdPath
) -> WebhookDeliveryPublic:
    """Send an event to the endpoint again (same webhook-id: the receiver may drop a copy)."""
    try:
        delivery = await delivery_log.redeliver(
            uow, endpoint_id=endpoint_id, delivery_id=delivery_id, by=manager
        )
    except NotResendableError as exc:
        raise Problem.rule("not_resendable", 409, state=str(exc)) from exc
    if delivery is None:
        raise Problem.not_found()
    return WebhookDeliveryPublic.of(delivery)


# ---- the partner event catalog -------------------------------------------------------------

catalog_router = APIRouter(prefix="/partner", tags=["partner catalog"])


@catalog_router.get("/asyncapi.json")
async def partner_asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the partner feed (NATS stream PARTNER and webhooks)."""
    return asyncapi_document()


@catalog_router.get("/schemas/{event_type}.json")
async def partner_schema(event_type: Annotated[str, Path(max_length=200)]) -> dict[str, Any]:
    """The JSON Schema of one partner event (the whole CloudEvent), with an example."""
    schema = partner_schemas().get(event_type)
    if schema is None:
        raise Problem.not_found()
    return schema
