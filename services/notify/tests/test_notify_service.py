"""The notify service layer against a real database, with in-memory channels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from fursa.notify import service
from fursa.notify.channels import Channel, Message
from fursa.notify.models import KERNEL, Base, Contact, Delivery
from fursa.shared.contracts import (
    CertificateIssued,
    CertificateKind,
    CloudEvent,
    Pathway,
    new_event,
)
from fursa.shared.contracts import Channel as ChannelKind
from fursa.shared.db import Database
from fursa.shared.messaging.outbox import UnitOfWork
from fursa.shared.testing.builders import learner_enrolled, uuid_of


@dataclass
class RecordingChannel:
    """An SMS channel that keeps what it was asked to send."""

    sent: list[Message] = field(default_factory=list)

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind.SMS

    async def send(self, message: Message) -> None:
        self.sent.append(message)


class BrokenChannel(RecordingChannel):
    async def send(self, message: Message) -> None:
        raise ConnectionError("the SMS gateway is down")


def issued_event(n: int) -> CloudEvent[CertificateIssued]:
    number = f"MS-2026-{n:06d}"
    return new_event(
        CertificateIssued(
            certificate_id=uuid_of("certificate", n),
            certificate_number=number,
            enrollment_id=uuid_of("enrollment", n),
            learner_id=uuid_of("learner", n),
            kind=CertificateKind.ATTESTATION,
            pathway=Pathway.SCHOOL_REINTEGRATION,
            issued_on=date(2026, 6, 30),
            verification_url=f"https://verify.fursa.test/verify/{number}",
        ),
        subject=uuid_of("certificate", n),
        sequence=1,
    )


@dataclass
class Notify:
    db: Database
    uow: UnitOfWork

    async def enroll(self, n: int, *, notifications: bool = True) -> None:
        async with self.uow.begin() as tx:
            await service.learner_enrolled(
                tx, enrolled=learner_enrolled(n, notifications=notifications)
            )

    async def tell(self, event: CloudEvent[CertificateIssued], channel: Channel) -> Delivery | None:
        async with self.uow.begin(cause=event) as tx:
            return await service.certificate_issued(tx, event=event, channel=channel)

    async def rows(self, table: Any) -> int:
        async with self.db.connect() as connection:
            count = select(func.count()).select_from(table)
            return int((await connection.execute(count)).scalar_one())


@pytest.fixture
async def notify(database_url: str) -> AsyncIterator[Notify]:
    db = Database(database_url, Base.metadata)
    await db.create_all()
    try:
        yield Notify(db, UnitOfWork(db, KERNEL, source="fursa/notify"))
    finally:
        await db.dispose()


async def test_guardian_gets_the_attestation_message_in_arabic(notify: Notify) -> None:
    channel = RecordingChannel()
    await notify.enroll(1)  # learner 1's guardian prefers Arabic
    delivery = await notify.tell(issued_event(1), channel)

    assert delivery is not None
    assert delivery.template == "certificate-issued.ar"
    [message] = channel.sent
    assert message.to == learner_enrolled(1).pii.guardian.phone
    assert "شهادة" in message.text
    assert await notify.rows(KERNEL.outbox) == 1


async def test_one_event_gives_one_message_per_recipient_and_channel(notify: Notify) -> None:
    channel = RecordingChannel()
    event = issued_event(1)
    await notify.enroll(1)
    assert await notify.tell(event, channel) is not None
    assert await notify.tell(event, channel) is None
    assert len(channel.sent) == 1
    assert await notify.rows(Delivery) == 1


async def test_consent_withdrawn_by_a_later_enrollment_stops_messages(notify: Notify) -> None:
    channel = RecordingChannel()
    await notify.enroll(1)
    await notify.enroll(1, notifications=False)
    assert await notify.tell(issued_event(1), channel) is None
    assert channel.sent == []
    assert await notify.rows(Delivery) == 0
    assert await notify.rows(KERNEL.outbox) == 0


async def test_certificate_of_an_unknown_learner_waits_for_the_enrollment(
    notify: Notify,
) -> None:
    with pytest.raises(service.ContactNotYetKnownError):
        await notify.tell(issued_event(1), RecordingChannel())


async def test_failed_send_leaves_no_delivery_and_no_event(notify: Notify) -> None:
    await notify.enroll(1)
    with pytest.raises(ConnectionError):
        await notify.tell(issued_event(1), BrokenChannel())
    assert await notify.rows(Delivery) == 0
    assert await notify.rows(KERNEL.outbox) == 0


async def test_contact_keeps_where_the_learner_is_enrolled(notify: Notify) -> None:
    await notify.enroll(1)
    moved = learner_enrolled(1).model_copy(
        update={
            "association_id": uuid_of("association", 2),
            "center_id": uuid_of("center", 2),
            "region_code": "04",
            "province_code": "041",
        }
    )
    async with notify.uow.begin() as tx:
        await service.learner_enrolled(tx, enrolled=moved)

    async with notify.db.transaction() as session:
        contact = await session.get(Contact, uuid_of("learner", 1))
    assert contact is not None
    assert (contact.association_id, contact.center_id) == (
        uuid_of("association", 2),
        uuid_of("center", 2),
    )
    assert (contact.region_code, contact.province_code) == ("04", "041")
