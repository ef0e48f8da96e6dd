"""The notify service's reactions to the programme's events.

Reactions run in the transaction the consumer opened for the event (`tx`): the contact, the
deliveries to make and the partner feed event commit together with the inbox entry. Nothing is
sent here: the delivery worker (``worker.py``) sends committed deliveries afterwards, outside
any consumer transaction, and retries them from the database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import uuid6
from sqlalchemy import delete, update
from sqlmodel import col, select

from fursa.notify import domain
from fursa.notify.domain import DeliveryStatus, Topic
from fursa.notify.models import (
    Contact,
    Delivery,
    ErasedLearner,
    PartnerEndpoint,
    PartnerFeedPosition,
)
from fursa.notify.partner_feed import partner_form
from fursa.shared.clock import utcnow
from fursa.shared.contracts import (
    CertificateIssued,
    CertificateRevoked,
    CloudEvent,
    Language,
    LearnerAtRisk,
    LearnerEnrolled,
    LearnerErased,
    LearnerPII,
    LearnerTransferred,
    LearnerUpdated,
    LearnerWaitlisted,
    RecipientKind,
    TrainingCompleted,
    to_json_bytes,
)
from fursa.shared.contracts import Channel as ChannelKind
from fursa.shared.db import conflict_insert
from fursa.shared.messaging.outbox import Transaction
from fursa.shared.telemetry import current_trace_headers

Values = Callable[[Language], Mapping[str, str]]


class ContactNotYetKnownError(Exception):
    """The event came before the learner's enrollment (streams are not ordered with each
    other): a later delivery will find the contact."""


# ---- contacts ---------------------------------------------------------------------------


async def keep_contact(
    tx: Transaction, *, event: LearnerEnrolled | LearnerWaitlisted
) -> Contact | None:
    """Keep (create or refresh) the guardian's contact details, consent and the learner's
    placement; ``None`` for an erased learner (a late event must not bring them back)."""
    if await _erased(tx, event.learner_id):
        return None
    values = {
        "learner_id": event.learner_id,
        "enrollment_id": event.enrollment_id,
        "association_id": event.association_id,
        "center_id": event.center_id,
        "region_code": event.region_code,
        "province_code": event.province_code,
        **_guardian_values(event.pii),
    }
    # One atomic upsert: two replicas racing on one learner never fail on the key (such an
    # error would carry the phone number into logs and dead letters).
    statement = (await conflict_insert(tx.session, Contact)).values(values)
    await tx.session.execute(
        statement.on_conflict_do_update(
            index_elements=["learner_id"],
            set_={name: statement.excluded[name] for name in values if name != "learner_id"},
        )
    )
    if not event.pii.consent.notifications:
        await _cancel_pending(tx, learner_id=event.learner_id)
    return await tx.session.get(Contact, event.learner_id, populate_existing=True)


async def learner_enrolled(tx: Transaction, *, event: CloudEvent[LearnerEnrolled]) -> None:
    """Keep the guardian's contact, tell them of the enrollment, tell partners."""
    enrolled = event.data
    if await keep_contact(tx, event=enrolled) is not None:
        await tell_guardian(
            tx,
            event=event,
            learner_id=enrolled.learner_id,
            topic=Topic.LEARNER_ENROLLED,
            values=lambda _language: {"school_year": enrolled.school_year},
        )
    await publish_to_partners(tx, event=event)


async def learner_waitlisted(tx: Transaction, *, event: CloudEvent[LearnerWaitlisted]) -> None:
    """Keep the guardian's contact, tell them the learner's place in line, tell partners."""
    waitlisted = event.data
    if await keep_contact(tx, event=waitlisted) is not None:
        await tell_guardian(
            tx,
            event=event,
            learner_id=waitlisted.learner_id,
            topic=Topic.LEARNER_WAITLISTED,
            values=lambda _language: {
                "school_year": waitlisted.school_year,
                "position": str(waitlisted.position),
            },
        )
    await publish_to_partners(tx, event=event)


