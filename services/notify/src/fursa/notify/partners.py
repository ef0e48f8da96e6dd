"""Partners and their webhook endpoints: registration, signing secrets and rotation, the
delivery log of an endpoint and re-delivery.

Secrets follow the Standard Webhooks format (``whsec_`` + base64 of 32 random bytes). A
rotation adds a new secret and gives the endpoint's current ones an expiry (the grace
period): until then messages carry one signature per secret, so a receiver may switch to the
new secret whenever it likes within that time.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import uuid6
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from fursa.notify.deliveries import disable_endpoint
from fursa.notify.models import AUDIT, Delivery, EndpointSecret, Partner, PartnerEndpoint
from fursa.shared.auth import Principal, Role
from fursa.shared.clock import as_utc, utcnow
from fursa.shared.db import Database
from fursa.shared.messaging.outbox import Transaction, UnitOfWork

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
# Why an endpoint its partner (or an admin) switched off is disabled; a 410 gives "http_410".
SWITCHED_OFF = "switched_off"


def new_secret() -> str:
    """A fresh signing secret in the Standard Webhooks format."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def may_manage(viewer: Principal, partner_id: str) -> bool:
    """Admins manage every partner; a partner's own system manages only itself."""
    return viewer.role is Role.ADMIN or (
        viewer.role is Role.PARTNER and viewer.partner_id == partner_id
    )


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: PartnerEndpoint
    secret: str


