"""The certification service end to end: events in over a real nats-server, certificates out
over HTTP and on the CERTIFICATION stream; on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI
from nats.js import JetStreamContext

from fursa.certification.app import create_app
from fursa.certification.settings import CertificationSettings
from fursa.shared.contracts import (
    CertificateIssued,
    CloudEvent,
    EventData,
    Pathway,
    TrainingCompleted,
    TrainingResult,
    new_event,
    parse_event,
    to_json_bytes,
)
from fursa.shared.messaging.streams import CERTIFICATE_ISSUED
from fursa.shared.testing.builders import learner_enrolled, uuid_of
from fursa.shared.testing.kernel import wait_until


def training_completed(
    n: int, *, result: TrainingResult = TrainingResult.PASSED, training: int = 1
) -> TrainingCompleted:
    """The completion of the n-th test learner's training (`training` tells records apart)."""
    return TrainingCompleted(
        training_id=uuid_of("training", n * 1000 + training),
        enrollment_id=uuid_of("enrollment", n),
        learner_id=uuid_of("learner", n),
        center_id=uuid_of("center", 1),
        pathway=Pathway.VOCATIONAL_TRAINING,
        workshops=["tailoring"],
        hours_attended=320,
        attendance_rate=0.92,
        result=result,
        completed_on=date(2026, 6, 30),
    )


def enrolled_event(n: int) -> CloudEvent[Any]:
    return new_event(learner_enrolled(n), subject=uuid_of("enrollment", n), sequence=1)


def completed_event(data: TrainingCompleted) -> CloudEvent[Any]:
    return new_event(data, subject=data.training_id, sequence=1)


async def publish(js: JetStreamContext, event: CloudEvent[EventData], msg_id: str = "") -> None:
    await js.publish(event.type, to_json_bytes(event), headers={"Nats-Msg-Id": msg_id or event.id})


async def settled(js: JetStreamContext) -> bool:
    """Both certification consumers have nothing pending and nothing awaiting an ack."""
    for stream in ("ENROLLMENT", "TRAINING"):
        info = await js.consumer_info(stream, f"certification-{stream.lower()}")
        if info.num_pending or info.num_ack_pending:
            return False
    return True


async def issued_events(js: JetStreamContext) -> int:
    return int((await js.stream_info("CERTIFICATION")).state.messages)


async def certificates_of(client: httpx.AsyncClient, n: int) -> list[dict[str, Any]]:
    response = await client.get("/certificates", params={"enrollment_id": uuid_of("enrollment", n)})
    assert response.status_code == 200
    certificates: list[dict[str, Any]] = response.json()
    return certificates


async def test_passed_training_issues_a_diploma_and_announces_it(
    client: httpx.AsyncClient, js: JetStreamContext, settings: CertificationSettings
) -> None:
    completion = completed_event(training_completed(1))
    await publish(js, enrolled_event(1))
    await publish(js, completion)

    await wait_until(lambda: _has_certificates(client, 1, 1))
    [certificate] = await certificates_of(client, 1)
    year = date.fromisoformat(certificate["issued_on"]).year
    assert certificate["number"] == f"MS-{year}-000001"
    assert certificate["kind"] == "diploma"
    assert certificate["status"] == "active"
    assert certificate["learner_id"] == uuid_of("learner", 1)
    assert certificate["replaces"] is None
    # Where it was issued, carried by learner-enrolled: what decides who may see it.
    assert certificate["association_id"] == uuid_of("association", 1)
    assert certificate["center_id"] == uuid_of("center", 1)
    assert (certificate["region_code"], certificate["province_code"]) == ("07", "071")

    by_number = await client.get(f"/certificates/{certificate['number']}")
    assert by_number.json() == certificate
    summary = await client.get("/certificates/summary")
    assert summary.json() == {"issued": 1, "active": 1}

    await wait_until(lambda: _equals(issued_events(js), 1))
    message = await js.get_last_msg("CERTIFICATION", CERTIFICATE_ISSUED)
    assert message.data is not None
    event = parse_event(message.data)
    assert isinstance(event.data, CertificateIssued)
    assert event.subject == certificate["id"]
    assert event.sequence == 1
    assert event.causationid == completion.id
    assert event.correlationid == completion.correlationid
    assert event.data.certificate_number == certificate["number"]
    assert event.data.verification_url == (
        f"{settings.public_base_url}/verify/{certificate['number']}"
    )