async def learner_updated(tx: Transaction, *, updated: LearnerUpdated) -> None:
    """Apply a corrected guardian contact or a changed consent. A withdrawn consent stops
    every message not yet sent at once, retries included."""
    contact = await tx.session.get(Contact, updated.learner_id, populate_existing=True)
    if contact is None:
        # Not enrolled here yet (or erased): the enrollment will carry the whole record.
        return
    for name, value in _guardian_values(updated.pii).items():
        setattr(contact, name, value)
    tx.session.add(contact)
    if not updated.pii.consent.notifications:
        await _cancel_pending(tx, learner_id=updated.learner_id)


async def learner_transferred(tx: Transaction, *, event: CloudEvent[LearnerTransferred]) -> None:
    """Follow the learner to the new center (who may see their deliveries), tell partners."""
    moved = event.data
    await tx.session.execute(
        update(Contact)
        .where(col(Contact.learner_id) == moved.learner_id)
        .values(
            association_id=moved.association_id,
            center_id=moved.to_center_id,
            region_code=moved.region_code,
            province_code=moved.province_code,
        )
    )
    await publish_to_partners(tx, event=event)


async def learner_erased(tx: Transaction, *, event: CloudEvent[LearnerErased]) -> None:
    """Forget the guardian's contact and every message to them (rendered texts included),
    keep a tombstone, drop the learner's events from the dead letters, tell partners."""
    learner_id = event.data.learner_id
    await tx.session.execute(delete(Delivery).where(col(Delivery.learner_id) == learner_id))
    await tx.session.execute(delete(Contact).where(col(Contact.learner_id) == learner_id))
    if not await _erased(tx, learner_id):
        tx.session.add(ErasedLearner(learner_id=learner_id, erased_at=event.data.erased_at))
    await _forget_dead_letters(tx, learner_id=learner_id)
    await publish_to_partners(tx, event=event)


# ---- what guardians are told ---------------------------------------------------------------


async def tell_guardian(
    tx: Transaction, *, event: CloudEvent[Any], learner_id: str, topic: Topic, values: Values
) -> list[Delivery]:
    """Queue the message of ``topic`` to the learner's guardian, in their language, by SMS and
    (when known) e-mail. Nothing without consent or for an erased learner; raises
    :class:`ContactNotYetKnownError` when the enrollment has not arrived yet."""
    if await _erased(tx, learner_id):
        return []
    contact = await tx.session.get(Contact, learner_id, populate_existing=True)
    if contact is None:
        raise ContactNotYetKnownError(f"learner {learner_id} is not known yet")
    if not contact.consent_notifications:
        return []
    language = Language(contact.preferred_language)
    text = domain.render(topic, language, **values(language))
    channels = [ChannelKind.SMS] + ([ChannelKind.EMAIL] if contact.email else [])
    return [
        delivery
        for channel in channels
        if (
            delivery := await _queue(
                tx,
                Delivery(
                    id=str(uuid6.uuid7()),
                    learner_id=learner_id,
                    recipient_kind=RecipientKind.GUARDIAN.value,
                    recipient=learner_id,
                    channel=channel.value,
                    template=text.template.id,
                    cause_event_id=event.id,
                    cause_type=event.type,
                    title=text.subject,
                    body=text.body,
                    created_at=utcnow(),
                    next_attempt_at=utcnow(),
                ),
            )
        )
        is not None
    ]


async def learner_at_risk(tx: Transaction, *, event: CloudEvent[LearnerAtRisk]) -> None:
    """Ask the guardian to help the learner keep coming (attendance fell under threshold)."""
    rate = domain.percent(event.data.attendance_rate)
    await tell_guardian(
        tx,
        event=event,
        learner_id=event.data.learner_id,
        topic=Topic.LEARNER_AT_RISK,
        values=lambda _language: {"attendance": rate},
    )


async def training_completed(tx: Transaction, *, event: CloudEvent[TrainingCompleted]) -> None:
    """Tell the guardian the training ended, tell partners."""
    await tell_guardian(
        tx,
        event=event,
        learner_id=event.data.learner_id,
        topic=Topic.TRAINING_COMPLETED,
        values=lambda _language: {},
    )
    await publish_to_partners(tx, event=event)


