"""The notify service end to end: events in over a real nats-server, messages out to the local
SMS sink, a real SMTP server and a partner's HTTP endpoint, partner events on the PARTNER
stream, notification-sent on NOTIFY, deliveries over HTTP; on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI
from nats.js import JetStreamContext

from fursa.notify.settings import NotifySettings
from fursa.shared.auth import Role
from fursa.shared.contracts import NotificationSent, parse_event, to_json_bytes
from fursa.shared.testing.builders import learner_pii, uuid_of
from fursa.shared.testing.kernel import wait_until

Publish = Callable[[Any], Any]
AuthHeaders = Callable[..., dict[str, str]]
NOTIFICATION_SENT = "fursa.notify.notification-sent.v1"


async def settled(js: JetStreamContext) -> bool:
    """Every notify consumer has nothing pending and nothing awaiting an ack."""
    for stream in ("ENROLLMENT", "TRAINING", "CERTIFICATION"):
        info = await js.consumer_info(stream, f"notify-{stream.lower()}")
        if info.num_pending or info.num_ack_pending:
            return False
    return True


def sink_lines(settings: NotifySettings) -> list[dict[str, str]]:
    path = settings.sink_dir / "sms.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def summary(client: httpx.AsyncClient) -> dict[str, int]:
    counts: dict[str, int] = (await client.get("/deliveries/summary")).json()
    return counts


async def sent(client: httpx.AsyncClient, expected: int) -> bool:
    return (await summary(client))["sent"] == expected


async def stream_messages(js: JetStreamContext, stream: str) -> int:
    return int((await js.stream_info(stream)).state.messages)


async def test_guardian_is_told_of_the_certificate_in_their_language(
    client: httpx.AsyncClient,
    js: JetStreamContext,
    settings: NotifySettings,
    journey: Any,
    publish_event: Publish,
) -> None:
    n = 3  # a French-speaking guardian (see the builder)
    issued = journey.issued(n)
    await publish_event(journey.enrolled(n))
    await publish_event(issued)

    await wait_until(lambda: sent(client, 2))
    enrolled_line, issued_line = sink_lines(settings)
    guardian = learner_pii(n).guardian
    assert issued_line["phone"] == guardian.phone
    assert issued_line["language"] == "fr"
    assert "MS-2026-000003" in issued_line["text"]
    assert issued_line["text"].endswith("https://verify.fursa.test/verify/MS-2026-000003")
    assert "2025/2026" in enrolled_line["text"]

    response = await client.get("/deliveries", params={"learner_id": uuid_of("learner", n)})
    assert guardian.phone not in response.text
    assert issued_line["text"] not in response.text
    _, delivery = response.json()
    assert (delivery["recipient_kind"], delivery["channel"]) == ("guardian", "sms")
    assert delivery["template"] == "certificate-issued.fr"
    assert (delivery["status"], delivery["attempts"]) == ("sent", 1)
    assert delivery["cause_event_id"] == issued.id
    assert delivery["id"] == issued_line["id"]

    await wait_until(lambda: _equals(stream_messages(js, "NOTIFY"), 2))
    message = await js.get_last_msg("NOTIFY", NOTIFICATION_SENT)
    assert message.data is not None
    assert guardian.phone.encode() not in message.data
    event = parse_event(message.data)
    assert isinstance(event.data, NotificationSent)
    assert (event.subject, event.sequence) == (delivery["id"], 1)
    assert event.data.template == "certificate-issued.fr"


async def test_redelivered_certificate_is_told_once(
    client: httpx.AsyncClient,
    js: JetStreamContext,
    settings: NotifySettings,
    journey: Any,
    publish_event: Publish,
) -> None:
    issued = journey.issued(1)
    await publish_event(journey.enrolled(1))
    await publish_event(issued)
    await js.publish(issued.type, to_json_bytes(issued), headers={"Nats-Msg-Id": "copy"})

    await wait_until(lambda: settled(js))
    await wait_until(lambda: sent(client, 2))
    assert [line["language"] for line in sink_lines(settings)] == ["ar", "ar"]


async def test_guardian_without_consent_is_not_messaged(
    client: httpx.AsyncClient,
    js: JetStreamContext,
    settings: NotifySettings,
    journey: Any,
    publish_event: Publish,
) -> None:
    await publish_event(journey.enrolled(4, notifications=False))
    await publish_event(journey.issued(4))

    await wait_until(lambda: settled(js))
    assert sink_lines(settings) == []
    assert await summary(client) == {"pending": 0, "sent": 0, "failed": 0, "cancelled": 0}


async def test_certificate_before_enrollment_is_told_once_the_guardian_is_known(
    client: httpx.AsyncClient,
    js: JetStreamContext,
    settings: NotifySettings,
    app: FastAPI,
    journey: Any,
    publish_event: Publish,
) -> None:
    await publish_event(journey.issued(5))
    [certification] = [c for c in app.state.runtime.consumers if c.name == "notify-certification"]
    await wait_until(lambda: certification.stats.retried >= 1)
    assert sink_lines(settings) == []

    await publish_event(journey.enrolled(5))
    await wait_until(lambda: sent(client, 2))
    await wait_until(lambda: settled(js))
    assert len(sink_lines(settings)) == 2


async def test_guardian_with_an_address_gets_real_email(
    client: httpx.AsyncClient, smtp_server: Any, journey: Any, publish_event: Publish
) -> None:
    await publish_event(journey.enrolled(6, email="parent6@example.ma"))

    await wait_until(lambda: sent(client, 2))
    [mail] = smtp_server.mailbox.messages
    assert mail["To"] == "parent6@example.ma"
    assert mail["Subject"] == "Inscription confirmée – École de la Deuxième Chance"


async def test_partner_events_reach_the_partner_stream_and_a_registered_endpoint(
    client: httpx.AsyncClient,
    js: JetStreamContext,
    journey: Any,
    publish_event: Publish,
    receiver: Any,
    headers_for: AuthHeaders,
) -> None:
    partner = (await client.post("/partners", json={"name": "Relais"})).json()
    as_partner = headers_for(Role.PARTNER, partner_id=partner["partner_id"])
    registered = await client.post(
        f"/partners/{partner['partner_id']}/endpoints",
        json={"url": receiver.url("/hooks"), "event_types": ["fursa.partner.learner-enrolled.v1"]},
        headers=as_partner,
    )
    assert registered.status_code == 201
    endpoint = registered.json()

    await publish_event(journey.enrolled(7))
    await publish_event(journey.completed(7))

    await wait_until(lambda: _equals(stream_messages(js, "PARTNER"), 2))
    enrolled = parse_event((await js.get_msg("PARTNER", 1)).data or b"")
    assert enrolled.type == "fursa.partner.learner-enrolled.v1"
    assert enrolled.subject == uuid_of("enrollment", 7)
    await wait_until(lambda: len(receiver.to("/hooks")) == 1)
    [call] = receiver.to("/hooks")
    assert json.loads(call.body)["id"] == enrolled.id

    route = f"/partners/{partner['partner_id']}/endpoints/{endpoint['endpoint_id']}"

    async def delivery_log() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (
            await client.get(f"{route}/deliveries", headers=as_partner)
        ).json()
        return found

    await wait_until(lambda: _logged_as_sent(delivery_log()))
    [delivery] = await delivery_log()
    assert delivery["event_id"] == enrolled.id
    again = await client.post(
        f"{route}/deliveries/{delivery['delivery_id']}/redeliver", headers=as_partner
    )
    assert again.status_code == 202
    await wait_until(lambda: len(receiver.to("/hooks")) == 2)
    first, second = receiver.to("/hooks")
    assert first.body == second.body
    assert first.headers["webhook-id"] == second.headers["webhook-id"]


async def _equals(value: Any, expected: int) -> bool:
    return bool(await value == expected)


async def _logged_as_sent(log: Any) -> bool:
    return [delivery["status"] for delivery in await log] == ["sent"]