async def test_redelivered_completion_issues_one_certificate(
    client: httpx.AsyncClient, js: JetStreamContext
) -> None:
    completion = completed_event(training_completed(2))
    await publish(js, enrolled_event(2))
    # The same event twice (past the stream's duplicate window), then a second completion
    # record of the same enrollment: still one active certificate.
    await publish(js, completion, msg_id="copy-1")
    await publish(js, completion, msg_id="copy-2")
    await publish(js, completed_event(training_completed(2, training=2)))

    await wait_until(lambda: settled(js))
    assert len(await certificates_of(client, 2)) == 1
    await wait_until(lambda: _equals(issued_events(js), 1))
    assert (await client.get("/certificates/summary")).json() == {"issued": 1, "active": 1}


async def test_completion_before_enrollment_is_certified_once_the_learner_arrives(
    client: httpx.AsyncClient, js: JetStreamContext, app: FastAPI
) -> None:
    await publish(js, completed_event(training_completed(3)))
    [training_consumer] = [
        consumer
        for consumer in app.state.runtime.consumers
        if consumer.name == "certification-training"
    ]
    await wait_until(lambda: training_consumer.stats.retried >= 1)
    assert await certificates_of(client, 3) == []

    await publish(js, enrolled_event(3))
    await wait_until(lambda: _has_certificates(client, 3, 1))
    await wait_until(lambda: settled(js))
    assert len(await certificates_of(client, 3)) == 1
    await wait_until(lambda: _equals(issued_events(js), 1))


async def test_failed_training_earns_no_certificate(
    client: httpx.AsyncClient, js: JetStreamContext
) -> None:
    await publish(js, enrolled_event(4))
    await publish(js, completed_event(training_completed(4, result=TrainingResult.FAILED)))

    await wait_until(lambda: settled(js))
    assert await certificates_of(client, 4) == []
    assert (await client.get("/certificates/summary")).json() == {"issued": 0, "active": 0}
    assert await issued_events(js) == 0


async def test_unknown_number_is_a_problem_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/certificates/MS-2026-999999", headers={"Accept-Language": "ar"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 404
    assert problem["code"] == "not_found"
    assert problem["title"] == "المورد غير موجود."


async def test_listing_without_an_enrollment_names_the_missing_field(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/certificates")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert (error["field"], error["rule"]) == ("query.enrollment_id", "missing")


async def _has_certificates(client: httpx.AsyncClient, n: int, count: int) -> bool:
    return len(await certificates_of(client, n)) == count


async def _equals(value: Any, expected: int) -> bool:
    return bool(await value == expected)


async def test_two_service_instances_consuming_at_once_issue_one_certificate(
    client: httpx.AsyncClient, js: JetStreamContext, settings: CertificationSettings
) -> None:
    """Two replicas share the database and compete on the same durable consumers, while the
    same completion arrives eight times (replays with new event ids, and redeliveries)."""
    second = create_app(settings)
    async with second.router.lifespan_context(second):
        await publish(js, enrolled_event(5))
        for copy in range(8):
            await publish(js, completed_event(training_completed(5, training=copy % 2)))
        await wait_until(lambda: settled(js))
        assert len(await certificates_of(client, 5)) == 1
        await wait_until(lambda: _equals(issued_events(js), 1))
        assert (await client.get("/certificates/summary")).json() == {"issued": 1, "active": 1}
