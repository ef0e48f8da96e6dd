"""A delivery's life in the database: claimed when due, sent outside any transaction, then
recorded as sent, as due again later (backoff with jitter), or as failed.

A claim is a lease (``claimed_until``): a worker that dies mid-send leaves the delivery to be
claimed again once the lease runs out (or as soon as its successor of the same name starts,
:func:`release_claims`), so a message is sent at least once and, unless a crash falls between a
send and its record, exactly once. The message id (the delivery's id) lets
receivers drop that rare repeat (webhook-id, Message-ID, SMS reference).
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar, cast

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from sqlalchemy import ColumnElement, Integer, bindparam, func, or_, update
from sqlalchemy import select as select_columns
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.notify.channels import Message, SendFailed, Sent
from fursa.notify.domain import DeliveryStatus, RetryPolicy
from fursa.notify.models import (
    AssociationContact,
    Contact,
    Delivery,
    EndpointSecret,
    PartnerEndpoint,
    SmsSegment,
)
from fursa.shared.clock import as_utc, utcnow
from fursa.shared.contracts import (
    Channel,
    Language,
    NotificationFailed,
    NotificationSent,
    RecipientKind,
)
from fursa.shared.db import UtcDateTime
from fursa.shared.messaging.outbox import Transaction, UnitOfWork


@dataclass(frozen=True)
class Claim:
    """A delivery this worker holds (until its lease runs out), with the message to send."""

    delivery_id: str
    channel: Channel
    lane: str
    message: Message
    traceparent: str | None = None


class _Due(Protocol):
    """What claiming reads of a due delivery (a row of :data:`_DUE_COLUMNS`, or the entity)."""

    @property
    def id(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def recipient_kind(self) -> str: ...
    @property
    def recipient(self) -> str: ...
    @property
    def endpoint_id(self) -> str | None: ...
    @property
    def title(self) -> str | None: ...
    @property
    def body(self) -> str: ...
    @property
    def traceparent(self) -> str | None: ...


ENDPOINT_LANE = "endpoint:"

# How many lanes share a channel's messages to people (guardians, learners, associations).
LANES_PER_CHANNEL = 4


def lane_of(delivery: _Due, lanes_per_channel: int = LANES_PER_CHANNEL) -> str:
    """Deliveries of one lane are sent one after the other; lanes run side by side. Each
    partner endpoint is a lane of its own: a slow or dead endpoint delays only itself. A
    channel's messages to people go in ``lanes_per_channel`` lanes, by recipient (the last
    character of its id, random in a UUID): one recipient's messages keep their order, and a
    class's certificates reach its families side by side instead of one after the other."""
    if delivery.endpoint_id:
        return f"{ENDPOINT_LANE}{delivery.endpoint_id}"
    return f"{delivery.channel}:{_shard(delivery.recipient[-1:], lanes_per_channel)}"


_HEX = "0123456789abcdef"


def _shard(last: str, lanes_per_channel: int) -> int:
    if not last:
        return 0
    return (_HEX.index(last) if last in _HEX else ord(last)) % lanes_per_channel


def _outside(busy_lanes: Collection[str], lanes_per_channel: int) -> list[ColumnElement[bool]]:
    """SQL conditions leaving out the deliveries of busy lanes, so that a busy lane's backlog
    never fills the batch that other lanes' deliveries should have had: the endpoints', the
    channels whose every lane is busy, and the recipients (by the last hex digit of their
    UUID) of a channel's busy lanes. Any other id is left out after the read."""
    endpoints = [
        lane.removeprefix(ENDPOINT_LANE) for lane in busy_lanes if lane.startswith(ENDPOINT_LANE)
    ]
    busy_shards: dict[str, set[int]] = {}
    for lane in busy_lanes:
        if not lane.startswith(ENDPOINT_LANE):
            channel, _, shard = lane.rpartition(":")
            busy_shards.setdefault(channel, set()).add(int(shard))
    conditions = []
    if endpoints:
        conditions.append(
            or_(col(Delivery.endpoint_id).is_(None), col(Delivery.endpoint_id).not_in(endpoints))
        )
    channels = [c for c, shards in busy_shards.items() if len(shards) >= lanes_per_channel]
    if channels:
        conditions.append(
            or_(col(Delivery.endpoint_id).is_not(None), col(Delivery.channel).not_in(channels))
        )
    recipient = col(Delivery.recipient)
    last = func.substr(recipient, func.length(recipient), 1)
    for channel, shards in busy_shards.items():
        digits = [d for d in _HEX if _shard(d, lanes_per_channel) in shards]
        if channel not in channels:
            conditions.append(
                or_(
                    col(Delivery.endpoint_id).is_not(None),
                    col(Delivery.channel) != channel,
                    last.not_in(digits),
                )
            )
    return conditions