async def certificate_issued(tx: Transaction, *, event: CloudEvent[CertificateIssued]) -> None:
    """Tell the guardian of the certificate and where to verify it, tell partners."""
    issued = event.data
    await tell_guardian(
        tx,
        event=event,
        learner_id=issued.learner_id,
        topic=Topic.CERTIFICATE_ISSUED,
        values=lambda language: {
            "kind": domain.kind_word(issued.kind, language),
            "number": issued.certificate_number,
            "url": issued.verification_url,
        },
    )
    await publish_to_partners(tx, event=event)


async def certificate_revoked(tx: Transaction, *, event: CloudEvent[CertificateRevoked]) -> None:
    """Tell the guardian the certificate was revoked, tell partners."""
    revoked = event.data
    await tell_guardian(
        tx,
        event=event,
        learner_id=revoked.learner_id,
        topic=Topic.CERTIFICATE_REVOKED,
        values=lambda _language: {"number": revoked.certificate_number},
    )
    await publish_to_partners(tx, event=event)


# ---- the partner feed ----------------------------------------------------------------------


async def publish_to_partners(tx: Transaction, *, event: CloudEvent[Any]) -> None:
    """Republish the partner form of ``event`` to the PARTNER stream (through the outbox) and
    queue it for every enabled endpoint subscribed to its type."""
    form = partner_form(event.data)
    if form is None:
        return
    sequence = await _next_feed_sequence(tx, subject=form.subject)
    published = await tx.emit(form.data, subject=form.subject, sequence=sequence)
    endpoints = await tx.session.exec(
        select(PartnerEndpoint).where(col(PartnerEndpoint.disabled_at).is_(None))
    )
    body = to_json_bytes(published).decode()
    for endpoint in endpoints.all():
        if published.type not in endpoint.event_types:
            continue
        await _queue(
            tx,
            Delivery(
                id=str(uuid6.uuid7()),
                endpoint_id=endpoint.id,
                recipient_kind=RecipientKind.PARTNER.value,
                recipient=endpoint.id,
                channel=ChannelKind.WEBHOOK.value,
                template=published.type,
                cause_event_id=published.id,
                cause_type=published.type,
                body=body,
                created_at=utcnow(),
                next_attempt_at=utcnow(),
            ),
        )


async def _next_feed_sequence(tx: Transaction, *, subject: str) -> int:
    position = await tx.session.get(PartnerFeedPosition, subject, with_for_update=True)
    if position is None:
        position = PartnerFeedPosition(subject=subject, sequence=1)
    else:
        position.sequence += 1
    tx.session.add(position)
    await tx.session.flush()
    return position.sequence


# ---- helpers -------------------------------------------------------------------------------


def _guardian_values(pii: LearnerPII) -> dict[str, Any]:
    guardian = pii.guardian
    return {
        "guardian_name": guardian.name,
        "phone": guardian.phone,
        "email": guardian.email,
        "preferred_language": guardian.preferred_language.value,
        "consent_notifications": pii.consent.notifications,
    }


async def _queue(tx: Transaction, delivery: Delivery) -> Delivery | None:
    """Insert a delivery unless this event already gave one to this recipient and channel."""
    delivery.traceparent = current_trace_headers().get("traceparent")
    values = delivery.model_dump()
    statement = (await conflict_insert(tx.session, Delivery)).values(values)
    result = await tx.session.execute(
        statement.on_conflict_do_nothing(index_elements=["cause_event_id", "channel", "recipient"])
    )
    return delivery if getattr(result, "rowcount", 0) else None


async def _cancel_pending(tx: Transaction, *, learner_id: str) -> None:
    await tx.session.execute(
        update(Delivery)
        .where(
            col(Delivery.learner_id) == learner_id,
            col(Delivery.status) == DeliveryStatus.PENDING.value,
        )
        .values(status=DeliveryStatus.CANCELLED.value, last_error="consent_withdrawn")
    )


async def _erased(tx: Transaction, learner_id: str) -> bool:
    return await tx.session.get(ErasedLearner, learner_id) is not None


async def _forget_dead_letters(tx: Transaction, *, learner_id: str) -> None:
    """Delete dead-lettered events that name the learner: their payloads may hold the `pii`."""
    dead = tx.tables.dead_letter
    rows = await tx.session.execute(select(dead.c.id, dead.c.payload))
    doomed = [row.id for row in rows if learner_id.encode() in row.payload]
    if doomed:
        await tx.session.execute(delete(dead).where(dead.c.id.in_(doomed)))
