"""Restoring a backup must not bring erased data back: the erasure ledger (stream ERASURES,
ids only) is re-applied by every service that holds personal data before it serves again.

Each test backs a service's database up (SQLite and PostgreSQL), erases a learner, restores
the backup — which holds the learner's personal data again, checked — starts the service, and
reads every table of the database for that learner's names, phone and birth date: gone,
while another learner's are still there.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext
from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.engine import make_url

from fursa.certification.app import create_app as certification_app
from fursa.certification.settings import CertificationSettings
from fursa.enrollment.app import create_app as enrollment_app
from fursa.enrollment.demo import DEMO_CENTER_ID
from fursa.enrollment.settings import EnrollmentSettings
from fursa.notify.app import create_app as notify_app
from fursa.notify.settings import NotifySettings
from fursa.shared.auth import dev_authorization
from fursa.shared.backup import backup_database, restore_database
from fursa.shared.contracts import (
    CloudEvent,
    Guardian,
    LearnerEnrolled,
    LearnerErased,
    new_event,
    to_json_bytes,
)
from fursa.shared.erasures import ErasureLedgerUnavailable, read_ledger
from fursa.shared.messaging.streams import CONSUMERS, ERASURE_LEDGER, LEARNER_ERASED
from fursa.shared.natsserver import NatsServer
from fursa.shared.testing.builders import learner_enrolled, uuid_of
from fursa.shared.testing.fixtures import FETCH_TIMEOUT_S
from fursa.shared.testing.kernel import acknowledged_through, wait_until
from fursa.training.app import create_app as training_app
from fursa.training.settings import TrainingSettings

# Two learners whose personal data differ in every field a test looks for.
PEOPLE = {
    1: {
        "first_name_ar": "زينب",
        "last_name_ar": "العلوي",
        "first_name_latin": "Zineb",
        "last_name_latin": "Alaoui",
        "birth_date": date(2010, 7, 23),
        "guardian": "Khadija Alaoui",
        "phone": "+212611223344",
    },
    2: {
        "first_name_ar": "يوسف",
        "last_name_ar": "الإدريسي",
        "first_name_latin": "Youssef",
        "last_name_latin": "Idrissi",
        "birth_date": date(2011, 2, 9),
        "guardian": "Ahmed Idrissi",
        "phone": "+212655667788",
    },
}


def traces(n: int) -> list[str]:
    """What of learner n's personal data may sit in a database, as it would be stored."""
    person = PEOPLE[n]
    return [
        str(person["first_name_ar"]),
        str(person["last_name_latin"]),
        str(person["guardian"]),
        str(person["phone"]),
        str(person["birth_date"]),
    ]