class PartnerNameTaken(Exception):  # noqa: N818 - reads as what happened
    """A partner of that name is registered already (names are unique: answered 409)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"a partner named {name!r} is registered already")
        self.name = name


@dataclass(frozen=True)
class WebhookRequest:
    url: str
    event_types: list[str]


@dataclass(frozen=True)
class Onboarded:
    partner: Partner
    endpoint: NewEndpoint | None


async def register_partner(uow: UnitOfWork, *, name: str, by: Principal) -> Partner:
    """Register a partner organisation; raises :class:`PartnerNameTaken` for a taken name."""
    onboarded = await onboard_partner(uow, name=name, webhook=None, by=by)
    return onboarded.partner


def _audit(
    tx: Transaction, by: Principal, action: str, *, entity: str, entity_id: str, **details: object
) -> None:
    """An entry of the trail about a partner or its endpoint: placed nowhere (partners belong
    to no association or territory), so administrators read it; never a URL or a secret."""
    AUDIT.record(
        tx.session, by, action, entity=entity, entity_id=entity_id, details=details or None
    )


async def onboard_partner(
    uow: UnitOfWork, *, name: str, webhook: WebhookRequest | None, by: Principal
) -> Onboarded:
    """Register a partner and, when asked, its webhook endpoint with its first secret — all in
    one transaction: either everything is registered, or nothing (a taken name raises
    :class:`PartnerNameTaken`; the database's unique key decides between two at once)."""
    now = utcnow()
    partner = Partner(id=str(uuid6.uuid7()), name=name, created_at=now)
    created: NewEndpoint | None = None
    try:
        async with uow.begin() as tx:
            taken = await tx.session.exec(select(Partner.id).where(col(Partner.name) == name))
            if taken.first() is not None:
                raise PartnerNameTaken(name)
            tx.session.add(partner)
            await tx.session.flush()
            if webhook is not None:
                endpoint = PartnerEndpoint(
                    id=str(uuid6.uuid7()),
                    partner_id=partner.id,
                    url=webhook.url,
                    event_types=sorted(set(webhook.event_types)),
                    created_at=now,
                )
                secret = new_secret()
                tx.session.add(endpoint)
                await tx.session.flush()
                tx.session.add(_secret_row(endpoint.id, secret, now))
                created = NewEndpoint(endpoint, secret)
            _audit(
                tx,
                by,
                "partner.registered",
                entity="partner",
                entity_id=partner.id,
                endpoint_id=created.endpoint.id if created else None,
            )
    except IntegrityError as exc:
        # Another registration of the same name committed between the check and this insert.
        raise PartnerNameTaken(name) from exc
    return Onboarded(partner, created)


@dataclass(frozen=True)
class PartnerListing:
    partner: Partner
    endpoints: list[PartnerEndpoint]


async def list_partners(db: Database) -> list[PartnerListing]:
    """Every partner with its endpoints, by name (secrets are not read)."""
    async with db.read() as session:
        partners = (await session.exec(select(Partner).order_by(col(Partner.name)))).all()
        endpoints = (
            await session.exec(
                select(PartnerEndpoint).order_by(
                    col(PartnerEndpoint.created_at), col(PartnerEndpoint.id)
                )
            )
        ).all()
    by_partner: dict[str, list[PartnerEndpoint]] = {}
    for endpoint in endpoints:
        by_partner.setdefault(endpoint.partner_id, []).append(endpoint)
    return [PartnerListing(p, by_partner.get(p.id, [])) for p in partners]


async def find_partner(db: Database, *, partner_id: str, viewer: Principal) -> Partner | None:
    """The partner, if it exists and the viewer may manage it."""
    if not may_manage(viewer, partner_id):
        return None
    async with db.read() as session:
        return await session.get(Partner, partner_id)


async def add_endpoint(
    uow: UnitOfWork, *, partner_id: str, url: str, event_types: list[str], by: Principal
) -> NewEndpoint:
    """Register a webhook endpoint of a partner with its first signing secret."""
    now = utcnow()
    endpoint = PartnerEndpoint(
        id=str(uuid6.uuid7()),
        partner_id=partner_id,
        url=url,
        event_types=sorted(set(event_types)),
        created_at=now,
    )
    secret = new_secret()
    async with uow.begin() as tx:
        tx.session.add(endpoint)
        await tx.session.flush()
        tx.session.add(_secret_row(endpoint.id, secret, now))
        _audit(
            tx,
            by,
            "endpoint.added",
            entity="endpoint",
            entity_id=endpoint.id,
            partner_id=partner_id,
            event_types=endpoint.event_types,
        )
    return NewEndpoint(endpoint, secret)


async def endpoints_of(db: Database, *, partner_id: str) -> list[PartnerEndpoint]:
    async with db.read() as session:
        result = await session.exec(
            select(PartnerEndpoint)
            .where(col(PartnerEndpoint.partner_id) == partner_id)
            .order_by(col(PartnerEndpoint.created_at), col(PartnerEndpoint.id))
        )
        return list(result.all())


async def find_endpoint(
    tx_or_db: Transaction | Database, *, partner_id: str, endpoint_id: str
) -> PartnerEndpoint | None:
    """The partner's endpoint (``None`` for another partner's: ids cannot be probed)."""
    if isinstance(tx_or_db, Transaction):
        endpoint = await tx_or_db.session.get(PartnerEndpoint, endpoint_id)
    else:
        async with tx_or_db.read() as session:
            endpoint = await session.get(PartnerEndpoint, endpoint_id)
    if endpoint is None or endpoint.partner_id != partner_id:
        return None
    return endpoint


async def update_endpoint(
    uow: UnitOfWork,
    *,
    partner_id: str,
    endpoint_id: str,
    url: str | None = None,
    event_types: list[str] | None = None,
    enabled: bool | None = None,
    by: Principal,
) -> PartnerEndpoint | None:
    """Change an endpoint's URL or event types, or switch it on or off. Switching it on again
    (e.g. after its receiver answered 410) sends the events that come from then on; those
    missed meanwhile are in the PARTNER stream, which the partner may replay from any time."""
    async with uow.begin() as tx:
        endpoint = await find_endpoint(tx, partner_id=partner_id, endpoint_id=endpoint_id)
        if endpoint is None:
            return None
        if url is not None:
            endpoint.url = url
        if event_types is not None:
            endpoint.event_types = sorted(set(event_types))
        if enabled is True:
            endpoint.disabled_at = None
            endpoint.disabled_reason = None
        tx.session.add(endpoint)
        await tx.session.flush()
        if enabled is False and endpoint.disabled_at is None:
            await disable_endpoint(tx, endpoint_id=endpoint_id, reason=SWITCHED_OFF)
            await tx.session.refresh(endpoint)
        _audit(
            tx,
            by,
            "endpoint.updated",
            entity="endpoint",
            entity_id=endpoint_id,
            partner_id=partner_id,
            url_changed=url is not None,
            event_types=event_types,
            enabled=enabled,
        )
    return endpoint


@dataclass(frozen=True)
class Rotation:
    secret: str
    previous_expire_at: datetime


async def rotate_secret(
    uow: UnitOfWork, *, partner_id: str, endpoint_id: str, grace: timedelta, by: Principal
) -> Rotation | None:
    """Give the endpoint a new secret; its current ones keep signing for ``grace``."""
    now = utcnow()
    expire_at = now + grace
    secret = new_secret()
    async with uow.begin() as tx:
        if await find_endpoint(tx, partner_id=partner_id, endpoint_id=endpoint_id) is None:
            return None
        current = await tx.session.exec(
            select(EndpointSecret).where(col(EndpointSecret.endpoint_id) == endpoint_id)
        )
        for row in current.all():
            # Every secret still signing stops at the end of this grace period at the latest.
            if row.expires_at is None or as_utc(row.expires_at) > expire_at:
                row.expires_at = expire_at
                tx.session.add(row)
        tx.session.add(_secret_row(endpoint_id, secret, now))
        _audit(
            tx,
            by,
            "endpoint.secret_rotated",
            entity="endpoint",
            entity_id=endpoint_id,
            partner_id=partner_id,
        )
    return Rotation(secret, expire_at)


async def endpoint_deliveries(
    db: Database, *, endpoint_id: str, limit: int = 100
) -> list[Delivery]:
    """The endpoint's delivery log, newest first."""
    async with db.read() as session:
        result = await session.exec(
            select(Delivery)
            .where(col(Delivery.endpoint_id) == endpoint_id)
            .order_by(col(Delivery.created_at).desc(), col(Delivery.id).desc())
            .limit(limit)
        )
        return list(result.all())


def _secret_row(endpoint_id: str, secret: str, now: datetime) -> EndpointSecret:
    return EndpointSecret(
        id=str(uuid6.uuid7()), endpoint_id=endpoint_id, secret=secret, created_at=now
    )
