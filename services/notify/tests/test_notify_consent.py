"""Consent where notify's data flows (fursa.shared.consent): no partner event about a learner
without consent to share, a withdrawal heard through learner-updated stops what follows, an
erasure reaches partners only about a learner they heard of. Against a real database, and end
to end over a real nats-server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from nats.js import JetStreamContext

from fursa.notify.service import ContactNotYetKnownError
from fursa.shared.contracts import CloudEvent, Consent, LearnerPII, LearnerUpdated, new_event
from fursa.shared.testing.builders import learner_pii, uuid_of
from fursa.shared.testing.kernel import wait_until

Notify = Any  # the conftest's harness
Publish = Callable[[Any], Any]


def pii(n: int, **consent: bool) -> LearnerPII:
    given = {"data_use": True, "notifications": True, "partner_sharing": True, **consent}
    return learner_pii(n).model_copy(update={"consent": Consent(**given)})


def consent_changed(n: int, *, sequence: int = 1, **consent: bool) -> CloudEvent[Any]:
    data = LearnerUpdated(
        learner_id=uuid_of("learner", n),
        association_id=uuid_of("association", 1),
        changed=[f"consent.{name}" for name in consent],
        updated_at="2026-01-10T10:00:00Z",  # type: ignore[arg-type]
        pii=pii(n, **consent),
    )
    return new_event(data, subject=uuid_of("learner", n), sequence=sequence)


async def partner_feed(notify: Notify) -> list[CloudEvent[Any]]:
    return [event for event in await notify.outbox() if event.type.startswith("fursa.partner.")]


@pytest.mark.parametrize(
    "refused", [{"partner_sharing": False}, {"data_use": False}], ids=["no-sharing", "no-data-use"]
)
async def test_partners_hear_nothing_of_a_learner_without_consent_to_share(
    notify: Notify, journey: Any, refused: dict[str, bool]
) -> None:
    await notify.hear(journey.enrolled(1, pii=pii(1, **refused)))
    for event in (journey.completed(1), journey.issued(1), journey.withdrawn(1)):
        await notify.hear(event)
    # The guardian, who agreed to messages, is still told.
    told = {d.template for d in await notify.deliveries(1) if d.recipient_kind == "guardian"}
    assert told == {"learner-enrolled.ar", "training-completed.ar", "certificate-issued.ar"}
    await notify.hear(journey.erased(1))

    assert await partner_feed(notify) == []


async def test_a_withdrawn_consent_to_share_stops_partner_events_but_they_hear_the_erasure(
    notify: Notify, journey: Any
) -> None:
    await notify.hear(journey.enrolled(1))
    await notify.hear(consent_changed(1, partner_sharing=False))
    await notify.hear(journey.completed(1))
    await notify.hear(journey.issued(1))
    await notify.hear(journey.erased(1))

    assert [event.type for event in await partner_feed(notify)] == [
        "fursa.partner.learner-enrolled.v1",
        "fursa.partner.enrollments-erased.v1",
    ]


async def test_a_consent_to_share_given_later_shares_what_follows(
    notify: Notify, journey: Any
) -> None:
    await notify.hear(journey.enrolled(2, pii=pii(2, partner_sharing=False)))
    await notify.hear(consent_changed(2, partner_sharing=True))
    await notify.hear(journey.completed(2))

    assert [event.type for event in await partner_feed(notify)] == [
        "fursa.partner.training-completed.v1"
    ]


async def test_a_partner_event_waits_until_the_learners_consent_is_known(
    notify: Notify, journey: Any
) -> None:
    with pytest.raises(ContactNotYetKnownError):
        await notify.hear(journey.withdrawn(3))

    await notify.hear(journey.enrolled(3))
    await notify.hear(journey.withdrawn(3))
    assert [event.type for event in await partner_feed(notify)] == [
        "fursa.partner.learner-enrolled.v1",
        "fursa.partner.learner-withdrawn.v1",
    ]


async def test_an_older_enrollment_arriving_late_does_not_undo_a_withdrawn_consent_to_share(
    notify: Notify, journey: Any
) -> None:
    stale = journey.enrolled(1)  # published before the withdrawal, delivered after it
    await notify.hear(journey.enrolled(1))
    await notify.hear(consent_changed(1, partner_sharing=False))
    await notify.hear(stale)
    await notify.hear(journey.completed(1))

    contact = await notify.contact(1)
    assert contact is not None
    assert (contact.consent_partner_sharing, contact.known_to_partners) == (False, True)
    assert [event.type for event in await partner_feed(notify)] == [
        "fursa.partner.learner-enrolled.v1"
    ]


async def _settled(js: JetStreamContext) -> bool:
    for stream in ("ENROLLMENT", "TRAINING", "CERTIFICATION"):
        info = await js.consumer_info(stream, f"notify-{stream.lower()}")
        if info.num_pending or info.num_ack_pending:
            return False
    return True


async def test_over_nats_the_partner_stream_carries_only_learners_who_consented(
    client: httpx.AsyncClient, js: JetStreamContext, journey: Any, publish_event: Publish
) -> None:
    await publish_event(journey.enrolled(4, pii=pii(4, partner_sharing=False)))
    await publish_event(journey.enrolled(5))
    await wait_until(lambda: _settled(js))
    await publish_event(consent_changed(5, partner_sharing=False))
    await wait_until(lambda: _settled(js))
    await publish_event(journey.completed(4))
    await publish_event(journey.completed(5))
    await wait_until(lambda: _settled(js))
    # A learner who consents, last: the relay publishes in order, so once theirs is on the
    # stream, anything wrongly shared about learners 4 and 5 would be there too.
    await publish_event(journey.enrolled(6))

    await wait_until(lambda: _messages(js, "PARTNER", 2))
    shared = [await js.get_msg("PARTNER", seq) for seq in (1, 2)]
    assert [
        message.data is not None and b"learner-enrolled" in message.data for message in shared
    ] == [True, True]
    assert uuid_of("enrollment", 5).encode() in (shared[0].data or b"")
    assert uuid_of("enrollment", 6).encode() in (shared[1].data or b"")


async def _messages(js: JetStreamContext, stream: str, expected: int) -> bool:
    return int((await js.stream_info(stream)).state.messages) == expected
