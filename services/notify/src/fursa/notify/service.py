"""The notify service's reactions to the programme's events.

Reactions run in the transaction the consumer opened for the event (`tx`): the contact, the
deliveries to make and the partner feed event commit together with the inbox entry. Nothing is
sent here: the delivery worker (``worker.py``) sends committed deliveries afterwards, outside
any consumer transaction, and retries them from the database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

import uuid6
from sqlalchemy import ColumnElement, Insert, bindparam, delete, or_, update
from sqlmodel import col, select

from fursa.notify import domain
from fursa.notify.delivery_log import place_of
from fursa.notify.domain import DeliveryStatus, Topic
from fursa.notify.models import (
    AUDIT,
    AssociationContact,
    Contact,
    Delivery,
    ErasedLearner,
    PartnerEndpoint,
    PartnerFeedPosition,
)
from fursa.notify.partner_feed import PartnerEvent, partner_form, referring_partner_form
from fursa.shared.adulthood import is_adult
from fursa.shared.clock import local_today, utcnow
from fursa.shared.consent import Use, allows
from fursa.shared.contracts import (
    CertificateIssued,
    CertificateRevoked,
    CloudEvent,
    Consent,
    Language,
    LearnerAtRisk,
    LearnerEnrolled,
    LearnerErased,
    LearnerPII,
    LearnerTransferred,
    LearnerUpdated,
    LearnerWaitlisted,
    RecipientKind,
    ReferralStatusChanged,
    TrainingCompleted,
    new_event,
    to_json_bytes,
)
from fursa.shared.contracts import Channel as ChannelKind
from fursa.shared.db import InsertOf, Upsert, placeholders
from fursa.shared.messaging.outbox import Transaction
from fursa.shared.telemetry import current_trace_headers

Values = Callable[[Language], Mapping[str, str]]


class ContactNotYetKnownError(Exception):
    """The event came before the learner's enrollment (streams are not ordered with each
    other): a later delivery will find the contact."""


# ---- contacts ---------------------------------------------------------------------------


async def keep_contact(
    tx: Transaction, *, enrollment: LearnerEnrolled | LearnerWaitlisted, as_of: datetime
) -> Contact | None:
    """Keep (create or refresh) the guardian's contact details, consent and the learner's
    placement as enrollment published them at ``as_of``; a contact already newer is left as
    it is. ``None`` for an erased learner (a late event must not bring them back)."""
    addressees = await _keep_contact(tx, enrollment=enrollment, as_of=as_of)
    return addressees.contact if addressees else None


async def _keep_contact(
    tx: Transaction, *, enrollment: LearnerEnrolled | LearnerWaitlisted, as_of: datetime
) -> _Addressees | None:
    if await _erased(tx, enrollment.learner_id):
        return None
    values = {
        "learner_id": enrollment.learner_id,
        "enrollment_id": enrollment.enrollment_id,
        "association_id": enrollment.association_id,
        "center_id": enrollment.center_id,
        "region_code": enrollment.region_code,
        "province_code": enrollment.province_code,
        **_pii_values(enrollment.pii),
        "known_to_partners": False,
        "as_of": as_of,
    }
    await _KEEP_CONTACT.execute(tx.session, **values)
    if not allows(enrollment.pii.consent, Use.MESSAGES):
        await _cancel_pending(tx, learner_id=enrollment.learner_id)
    return await _addressees(tx, enrollment.learner_id)


async def learner_enrolled(tx: Transaction, *, event: CloudEvent[LearnerEnrolled]) -> None:
    """Keep the guardian's contact, tell them and the association of the enrollment, tell
    partners."""
    enrolled = event.data
    addressees = await _keep_contact(tx, enrollment=enrolled, as_of=event.time)
    if addressees is not None:
        await _tell(
            tx,
            event=event,
            addressees=addressees,
            topic=Topic.LEARNER_ENROLLED,
            values=lambda _language: {"school_year": enrolled.school_year},
        )
        await _publish_about(tx, partner_form(event.data), contact=addressees.contact)


async def learner_waitlisted(tx: Transaction, *, event: CloudEvent[LearnerWaitlisted]) -> None:
    """Keep the guardian's contact, tell them the learner's place in line, tell partners."""
    waitlisted = event.data
    addressees = await _keep_contact(tx, enrollment=waitlisted, as_of=event.time)
    if addressees is not None:
        await _tell(
            tx,
            event=event,
            addressees=addressees,
            topic=Topic.LEARNER_WAITLISTED,
            values=lambda _language: {
                "school_year": waitlisted.school_year,
                "position": str(waitlisted.position),
            },
        )
        await _publish_about(tx, partner_form(event.data), contact=addressees.contact)


async def learner_updated(tx: Transaction, *, event: CloudEvent[LearnerUpdated]) -> None:
    """Apply a corrected guardian contact or a changed consent (unless the contact is already
    newer). A withdrawn consent stops every message not yet sent at once, retries included.
    A learner not enrolled here yet (or erased) is left alone: the enrollment will carry the
    whole record."""
    updated = event.data
    await tx.session.execute(
        update(Contact)
        .where(col(Contact.learner_id) == updated.learner_id, _older_than(event.time))
        .values(**_pii_values(updated.pii), as_of=event.time)
    )
    if not allows(updated.pii.consent, Use.MESSAGES):
        await _cancel_pending(tx, learner_id=updated.learner_id)


async def learner_transferred(tx: Transaction, *, event: CloudEvent[LearnerTransferred]) -> None:
    """Follow the learner to the new center (who may see their deliveries), tell partners."""
    moved = event.data
    await tx.session.execute(
        update(Contact)
        .where(col(Contact.learner_id) == moved.learner_id, _older_than(event.time))
        .values(
            association_id=moved.association_id,
            center_id=moved.to_center_id,
            region_code=moved.region_code,
            province_code=moved.province_code,
            as_of=event.time,
        )
    )
    await publish_to_partners(tx, event=event)


async def learner_erased(tx: Transaction, *, event: CloudEvent[LearnerErased]) -> None:
    """Forget the guardian's contact and every message to them (rendered texts included),
    keep a tombstone, drop the learner's events from the dead letters, and tell partners if
    they heard of the learner (so that they forget too, consent withdrawn or not)."""
    learner_id = event.data.learner_id
    contact = await _contact(tx, learner_id)
    known_to_partners = contact is not None and contact.known_to_partners
    AUDIT.record(
        tx.session,
        None,
        "learner.erased",
        entity="learner",
        entity_id=learner_id,
        learner_id=learner_id,
        place=place_of(contact) if contact else None,
    )
    await tx.session.execute(delete(Delivery).where(col(Delivery.learner_id) == learner_id))
    await tx.session.execute(delete(Contact).where(col(Contact.learner_id) == learner_id))
    if not await _erased(tx, learner_id):
        tx.session.add(ErasedLearner(learner_id=learner_id, erased_at=event.data.erased_at))
    await _forget_dead_letters(tx, learner_id=learner_id)
    form = partner_form(event.data)
    if known_to_partners and form is not None:
        await _publish_partner_form(tx, form)


# ---- what guardians and associations are told ----------------------------------------------


async def tell(
    tx: Transaction, *, event: CloudEvent[Any], learner_id: str, topic: Topic, values: Values
) -> list[Delivery]:
    """Queue the message of ``topic`` about a learner to their guardian — in the guardian's
    language, by SMS and (when known) e-mail, only with consent — and by e-mail to the
    learner's association, if it gave an address. Nothing for an erased learner; raises
    :class:`ContactNotYetKnownError` when the enrollment has not arrived yet."""
    addressees = await _known_addressees(tx, learner_id)
    if addressees is None:
        return []
    return await _tell(tx, event=event, addressees=addressees, topic=topic, values=values)


async def _tell_and_publish(
    tx: Transaction, *, event: CloudEvent[Any], learner_id: str, topic: Topic, values: Values
) -> None:
    """:func:`tell`, then :func:`publish_to_partners`, from one read of the contact."""
    addressees = await _known_addressees(tx, learner_id)
    if addressees is None:
        return
    await _tell(tx, event=event, addressees=addressees, topic=topic, values=values)
    await _publish_about(tx, partner_form(event.data), contact=addressees.contact)


async def _known_addressees(tx: Transaction, learner_id: str) -> _Addressees | None:
    """The learner's addressees; ``None`` for an erased learner; raises
    :class:`ContactNotYetKnownError` when the enrollment has not arrived yet."""
    addressees = await _addressees(tx, learner_id)
    if addressees is None:
        # Erased, or not known yet: only then is the tombstone read on its own.
        if await _erased(tx, learner_id):
            return None
        raise ContactNotYetKnownError(f"learner {learner_id} is not known yet")
    return addressees


async def _tell(
    tx: Transaction,
    *,
    event: CloudEvent[Any],
    addressees: _Addressees,
    topic: Topic,
    values: Values,
) -> list[Delivery]:
    contact, association = addressees
    return [
        *await _tell_contact(tx, event=event, contact=contact, topic=topic, values=values),
        *await _tell_association(
            tx, event=event, contact=contact, association=association, topic=topic, values=values
        ),
    ]


class _Addressees(NamedTuple):
    contact: Contact
    association: AssociationContact | None


async def _addressees(tx: Transaction, learner_id: str) -> _Addressees | None:
    """The learner's contact and their association's address (if it gave one), in one read;
    ``None`` without a contact, or for an erased learner (whose contact a replica applying a
    late enrollment at the moment of the erasure could have left behind)."""
    row = (await tx.session.exec(_ADDRESSEES, params={"learner_id": learner_id})).first()
    return None if row is None else _Addressees(*row)


class _Addressee(NamedTuple):
    kind: RecipientKind
    language: Language
    email: str | None


def addressee(contact: Contact) -> _Addressee:
    """Whom messages about the learner go to today (the message's date): the guardian of a
    minor; from 18 the learner, at their own phone, in words addressed to them. A learner who
    came of age during the programme without their own phone recorded is still reached
    through the guardian their enrolment gave, until staff record it."""
    if (
        contact.birth_date is not None
        and contact.learner_phone is not None
        and is_adult(contact.birth_date, local_today())
    ):
        language = Language(contact.learner_language or contact.preferred_language)
        return _Addressee(RecipientKind.LEARNER, language, contact.learner_email)
    return _Addressee(RecipientKind.GUARDIAN, Language(contact.preferred_language), contact.email)


async def _tell_contact(
    tx: Transaction, *, event: CloudEvent[Any], contact: Contact, topic: Topic, values: Values
) -> list[Delivery]:
    if not allows(consent_of(contact), Use.MESSAGES):
        return []
    to = addressee(contact)
    text = domain.render(topic, to.language, to.kind, **values(to.language))
    channels = [ChannelKind.SMS] + ([ChannelKind.EMAIL] if to.email else [])
    queued = []
    for channel in channels:
        delivery = _delivery(
            event,
            text,
            learner_id=contact.learner_id,
            kind=to.kind,
            recipient=contact.learner_id,
            channel=channel,
        )
        if await _queue(tx, delivery) is not None:
            queued.append(delivery)
    return queued


async def _tell_association(
    tx: Transaction,
    *,
    event: CloudEvent[Any],
    contact: Contact,
    association: AssociationContact | None,
    topic: Topic,
    values: Values,
) -> list[Delivery]:
    """The association hears of its learners whatever the guardian's consent to messages:
    they are its own learners, and it acts on what it hears (e.g. one at risk)."""
    if association is None:
        return []
    language = Language(association.preferred_language)
    name = contact.learner_name_ar if language is Language.AR else contact.learner_name_latin
    text = domain.render(
        topic,
        language,
        RecipientKind.ASSOCIATION,
        learner=name or contact.enrollment_id,
        **values(language),
    )
    delivery = _delivery(
        event,
        text,
        learner_id=contact.learner_id,
        kind=RecipientKind.ASSOCIATION,
        recipient=association.association_id,
        channel=ChannelKind.EMAIL,
    )
    return [delivery] if await _queue(tx, delivery) is not None else []


def _delivery(
    event: CloudEvent[Any],
    text: domain.Text,
    *,
    learner_id: str,
    kind: RecipientKind,
    recipient: str,
    channel: ChannelKind,
) -> Delivery:
    return Delivery(
        id=str(uuid6.uuid7()),
        learner_id=learner_id,
        recipient_kind=kind.value,
        recipient=recipient,
        channel=channel.value,
        template=text.template.id,
        cause_event_id=event.id,
        cause_type=event.type,
        title=text.subject,
        body=text.body,
        created_at=utcnow(),
        next_attempt_at=utcnow(),
    )


async def learner_at_risk(tx: Transaction, *, event: CloudEvent[LearnerAtRisk]) -> None:
    """Ask the guardian to help the learner keep coming (attendance fell under threshold)."""
    rate = domain.percent(event.data.attendance_rate)
    await tell(
        tx,
        event=event,
        learner_id=event.data.learner_id,
        topic=Topic.LEARNER_AT_RISK,
        values=lambda _language: {"attendance": rate},
    )


async def training_completed(tx: Transaction, *, event: CloudEvent[TrainingCompleted]) -> None:
    """Tell the guardian the training ended, tell partners."""
    await _tell_and_publish(
        tx,
        event=event,
        learner_id=event.data.learner_id,
        topic=Topic.TRAINING_COMPLETED,
        values=lambda _language: {},
    )


async def certificate_issued(tx: Transaction, *, event: CloudEvent[CertificateIssued]) -> None:
    """Tell the guardian of the certificate and where to verify it, tell partners."""
    issued = event.data
    await _tell_and_publish(
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


async def certificate_revoked(tx: Transaction, *, event: CloudEvent[CertificateRevoked]) -> None:
    """Tell the guardian the certificate was revoked, tell partners."""
    revoked = event.data
    await _tell_and_publish(
        tx,
        event=event,
        learner_id=revoked.learner_id,
        topic=Topic.CERTIFICATE_REVOKED,
        values=lambda _language: {"number": revoked.certificate_number},
    )


# ---- the partner feed ----------------------------------------------------------------------


def consent_of(contact: Contact) -> Consent:
    """The consent a contact holds, as enrollment last published it."""
    return Consent(
        data_use=contact.consent_data_use,
        notifications=contact.consent_notifications,
        partner_sharing=contact.consent_partner_sharing,
    )


async def publish_to_partners(tx: Transaction, *, event: CloudEvent[Any]) -> None:
    """Republish the partner form of ``event`` to the PARTNER stream (through the outbox) and
    queue it for every enabled endpoint subscribed to its type — only while the learner's
    consent allows sharing with partners (nothing about an erased learner). Raises
    :class:`ContactNotYetKnownError` while the learner's enrollment (their consent) has not
    arrived."""
    form = partner_form(event.data)
    if form is None:
        return
    learner_id: str = event.data.learner_id
    contact = await _contact(tx, learner_id)
    if contact is None:
        if await _erased(tx, learner_id):
            return
        raise ContactNotYetKnownError(f"learner {learner_id} is not known yet")
    await _publish_about(tx, form, contact=contact)


async def _publish_about(tx: Transaction, form: PartnerEvent | None, *, contact: Contact) -> None:
    """Publish ``form`` (if any) about the learner of ``contact`` (as the database holds it
    now) while their consent allows sharing with partners."""
    if form is None or not allows(consent_of(contact), Use.PARTNER_SHARING):
        return
    contact.known_to_partners = True
    tx.session.add(contact)
    await _publish_partner_form(tx, form)


async def referral_status_changed(
    tx: Transaction, *, event: CloudEvent[ReferralStatusChanged]
) -> None:
    """Tell the referring partner, and no other, of its referral's new status: queued for
    its own enabled endpoints subscribed to the type, never published to the PARTNER stream
    (every partner reads that stream whole). The referral's version orders the messages."""
    form = referring_partner_form(event.data)
    told = new_event(
        form.data,
        source=tx.source,
        subject=form.subject,
        sequence=event.sequence,
        correlationid=event.correlationid,
        causationid=event.id,
    )
    await _queue_webhooks(tx, told, col(PartnerEndpoint.partner_id) == event.data.partner_id)


async def _publish_partner_form(tx: Transaction, form: PartnerEvent) -> None:
    sequence = await _next_feed_sequence(tx, subject=form.subject)
    published = await tx.emit(form.data, subject=form.subject, sequence=sequence)
    await _queue_webhooks(tx, published)


async def _queue_webhooks(
    tx: Transaction, published: CloudEvent[Any], *among: ColumnElement[bool]
) -> None:
    """A delivery of ``published`` for each enabled endpoint subscribed to its type (only
    ``among`` those the conditions select)."""
    endpoints = await tx.session.exec(
        _ENABLED_ENDPOINTS.where(*among) if among else _ENABLED_ENDPOINTS
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
    """The next sequence of ``subject``'s partner events, in one atomic upsert: replicas
    racing on one subject wait on the row's lock and each get their own number."""
    result = await NEXT_FEED_SEQUENCE.execute(tx.session, subject=subject)
    return int(result.scalar_one())


# ---- statements ----------------------------------------------------------------------------


def _keep_contact_statement(insert: InsertOf) -> Insert:
    # One atomic upsert: two replicas racing on one learner never fail on the key (such an
    # error would carry the phone number into logs and dead letters). A contact that holds
    # what enrollment published later than this event is left as it is.
    statement = insert(Contact).values(placeholders(Contact))
    newer = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["learner_id"],
        set_={
            name: newer[name]
            for name in placeholders(Contact)
            if name not in ("learner_id", "known_to_partners")
        },
        where=or_(col(Contact.as_of).is_(None), col(Contact.as_of) <= newer.as_of),
    )


_KEEP_CONTACT = Upsert(_keep_contact_statement)
# Public for bench/upsert.py, which measures this very statement.
NEXT_FEED_SEQUENCE = Upsert(
    lambda insert: (
        insert(PartnerFeedPosition)
        .values(subject=bindparam("subject"), sequence=1)
        .on_conflict_do_update(
            index_elements=["subject"], set_={"sequence": col(PartnerFeedPosition.sequence) + 1}
        )
        .returning(col(PartnerFeedPosition.sequence))
    )
)
# A delivery unless this event already gave one to this recipient and channel.
_QUEUE = Upsert(
    lambda insert: (
        insert(Delivery)
        .values(placeholders(Delivery))
        .on_conflict_do_nothing(index_elements=["cause_event_id", "channel", "recipient"])
    )
)


# The reads of every event, built once: SQLAlchemy keeps a statement's cache key, which it
# would otherwise compute again for each new statement object.
_ADDRESSEES = (
    select(Contact, AssociationContact)
    .outerjoin(
        AssociationContact,
        col(AssociationContact.association_id) == col(Contact.association_id),
    )
    .outerjoin(ErasedLearner, col(ErasedLearner.learner_id) == col(Contact.learner_id))
    .where(
        col(Contact.learner_id) == bindparam("learner_id"),
        col(ErasedLearner.learner_id).is_(None),
    )
    .execution_options(populate_existing=True)
)
_CONTACT = (
    select(Contact)
    .where(col(Contact.learner_id) == bindparam("learner_id"))
    .execution_options(populate_existing=True)
)
_ENABLED_ENDPOINTS = select(PartnerEndpoint).where(col(PartnerEndpoint.disabled_at).is_(None))


# ---- helpers -------------------------------------------------------------------------------


def _older_than(as_of: datetime) -> ColumnElement[bool]:
    """Contacts that hold what enrollment published before ``as_of`` (or at an unknown time)."""
    return or_(col(Contact.as_of).is_(None), col(Contact.as_of) <= as_of)


def _pii_values(pii: LearnerPII) -> dict[str, Any]:
    guardian, own = pii.guardian, pii.contact
    return {
        "learner_name_ar": f"{pii.first_name_ar} {pii.last_name_ar}",
        "learner_name_latin": f"{pii.first_name_latin} {pii.last_name_latin}",
        "guardian_name": guardian.name,
        "phone": guardian.phone,
        "email": guardian.email,
        "preferred_language": guardian.preferred_language.value,
        "birth_date": pii.birth_date,
        "learner_phone": own.phone if own else None,
        "learner_email": own.email if own else None,
        "learner_language": own.preferred_language.value if own else None,
        "consent_notifications": pii.consent.notifications,
        "consent_data_use": pii.consent.data_use,
        "consent_partner_sharing": pii.consent.partner_sharing,
    }


async def _queue(tx: Transaction, delivery: Delivery) -> Delivery | None:
    """Insert a delivery unless this event already gave one to this recipient and channel."""
    delivery.traceparent = current_trace_headers().get("traceparent")
    result = await _QUEUE.execute(tx.session, **delivery.model_dump())
    return delivery if getattr(result, "rowcount", 0) else None


async def _cancel_pending(tx: Transaction, *, learner_id: str) -> None:
    """Cancel the messages to the learner's contact (guardian or adult learner) not yet sent
    (the association's are not theirs)."""
    await tx.session.execute(
        update(Delivery)
        .where(
            col(Delivery.learner_id) == learner_id,
            col(Delivery.recipient_kind).in_(
                [RecipientKind.GUARDIAN.value, RecipientKind.LEARNER.value]
            ),
            col(Delivery.status) == DeliveryStatus.PENDING.value,
        )
        .values(status=DeliveryStatus.CANCELLED.value, last_error="consent_withdrawn")
    )


async def _contact(tx: Transaction, learner_id: str) -> Contact | None:
    """The learner's contact as the database holds it now (upserts bypass the session)."""
    return (await tx.session.exec(_CONTACT, params={"learner_id": learner_id})).first()


async def _erased(tx: Transaction, learner_id: str) -> bool:
    return await tx.session.get(ErasedLearner, learner_id) is not None


async def _forget_dead_letters(tx: Transaction, *, learner_id: str) -> None:
    """Delete dead-lettered events that name the learner: their payloads may hold the `pii`."""
    dead = tx.tables.dead_letter
    rows = await tx.session.execute(select(dead.c.id, dead.c.payload))
    doomed = [row.id for row in rows if learner_id.encode() in row.payload]
    if doomed:
        await tx.session.execute(delete(dead).where(dead.c.id.in_(doomed)))