@dataclass(frozen=True)
class ClaimedBatch:
    """What one claim took, and the lanes in which it left due deliveries behind (busy, full
    or past the batch's limit; ``None``: any lane may have some)."""

    claims: list[Claim]
    held_back: frozenset[str] | None


# What claiming reads of each due delivery (rows, not entities: a claim reads up to a batch).
_DUE_COLUMNS = (
    col(Delivery.id),
    col(Delivery.channel),
    col(Delivery.recipient_kind),
    col(Delivery.recipient),
    col(Delivery.endpoint_id),
    col(Delivery.title),
    col(Delivery.body),
    col(Delivery.traceparent),
)


async def claim(
    uow: UnitOfWork,
    *,
    worker: str | None = None,
    lease: timedelta,
    limit: int,
    per_lane: int = 10,
    busy_lanes: Collection[str] = (),
    lanes_per_channel: int = LANES_PER_CHANNEL,
) -> ClaimedBatch:
    """Claim up to ``limit`` due deliveries (``per_lane`` at most in one lane) outside
    ``busy_lanes`` and build their messages (:func:`lane_of` tells each one's lane).

    A delivery whose guardian withdrew consent (or lost the address), whose association
    removed its address or whose endpoint was disabled is cancelled here instead: the check
    happens at each attempt, not only once.
    """
    now = utcnow()
    claims: list[Claim] = []
    cancelled: list[str] = []
    in_lane: dict[str, int] = {}
    held_back = set(busy_lanes)
    async with uow.begin() as tx:
        query = (
            select_columns(*_DUE_COLUMNS)
            .where(
                col(Delivery.status) == DeliveryStatus.PENDING.value,
                col(Delivery.next_attempt_at) <= now,
                or_(col(Delivery.claimed_until).is_(None), col(Delivery.claimed_until) < now),
                *_outside(busy_lanes, lanes_per_channel),
            )
            .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = (await tx.session.execute(query)).all()
        due: list[tuple[str, _Due]] = []
        for row in rows:
            delivery = cast(_Due, row)
            lane = lane_of(delivery, lanes_per_channel)
            if lane not in busy_lanes and in_lane.get(lane, 0) < per_lane:
                in_lane[lane] = in_lane.get(lane, 0) + 1
                due.append((lane, delivery))
            else:
                held_back.add(lane)
        # The addresses of the whole batch (guardians, associations, endpoints and their
        # secrets) in four reads at most.
        addresses = await _Addresses.of(tx.session, [delivery for _, delivery in due])
        for lane, delivery in due:
            message = _message_for(delivery, addresses)
            if message is None:
                cancelled.append(delivery.id)
                continue
            claims.append(
                Claim(
                    delivery.id,
                    Channel(delivery.channel),
                    lane,
                    message,
                    traceparent=delivery.traceparent,
                )
            )
        if claims:
            await tx.session.execute(
                update(Delivery)
                .where(col(Delivery.id).in_([claim.delivery_id for claim in claims]))
                .values(claimed_until=now + lease, claimed_by=worker)
                .execution_options(synchronize_session=False)
            )
        if cancelled:
            await tx.session.execute(
                update(Delivery)
                .where(col(Delivery.id).in_(cancelled))
                .values(status=DeliveryStatus.CANCELLED.value, last_error="no_consent_or_address")
                .execution_options(synchronize_session=False)
            )
    return ClaimedBatch(claims, None if len(rows) >= limit else frozenset(held_back))


async def release_claims(uow: UnitOfWork, worker: str) -> int:
    """Pending deliveries claimed under ``worker``'s name made claimable again; how many.

    Only for a worker starting: whatever its name held was held by a run that is gone.
    """
    async with uow.begin() as tx:
        released = await tx.session.execute(
            update(Delivery)
            .where(
                col(Delivery.claimed_by) == worker,
                col(Delivery.status) == DeliveryStatus.PENDING.value,
                col(Delivery.claimed_until).is_not(None),
            )
            .values(claimed_until=None, claimed_by=None)
            .returning(col(Delivery.id))
            .execution_options(synchronize_session=False)
        )
        return len(released.all())


@dataclass(frozen=True)
class _Addresses:
    """The contacts, association addresses and partner endpoints (with their active secrets)
    a batch of deliveries is for, as they are now."""

    contacts: dict[str, Contact]
    associations: dict[str, AssociationContact]
    endpoints: dict[str, PartnerEndpoint]
    secrets: dict[str, tuple[str, ...]]

    @classmethod
    async def of(cls, session: AsyncSession, deliveries: Collection[_Due]) -> _Addresses:
        by_kind: dict[str, set[str]] = {}
        endpoints: set[str] = set()
        for delivery in deliveries:
            if delivery.endpoint_id is None:
                by_kind.setdefault(delivery.recipient_kind, set()).add(delivery.recipient)
            else:
                endpoints.add(delivery.endpoint_id)
        learners = by_kind.get(RecipientKind.GUARDIAN.value, set()) | by_kind.get(
            RecipientKind.LEARNER.value, set()
        )
        return cls(
            await _current(session, Contact, "learner_id", learners),
            await _current(
                session,
                AssociationContact,
                "association_id",
                by_kind.get(RecipientKind.ASSOCIATION.value),
            ),
            await _current(session, PartnerEndpoint, "id", endpoints),
            await _active_secrets(session, endpoints),
        )


RowT = TypeVar("RowT", bound=SQLModel)


async def _current(
    session: AsyncSession, model: type[RowT], key: str, ids: Collection[str] | None
) -> dict[str, RowT]:
    """The rows of ``model`` whose ``key`` is in ``ids``, re-read from the database, by key."""
    if not ids:
        return {}
    rows = await session.exec(
        select(model)
        .where(col(getattr(model, key)).in_(ids))
        .execution_options(populate_existing=True)
    )
    return {getattr(row, key): row for row in rows}


def _message_for(delivery: _Due, addresses: _Addresses) -> Message | None:
    if delivery.endpoint_id is not None:
        endpoint = addresses.endpoints.get(delivery.endpoint_id)
        if endpoint is None or endpoint.disabled_at is not None:
            return None
        secrets = addresses.secrets.get(endpoint.id, ())
        return Message(id=delivery.id, to=endpoint.url, text=delivery.body, secrets=secrets)
    if delivery.recipient_kind == RecipientKind.ASSOCIATION.value:
        association = addresses.associations.get(delivery.recipient)
        if association is None:
            return None
        return Message(
            id=delivery.id,
            to=association.email,
            text=delivery.body,
            language=Language(association.preferred_language),
            subject=delivery.title,
        )
    contact = addresses.contacts.get(delivery.recipient)
    if contact is None or not contact.consent_notifications:
        return None
    phone, email, language = (
        (contact.learner_phone, contact.learner_email, contact.learner_language)
        if delivery.recipient_kind == RecipientKind.LEARNER.value
        else (contact.phone, contact.email, contact.preferred_language)
    )
    address = phone if delivery.channel == Channel.SMS.value else email
    if not address:
        return None
    return Message(
        id=delivery.id,
        to=address,
        text=delivery.body,
        language=Language(language or contact.preferred_language),
        subject=delivery.title,
    )


async def _active_secrets(
    session: AsyncSession, endpoint_ids: Collection[str]
) -> dict[str, tuple[str, ...]]:
    """The secrets each endpoint's messages are signed with now: the newest first, then those
    of earlier rotations still in their grace period."""
    if not endpoint_ids:
        return {}
    now = utcnow()
    rows = await session.execute(
        select(EndpointSecret.endpoint_id, EndpointSecret.secret, EndpointSecret.expires_at)
        .where(col(EndpointSecret.endpoint_id).in_(endpoint_ids))
        .order_by(col(EndpointSecret.created_at).desc(), col(EndpointSecret.id).desc())
    )
    secrets: dict[str, tuple[str, ...]] = {}
    for endpoint_id, secret, expires_at in rows:
        if expires_at is None or as_utc(expires_at) > now:
            secrets[endpoint_id] = (*secrets.get(endpoint_id, ()), secret)
    return secrets


@dataclass(frozen=True)
class SentMessage:
    """A claimed delivery that went out, to record: what it cost (an SMS's segments) and the
    trace of its send, which its notification-sent continues."""

    claim: Claim
    cost: Sent | None = None
    trace: Context | None = None


async def record_sent(uow: UnitOfWork, sent: Sequence[SentMessage]) -> None:
    """The messages went out: in one transaction, mark each delivery sent and emit its
    notification-sent; for an SMS, keep what it cost (its segments, with the ids their
    receipts will name)."""
    sent_at = utcnow()
    async with uow.begin() as tx:
        for message in sent:
            token = None if message.trace is None else otel_context.attach(message.trace)
            try:
                await _record_sent(tx, message.claim, message.cost, sent_at)
            finally:
                if token is not None:
                    otel_context.detach(token)


async def _record_sent(tx: Transaction, claim: Claim, cost: Sent | None, sent_at: datetime) -> None:
    """One UPDATE … RETURNING: a delivery gone meanwhile (the learner was erased) or no longer
    pending (cancelled) matches nothing, and nothing more happens."""
    if cost is not None:
        await _keep_segments(tx, claim, cost, sent_at)
    sent = (
        await tx.session.execute(
            _MARK_SENT,
            {
                "delivery_id": claim.delivery_id,
                "sent_at": sent_at,
                "segments": cost.segments if cost is not None else None,
            },
        )
    ).first()
    if sent is None:
        return
    await tx.emit(
        NotificationSent(
            delivery_id=claim.delivery_id,
            learner_id=sent.learner_id,
            recipient_kind=RecipientKind(sent.recipient_kind),
            channel=claim.channel,
            template=sent.template,
            cause_event_id=sent.cause_event_id,
            cause_type=sent.cause_type,
            sent_at=sent_at,
        ),
        subject=claim.delivery_id,
        sequence=sent.event_sequence,
    )


# Built once (SQLAlchemy keeps its cache key): one statement per message sent.
_MARK_SENT = (
    update(Delivery)
    .where(
        col(Delivery.id) == bindparam("delivery_id"),
        col(Delivery.status) == DeliveryStatus.PENDING.value,
    )
    .values(
        status=DeliveryStatus.SENT.value,
        attempts=col(Delivery.attempts) + 1,
        sent_at=bindparam("sent_at", type_=UtcDateTime),
        claimed_until=None,
        claimed_by=None,
        last_error=None,
        segments=bindparam("segments", type_=Integer),
        delivered_at=None,
        event_sequence=col(Delivery.event_sequence) + 1,
    )
    .returning(
        col(Delivery.learner_id),
        col(Delivery.recipient_kind),
        col(Delivery.template),
        col(Delivery.cause_event_id),
        col(Delivery.cause_type),
        col(Delivery.event_sequence),
    )
    .execution_options(synchronize_session=False)
)


async def _keep_segments(tx: Transaction, claim: Claim, sent: Sent, at: datetime) -> None:
    """One row per segment the SMSC (or gateway) accepted, counted for the learner's
    association; a gateway that names no segment gets ids of notify's own, unique to this
    send (a message sent again starts its attempts from zero)."""
    row = (
        await tx.session.execute(
            select(Delivery.attempts, Contact.association_id)
            .outerjoin(Contact, col(Contact.learner_id) == col(Delivery.learner_id))
            .where(col(Delivery.id) == claim.delivery_id)
        )
    ).first()
    if row is None:
        return
    attempts, association_id = row
    send = secrets.token_hex(6)
    references = sent.references or tuple(
        f"{claim.delivery_id}:{send}:{number}" for number in range(1, sent.segments + 1)
    )
    for number, reference in enumerate(references, start=1):
        tx.session.add(
            SmsSegment(
                smsc_message_id=reference,
                delivery_id=claim.delivery_id,
                attempt=attempts + 1,
                number=number,
                segments=sent.segments,
                association_id=association_id,
                submitted_at=at,
            )
        )


class ReceiptOutcome(StrEnum):
    """What a delivery receipt did to its delivery."""

    DELIVERED = "delivered"  # every segment of the last attempt reached the phone
    PARTLY_DELIVERED = "partly_delivered"  # this segment did; others have not said yet
    UNDELIVERABLE = "undeliverable"  # failed for good: notification-failed
    RETRIED = "retried"  # expired: due again per the retry policy
    UNKNOWN = "unknown"  # no segment has this id (logged, nothing changes)
    STALE = "stale"  # for an earlier attempt, or a delivery no longer sent


# Receipt states after which no later attempt can succeed, and those worth another attempt.
PERMANENT_STATES = frozenset({"UNDELIV", "REJECTD", "DELETED"})
RETRY_STATES = frozenset({"EXPIRED"})


async def record_receipt(
    uow: UnitOfWork,
    *,
    smsc_message_id: str,
    state: str,
    policy: RetryPolicy,
    rng: random.Random | None = None,
) -> ReceiptOutcome:
    """Apply an SMSC's delivery receipt for one segment to its delivery: delivered once every
    segment is; undeliverable (permanent, no retry, notification-failed); expired: pending
    again after the retry policy's backoff, or failed once the attempts are spent."""
    async with uow.begin() as tx:
        seg = await tx.session.get(SmsSegment, smsc_message_id)
        if seg is None:
            return ReceiptOutcome.UNKNOWN
        seg.state = state
        tx.session.add(seg)
        delivery = await tx.session.get(Delivery, seg.delivery_id, populate_existing=True)
        if (
            delivery is None
            or delivery.status != DeliveryStatus.SENT.value
            or delivery.attempts != seg.attempt
        ):
            return ReceiptOutcome.STALE
        now = utcnow()
        if state == "DELIVRD":
            await tx.session.flush()
            states = (
                await tx.session.exec(
                    select(SmsSegment.state).where(
                        col(SmsSegment.delivery_id) == delivery.id,
                        col(SmsSegment.attempt) == seg.attempt,
                    )
                )
            ).all()
            if len(states) < seg.segments or any(s != "DELIVRD" for s in states):
                return ReceiptOutcome.PARTLY_DELIVERED
            delivery.delivered_at = now
            tx.session.add(delivery)
            return ReceiptOutcome.DELIVERED
        code = f"smsc_{state.lower()}"
        if state in RETRY_STATES and not policy.exhausted(delivery.attempts):
            delivery.status = DeliveryStatus.PENDING.value
            delivery.last_error = code
            delivery.next_attempt_at = now + policy.delay_after(delivery.attempts, rng)
            tx.session.add(delivery)
            return ReceiptOutcome.RETRIED
        if state not in PERMANENT_STATES | RETRY_STATES:
            # ACCEPTD, ENROUTE, UNKNOWN…: not final, nothing to do yet.
            return ReceiptOutcome.PARTLY_DELIVERED
        delivery.status = DeliveryStatus.FAILED.value
        delivery.last_error = code
        delivery.event_sequence += 1
        tx.session.add(delivery)
        await tx.emit(
            _failed_event(delivery, now), subject=delivery.id, sequence=delivery.event_sequence
        )
        return ReceiptOutcome.UNDELIVERABLE


def _failed_event(delivery: Delivery, at: datetime) -> NotificationFailed:
    return NotificationFailed(
        delivery_id=delivery.id,
        learner_id=delivery.learner_id,
        recipient_kind=RecipientKind(delivery.recipient_kind),
        channel=Channel(delivery.channel),
        template=delivery.template,
        cause_event_id=delivery.cause_event_id,
        cause_type=delivery.cause_type,
        attempts=delivery.attempts,
        last_error=delivery.last_error or "failed",
        failed_at=at,
    )


async def record_failure(
    uow: UnitOfWork,
    claim: Claim,
    failure: SendFailed,
    policy: RetryPolicy,
    rng: random.Random | None = None,
) -> DeliveryStatus | None:
    """The attempt failed: due again after a backoff, or failed for good (then
    notification-failed). A 410 from a partner endpoint disables the endpoint and drops its
    other pending deliveries. Returns the delivery's new status."""
    async with uow.begin() as tx:
        delivery = await _held(tx, claim)
        if delivery is None:
            return None
        now = utcnow()
        delivery.attempts += 1
        delivery.last_error = failure.code
        delivery.claimed_until = None
        if failure.permanent or policy.exhausted(delivery.attempts):
            delivery.status = DeliveryStatus.FAILED.value
            delivery.event_sequence += 1
            await tx.emit(
                _failed_event(delivery, now), subject=delivery.id, sequence=delivery.event_sequence
            )
        else:
            delivery.next_attempt_at = now + policy.delay_after(delivery.attempts, rng)
        tx.session.add(delivery)
        if failure.gone and delivery.endpoint_id is not None:
            await disable_endpoint(tx, endpoint_id=delivery.endpoint_id, reason=failure.code)
        return DeliveryStatus(delivery.status)


async def disable_endpoint(tx: Transaction, *, endpoint_id: str, reason: str) -> None:
    """Stop calling an endpoint: it is disabled and its pending deliveries are cancelled."""
    await tx.session.execute(
        update(PartnerEndpoint)
        .where(col(PartnerEndpoint.id) == endpoint_id)
        .values(disabled_at=utcnow(), disabled_reason=reason)
    )
    await tx.session.execute(
        update(Delivery)
        .where(
            col(Delivery.endpoint_id) == endpoint_id,
            col(Delivery.status) == DeliveryStatus.PENDING.value,
        )
        .values(status=DeliveryStatus.CANCELLED.value, last_error="endpoint_disabled")
    )


async def _held(tx: Transaction, claim: Claim) -> Delivery | None:
    # Gone (the learner was erased meanwhile) or no longer pending (cancelled): nothing to do.
    delivery = await tx.session.get(Delivery, claim.delivery_id, populate_existing=True)
    if delivery is None or delivery.status != DeliveryStatus.PENDING.value:
        return None
    return delivery


class NotResendableError(Exception):
    """A delivery still pending, or cancelled for want of consent, cannot be sent again."""


async def send_again(tx: Transaction, *, delivery: Delivery) -> Delivery:
    """Queue a sent or failed delivery once more, with a fresh round of attempts."""
    if delivery.status not in (DeliveryStatus.SENT.value, DeliveryStatus.FAILED.value):
        raise NotResendableError(delivery.status)
    delivery.status = DeliveryStatus.PENDING.value
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.claimed_until = None
    delivery.claimed_by = None
    delivery.last_error = None
    tx.session.add(delivery)
    return delivery
