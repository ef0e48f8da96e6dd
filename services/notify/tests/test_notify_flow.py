"""The notify service end to end: events in over a real nats-server, a message in the local
SMS sink, deliveries over HTTP and notification-sent on the NOTIFY stream; on SQLite and on
PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI
from nats.js import JetStreamContext

from fursa.notify.settings import NotifySettings
from fursa.shared.contracts import (
    CertificateIssued,
    CertificateKind,
    CloudEvent,
    EventData,
    NotificationSent,
    Pathway,
    new_event,
    parse_event,
    to_json_bytes,
)
from fursa.shared.testing.builders import learner_enrolled, learner_pii, uuid_of
from fursa.shared.testing.kernel import wait_until

NOTIFICATION_SENT = "fursa.notify.notification-sent.v1"


def issued_event(n: int) -> CloudEvent[Any]:
    """certificate-issued for the n-th test learner's diploma."""
    number = f"MS-2026-{n:06d}"
    data = CertificateIssued(
        certificate_id=uuid_of("certificate", n),
        certificate_number=number,
        enrollment_id=uuid_of("enrollment", n),
        learner_id=uuid_of("learner", n),
        kind=CertificateKind.DIPLOMA,
        pathway=Pathway.VOCATIONAL_TRAINING,
        issued_on=date(2026, 6, 30),
        verification_url=f"https://verify.fursa.test/verify/{number}",
    )
    return new_event(data, subject=data.certificate_id, sequence=1)


def enrolled_event(n: int, *, notifications: bool = True) -> CloudEvent[Any]:
    return new_event(
        learner_enrolled(n, notifications=notifications),
        subject=uuid_of("enrollment", n),
        sequence=1,
    )


async def publish(js: JetStreamContext, event: CloudEvent[EventData], msg_id: str = "") -> None:
    await js.publish(event.type, to_json_bytes(event), headers={"Nats-Msg-Id": msg_id or event.id})


async def settled(js: JetStreamContext) -> bool:
    """Every notify consumer has nothing pending and nothing awaiting an ack."""
    for stream in ("ENROLLMENT", "CERTIFICATION"):
        info = await js.consumer_info(stream, f"notify-{stream.lower()}")
        if info.num_pending or info.num_ack_pending:
            return False
    return True


def sink_lines(settings: NotifySettings) -> list[dict[str, str]]:
    path = settings.sink_dir / "sms.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def sent(client: httpx.AsyncClient) -> int:
    count: int = (await client.get("/deliveries/summary")).json()["sent"]
    return count


async def notifications_sent(js: JetStreamContext) -> int:
    return int((await js.stream_info("NOTIFY")).state.messages)


async def test_guardian_is_told_of_the_certificate_in_their_language(
    client: httpx.AsyncClient, js: JetStreamContext, settings: NotifySettings
) -> None:
    n = 3  # a French-speaking guardian (see the builder)
    issued = issued_event(n)
    await publish(js, enrolled_event(n))
    await publish(js, issued)

    await wait_until(lambda: _equals(sent(client), 1))
    [line] = sink_lines(settings)
    guardian = learner_pii(n).guardian
    assert line["phone"] == guardian.phone
    assert line["language"] == "fr"
    assert "MS-2026-000003" in line["text"]
    assert line["text"].endswith("https://verify.fursa.test/verify/MS-2026-000003")

    response = await client.get("/deliveries", params={"learner_id": uuid_of("learner", n)})
    assert guardian.phone not in response.text
    [delivery] = response.json()
    assert delivery["recipient_kind"] == "guardian"
    assert delivery["channel"] == "sms"
    assert delivery["template"] == "certificate-issued.fr"
    assert delivery["status"] == "sent"
    assert delivery["cause_event_id"] == issued.id
    assert delivery["cause_type"] == issued.type

    await wait_until(lambda: _equals(notifications_sent(js), 1))
    message = await js.get_last_msg("NOTIFY", NOTIFICATION_SENT)
    assert message.data is not None
    assert guardian.phone.encode() not in message.data
    event = parse_event(message.data)
    assert isinstance(event.data, NotificationSent)
    assert event.subject == delivery["id"]
    assert event.sequence == 1
    assert event.causationid == issued.id
    assert event.data.delivery_id == delivery["id"]
    assert event.data.template == "certificate-issued.fr"


async def test_redelivered_certificate_is_told_once(
    client: httpx.AsyncClient, js: JetStreamContext, settings: NotifySettings
) -> None:
    n = 1  # an Arabic-speaking guardian
    issued = issued_event(n)
    await publish(js, enrolled_event(n))
    await publish(js, issued, msg_id="copy-1")
    await publish(js, issued, msg_id="copy-2")

    await wait_until(lambda: settled(js))
    assert [line["language"] for line in sink_lines(settings)] == ["ar"]
    assert await sent(client) == 1
    response = await client.get("/deliveries", params={"learner_id": uuid_of("learner", n)})
    assert [d["template"] for d in response.json()] == ["certificate-issued.ar"]
    await wait_until(lambda: _equals(notifications_sent(js), 1))


async def test_guardian_without_consent_is_not_messaged(
    client: httpx.AsyncClient, js: JetStreamContext, settings: NotifySettings
) -> None:
    await publish(js, enrolled_event(4, notifications=False))
    await publish(js, issued_event(4))

    await wait_until(lambda: settled(js))
    assert sink_lines(settings) == []
    assert await sent(client) == 0
    response = await client.get("/deliveries", params={"learner_id": uuid_of("learner", 4)})
    assert response.json() == []
    assert await notifications_sent(js) == 0


async def test_certificate_before_enrollment_is_told_once_the_guardian_is_known(
    client: httpx.AsyncClient, js: JetStreamContext, settings: NotifySettings, app: FastAPI
) -> None:
    await publish(js, issued_event(5))
    [certification_consumer] = [
        consumer
        for consumer in app.state.runtime.consumers
        if consumer.name == "notify-certification"
    ]
    await wait_until(lambda: certification_consumer.stats.retried >= 1)
    assert sink_lines(settings) == []

    await publish(js, enrolled_event(5))
    await wait_until(lambda: _equals(sent(client), 1))
    await wait_until(lambda: settled(js))
    assert len(sink_lines(settings)) == 1
    await wait_until(lambda: _equals(notifications_sent(js), 1))


async def _equals(value: Any, expected: int) -> bool:
    return bool(await value == expected)