def stored_text(database_url: str) -> str:
    """Every value of every table of the database, as text (bytes decoded, JSON unescaped)."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url)
    metadata = MetaData()
    metadata.reflect(engine)
    values: list[str] = []
    try:
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                for row in connection.execute(select(table)):
                    for value in row:
                        if isinstance(value, bytes | memoryview):
                            value = bytes(value).decode(errors="replace")
                            with suppress(ValueError):
                                value = json.dumps(json.loads(value), ensure_ascii=False)
                        values.append(str(value))
    finally:
        engine.dispose()
    return "\n".join(values)


def holds(database_url: str, n: int) -> list[str]:
    text = stored_text(database_url)
    return [trace for trace in traces(n) if trace in text]


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with app.router.lifespan_context(app):
        yield app


async def ledger_holds(js: JetStreamContext, count: int) -> None:
    """Wait until JetStream has copied ``count`` erasures into the ledger."""

    async def copied() -> bool:
        return len(await read_ledger(js)) == count

    await wait_until(copied)


# ---- the ledger itself --------------------------------------------------------------------


def enrolled_event(n: int) -> CloudEvent[Any]:
    person = PEOPLE[n]
    data = learner_enrolled(n)
    pii = data.pii.model_copy(
        update={
            "first_name_ar": person["first_name_ar"],
            "last_name_ar": person["last_name_ar"],
            "first_name_latin": person["first_name_latin"],
            "last_name_latin": person["last_name_latin"],
            "birth_date": person["birth_date"],
            "guardian": Guardian(
                name=str(person["guardian"]),
                phone=str(person["phone"]),
                preferred_language=data.pii.guardian.preferred_language,
            ),
        }
    )
    enrolled = LearnerEnrolled.model_validate(data.model_copy(update={"pii": pii}).model_dump())
    return new_event(
        enrolled, source="fursa/enrollment", subject=enrolled.enrollment_id, sequence=1
    )


def erased_event(n: int) -> CloudEvent[Any]:
    erased = LearnerErased(
        learner_id=uuid_of("learner", n),
        enrollment_ids=[uuid_of("enrollment", n)],
        erased_at=datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
    )
    return new_event(erased, source="fursa/enrollment", subject=erased.learner_id, sequence=3)


async def publish(js: JetStreamContext, *events: CloudEvent[Any]) -> int:
    """Publish ``events`` in order; the stream sequence of the last one."""
    seq = 0
    for event in events:
        ack = await js.publish(event.type, to_json_bytes(event), headers={"Nats-Msg-Id": event.id})
        seq = ack.seq
    return seq


async def test_the_ledger_keeps_every_erasure_forever_and_no_personal_data(
    js: JetStreamContext,
) -> None:
    await publish(js, enrolled_event(1), enrolled_event(2), erased_event(1))

    await ledger_holds(js, 1)
    [erasure] = await read_ledger(js)
    assert erasure.type == LEARNER_ERASED
    assert erasure.data.learner_id == uuid_of("learner", 1)
    info = await js.stream_info(ERASURE_LEDGER)
    assert info.config.max_age == 0  # no age limit: it outlives ENROLLMENT's 30 days
    assert info.config.sources
    assert info.config.sources[0].name == "ENROLLMENT"
    raw = (await js.get_msg(ERASURE_LEDGER, info.state.last_seq)).data or b""
    stored = json.dumps(json.loads(raw), ensure_ascii=False)
    assert [trace for n in PEOPLE for trace in traces(n) if trace in stored] == []
    assert set(json.loads(raw)["data"]) == {"learner_id", "enrollment_ids", "erased_at"}


# ---- the services that learn of learners from events --------------------------------------

ServiceApp = Callable[[str, NatsServer, Path], FastAPI]

CONSUMING_SERVICES: dict[str, ServiceApp] = {
    "training": lambda url, nats, _: training_app(
        TrainingSettings(
            database_url=url, nats_url=nats.url, consumer_fetch_timeout_s=FETCH_TIMEOUT_S
        )
    ),
    "certification": lambda url, nats, tmp: certification_app(
        CertificationSettings(
            database_url=url,
            nats_url=nats.url,
            signing_keys_file=tmp / "signing-keys.json",
            consumer_fetch_timeout_s=FETCH_TIMEOUT_S,
        )
    ),
    "notify": lambda url, nats, tmp: notify_app(
        NotifySettings(
            database_url=url,
            nats_url=nats.url,
            sink_dir=tmp / "notify-sink",
            delivery_poll_s=0.05,
            consumer_fetch_timeout_s=FETCH_TIMEOUT_S,
        )
    ),
}


@pytest.mark.parametrize("service", CONSUMING_SERVICES)
async def test_a_restored_service_erases_again_before_it_serves(
    service: str,
    database_url: str,
    nats_server: NatsServer,
    js: JetStreamContext,
    tmp_path: Path,
) -> None:
    make_app = CONSUMING_SERVICES[service]
    durable = next(c for c in CONSUMERS if c.service == service and c.stream == "ENROLLMENT")

    async with running(make_app(database_url, nats_server, tmp_path)):
        seq = await publish(js, enrolled_event(1), enrolled_event(2))
        await wait_until(partial(acknowledged_through, js, durable, seq))
        await wait_until(lambda: holds(database_url, 1) != [])
        kept = holds(database_url, 2)
        backup = backup_database(database_url, tmp_path / f"{service}.backup")
        seq = await publish(js, erased_event(1))
        await wait_until(partial(acknowledged_through, js, durable, seq))
        assert holds(database_url, 1) == []

    restore_database(database_url, backup)
    assert holds(database_url, 1) != []  # the backup brought the learner back
    await ledger_holds(js, 1)

    async with running(make_app(database_url, nats_server, tmp_path)):
        # The lifespan's startup is done: what the service serves from now on.
        assert holds(database_url, 1) == []
        assert holds(database_url, 2) == kept != []


# ---- enrollment, where the erasure happens --------------------------------------------------


def enrollment_body(n: int) -> dict[str, Any]:
    person = PEOPLE[n]
    return {
        "learner": {
            "first_name_ar": person["first_name_ar"],
            "last_name_ar": person["last_name_ar"],
            "first_name_latin": person["first_name_latin"],
            "last_name_latin": person["last_name_latin"],
            "birth_date": str(person["birth_date"]),
            "sex": "female" if n % 2 else "male",
            "massar_code": f"J1300{n:05d}",
            "last_school_level": "primary_5",
            "year_left_school": 2023,
        },
        "guardian": {
            "name": person["guardian"],
            "phone": person["phone"],
            "preferred_language": "ar",
        },
        "consent": {"data_use": True, "notifications": True},
        "center_id": DEMO_CENTER_ID,
        "pathway": "vocational_training",
        "school_year": "2025/2026",
    }


async def test_restored_enrollment_erases_the_learner_again_and_publishes_no_personal_data(
    database_url: str, nats_server: NatsServer, js: JetStreamContext, tmp_path: Path
) -> None:
    settings = EnrollmentSettings(
        mode="development",
        database_url=database_url,
        nats_url=nats_server.url,
        consumer_fetch_timeout_s=FETCH_TIMEOUT_S,
    )

    async def http(app: FastAPI) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app),
            base_url="http://enrollment",
            headers=dev_authorization(),
        )

    async with running(enrollment_app(settings)) as app, await http(app) as client:
        created = {}
        for n in PEOPLE:
            response = await client.post("/enrollments", json=enrollment_body(n))
            assert response.status_code == 201, response.text
            created[n] = response.json()
        withdrawal = await client.post(
            f"/enrollments/{created[1]['enrollment_id']}/withdrawal", json={"reason": "moved"}
        )
        assert withdrawal.status_code == 200, withdrawal.text
        # The backup is taken while learner 1's events wait in the outbox, still unsent.
        backup = backup_database(database_url, tmp_path / "enrollment.backup")
        erased = await client.post(f"/learners/{created[1]['learner_id']}/erasure")
        assert erased.status_code == 200, erased.text
        await ledger_holds(js, 1)

    restore_database(database_url, backup)
    assert holds(database_url, 1) != []
    start = (await js.stream_info("ENROLLMENT")).state.last_seq + 1

    async with running(enrollment_app(settings)) as app, await http(app) as client:
        assert holds(database_url, 1) == []
        assert holds(database_url, 2) == traces(2)
        learner = (await client.get(f"/learners/{created[1]['learner_id']}")).json()
        assert learner["erased_at"] is not None
        assert learner["first_name_latin"] is learner["guardian"]["phone"] is None
        other = (await client.get(f"/learners/{created[2]['learner_id']}")).json()
        assert other["first_name_latin"] == "Youssef"
        runtime = app.state.runtime

        async def relayed() -> bool:
            async with runtime.db.connect() as connection:
                outbox = runtime.tables.outbox
                unsent = select(outbox.c.position).where(outbox.c.sent_at.is_(None))
                return (await connection.execute(unsent)).first() is None

        await wait_until(relayed)

    # Whatever the restored outbox published again carries nothing of learner 1's person.
    last = (await js.stream_info("ENROLLMENT")).state.last_seq
    messages = [(await js.get_msg("ENROLLMENT", seq)).data or b"" for seq in range(start, last + 1)]
    published = "\n".join(json.dumps(json.loads(m), ensure_ascii=False) for m in messages)
    assert [trace for trace in traces(1) if trace in published] == []


async def test_a_service_that_cannot_read_the_ledger_does_not_start(
    sqlite_url: str, nats_server: NatsServer, tmp_path: Path
) -> None:
    app = CONSUMING_SERVICES["training"](sqlite_url, nats_server, tmp_path)  # nothing provisioned
    with pytest.raises(ErasureLedgerUnavailable, match=ERASURE_LEDGER):
        async with running(app):
            pass
