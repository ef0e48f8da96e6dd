"""How notify reacts to each event, against a real database (SQLite and PostgreSQL): contacts,
consent, erasure, the messages it queues and the partner feed events it records. Nothing is
sent here: sending is the delivery worker's (test_notify_delivery.py)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from fursa.notify import deliveries, partners, service
from fursa.notify.models import KERNEL, Contact, ErasedLearner
from fursa.shared.auth import Principal, Role
from fursa.shared.clock import utcnow
from fursa.shared.contracts import parse_event
from fursa.shared.testing.builders import learner_pii, uuid_of

Notify = Any  # the conftest's harness


async def test_enrollment_queues_an_sms_in_the_guardians_language(
    notify: Notify, journey: Any
) -> None:
    await notify.hear(journey.enrolled(1))  # learner 1's guardian prefers Arabic

    [sms] = await notify.deliveries(1)
    assert (sms.channel, sms.status, sms.template) == ("sms", "pending", "learner-enrolled.ar")
    assert sms.recipient_kind == "guardian"
    assert "2025/2026" in sms.body
    assert sms.attempts == 0
    contact = await notify.contact(1)
    assert contact is not None
    assert contact.phone == learner_pii(1).guardian.phone


async def test_a_known_email_address_gets_the_message_by_email_too(
    notify: Notify, journey: Any
) -> None:
    await notify.hear(journey.enrolled(3, email="parent3@example.ma"))  # French-speaking

    email, sms = sorted(await notify.deliveries(3), key=lambda d: d.channel)
    assert (email.channel, sms.channel) == ("email", "sms")
    assert email.template == sms.template == "learner-enrolled.fr"
    assert email.title == "Inscription confirmée – École de la Deuxième Chance"
    assert email.body == sms.body


async def test_waitlisted_guardian_is_told_the_place_in_line(notify: Notify, journey: Any) -> None:
    await notify.hear(journey.waitlisted(3))

    [sms] = await notify.deliveries(3)
    assert sms.template == "learner-waitlisted.fr"
    assert "en position 2" in sms.body
    assert await notify.contact(3) is not None


@pytest.mark.parametrize(
    ("event", "template", "says"),
    [
        ("at_risk", "learner-at-risk.ar", "42٪"),
        ("completed", "training-completed.ar", "أنهى طفلكم تكوينه"),
        ("issued", "certificate-issued.ar", "https://verify.fursa.test/verify/MS-2026-000001"),
        ("revoked", "certificate-revoked.ar", "MS-2026-000001"),
    ],
)
async def test_each_thing_a_guardian_must_hear_of_is_queued_in_their_language(
    notify: Notify, journey: Any, event: str, template: str, says: str
) -> None:
    await notify.hear(journey.enrolled(1))
    await notify.hear(getattr(journey, event)(1))

    told = [d for d in await notify.deliveries(1) if d.template == template]
    assert len(told) == 1
    assert says in told[0].body


async def test_one_event_gives_one_message_per_recipient_and_channel(
    notify: Notify, journey: Any
) -> None:
    await notify.hear(journey.enrolled(1))
    issued = journey.issued(1)
    await notify.hear(issued)
    await notify.hear(issued)

    assert [d.template for d in await notify.deliveries(1)] == [
        "learner-enrolled.ar",
        "certificate-issued.ar",
    ]


async def test_guardian_without_consent_is_told_nothing(notify: Notify, journey: Any) -> None:
    await notify.hear(journey.enrolled(1, notifications=False))
    await notify.hear(journey.issued(1))

    assert await notify.deliveries(1) == []


async def test_withdrawn_consent_cancels_every_message_not_yet_sent(
    notify: Notify, journey: Any
) -> None:
    await notify.hear(journey.enrolled(1))
    await notify.hear(journey.issued(1))
    await notify.hear(journey.updated(1, notifications=False))

    assert {d.status for d in await notify.deliveries(1)} == {"cancelled"}
    assert (await deliveries.claim(notify.uow, lease=timedelta(minutes=1), limit=10)).claims == []
    await notify.hear(journey.revoked(1))
    assert len(await notify.deliveries(1)) == 2


async def test_consent_withdrawn_between_attempts_stops_the_retry(
    notify: Notify, journey: Any
) -> None:
    """The check is made at each attempt too: a pending retry whose guardian's contact now
    refuses messages is cancelled when it comes due, not sent."""
    await notify.hear(journey.enrolled(1))
    async with notify.uow.begin() as tx:
        contact = await tx.session.get(Contact, uuid_of("learner", 1))
        assert contact is not None
        contact.consent_notifications = False
        tx.session.add(contact)

    assert (await deliveries.claim(notify.uow, lease=timedelta(minutes=1), limit=10)).claims == []
    assert [d.status for d in await notify.deliveries(1)] == ["cancelled"]


async def test_a_corrected_phone_number_is_used_by_the_next_attempt(
    notify: Notify, journey: Any
) -> None:
    await notify.hear(journey.enrolled(2))
    corrected = journey.updated(2)
    new_phone = "+212677700002"
    guardian = corrected.data.pii.guardian.model_copy(update={"phone": new_phone})
    pii = corrected.data.pii.model_copy(update={"guardian": guardian})
    corrected = corrected.model_copy(
        update={"data": corrected.data.model_copy(update={"pii": pii})}
    )
    await notify.hear(corrected)

    [claim] = (await deliveries.claim(notify.uow, lease=timedelta(minutes=1), limit=10)).claims
    assert claim.message.to == new_phone


async def test_an_event_before_the_enrollment_waits_for_it(notify: Notify, journey: Any) -> None:
    with pytest.raises(service.ContactNotYetKnownError):
        await notify.hear(journey.issued(5))


async def test_erasure_forgets_the_contact_every_message_and_dead_letters_about_them(
    notify: Notify, journey: Any
) -> None:
    enrolled = journey.enrolled(1, email="parent1@example.ma")
    await notify.hear(enrolled)
    await notify.hear(journey.enrolled(2))
    async with notify.db.transaction() as session:
        await session.execute(
            KERNEL.dead_letter.insert().values(
                consumer="notify-enrollment",
                event_id=enrolled.id,
                type=enrolled.type,
                nats_subject=enrolled.type,
                headers="{}",
                payload=json.dumps(enrolled.model_dump(mode="json")).encode(),
                error="test",
                deliveries=8,
                failed_at=utcnow(),
            )
        )

    await notify.hear(journey.erased(1))

    assert await notify.contact(1) is None
    assert await notify.deliveries(1) == []
    assert await notify.count(KERNEL.dead_letter) == 0
    assert await notify.count(ErasedLearner) == 1
    assert len(await notify.deliveries(2)) == 1  # another learner's messages stay


async def test_an_event_redelivered_after_erasure_does_not_bring_the_learner_back(
    notify: Notify, journey: Any
) -> None:
    await notify.hear(journey.erased(1))
    await notify.hear(journey.enrolled(1))
    await notify.hear(journey.waitlisted(1))
    await notify.hear(journey.issued(1))

    assert await notify.contact(1) is None
    assert await notify.deliveries(1) == []


async def test_a_contact_left_behind_by_a_racing_erasure_is_never_told(
    notify: Notify, journey: Any
) -> None:
    # Two replicas: one applies the erasure while the other applies a late enrollment, which
    # had not seen the tombstone yet — the contact survives beside it.
    await notify.hear(journey.enrolled(1))
    async with notify.db.transaction() as session:
        session.add(ErasedLearner(learner_id=uuid_of("learner", 1), erased_at=utcnow()))

    await notify.hear(journey.issued(1))

    assert [d.template for d in await notify.deliveries(1)] == ["learner-enrolled.ar"]


async def test_transfer_moves_who_may_see_the_learners_messages(
    notify: Notify, journey: Any
) -> None:
    await notify.hear(journey.enrolled(1))
    await notify.hear(journey.transferred(1))

    contact = await notify.contact(1)
    assert contact is not None
    assert (contact.association_id, contact.center_id, contact.province_code) == (
        uuid_of("association", 2),
        uuid_of("center", 2),
        "072",
    )


async def test_partner_events_are_recorded_without_personal_data(
    notify: Notify, journey: Any
) -> None:
    for event in (
        journey.enrolled(1, email="parent1@example.ma"),
        journey.transferred(1),
        journey.at_risk(1),
        journey.updated(1),
        journey.completed(1),
        journey.outcome(1),
        journey.issued(1),
        journey.revoked(1),
        journey.withdrawn(1),
        journey.erased(1),
    ):
        await notify.hear(event)

    feed = [event for event in await notify.outbox() if event.type.startswith("fursa.partner.")]
    assert [event.type for event in feed] == [
        "fursa.partner.learner-enrolled.v1",
        "fursa.partner.learner-transferred.v1",
        "fursa.partner.training-completed.v1",
        "fursa.partner.learner-outcome-recorded.v1",
        "fursa.partner.certificate-issued.v1",
        "fursa.partner.certificate-revoked.v1",
        "fursa.partner.learner-withdrawn.v1",
        "fursa.partner.enrollments-erased.v1",
    ]
    enrollment = [e for e in feed if e.subject == uuid_of("enrollment", 1)]
    assert [e.sequence for e in enrollment] == list(range(1, len(enrollment) + 1))
    assert all(e.source == "fursa/notify" and e.causationid for e in feed)
    text = "".join(json.dumps(e.model_dump(mode="json")) for e in feed)
    assert uuid_of("learner", 1) not in text
    assert learner_pii(1).guardian.phone not in text
    assert "Lycée" not in text  # free text of the outcome stays internal


ADMIN = Principal(subject="admin", role=Role.ADMIN)


async def test_endpoints_hear_only_the_event_types_they_chose(notify: Notify, journey: Any) -> None:
    partner = await partners.register_partner(notify.uow, name="Association Relais", by=ADMIN)
    await partners.add_endpoint(
        notify.uow,
        partner_id=partner.id,
        url="https://partner.example/hooks",
        event_types=["fursa.partner.certificate-issued.v1"],
        by=ADMIN,
    )
    await notify.hear(journey.enrolled(1))
    await notify.hear(journey.issued(1))

    [webhook] = [d for d in await notify.deliveries() if d.channel == "webhook"]
    assert webhook.template == "fursa.partner.certificate-issued.v1"
    assert webhook.learner_id is None
    assert parse_event(webhook.body.encode()).type == "fursa.partner.certificate-issued.v1"


async def test_an_older_enrollment_arriving_late_does_not_undo_a_withdrawn_consent(
    notify: Notify, journey: Any
) -> None:
    first = journey.enrolled(1)
    stale = journey.enrolled(1)  # published before the withdrawal, delivered after it
    withdrawal = journey.updated(1, notifications=False)
    await notify.hear(first)
    await notify.hear(withdrawal)
    await notify.hear(stale)

    contact = await notify.contact(1)
    assert contact is not None
    assert contact.consent_notifications is False
    assert {d.status for d in await notify.deliveries(1)} == {"cancelled"}
