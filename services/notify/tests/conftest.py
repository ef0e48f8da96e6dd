"""The notify service running for real: its database, a nats-server, in-process HTTP, and the
receivers of its messages: a local HTTP server (partner endpoints, an SMS gateway) and a local
SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from fastapi import FastAPI
from nats.js import JetStreamContext
from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlmodel import col, select
from starlette.requests import Request
from starlette.responses import Response

from fursa.notify.app import MIGRATIONS, create_app
from fursa.notify.consumers import handlers
from fursa.notify.models import KERNEL, Base, Contact, Delivery
from fursa.notify.settings import NotifySettings
from fursa.shared.auth import dev_authorization
from fursa.shared.contracts import (
    CertificateIssued,
    CertificateKind,
    CertificateRevoked,
    CloudEvent,
    EventData,
    Guardian,
    LearnerAtRisk,
    LearnerErased,
    LearnerOutcomeRecorded,
    LearnerPII,
    LearnerTransferred,
    LearnerUpdated,
    LearnerWaitlisted,
    LearnerWithdrawn,
    OutcomeStatus,
    Pathway,
    RevocationReason,
    TrainingCompleted,
    TrainingResult,
    WithdrawalReason,
    new_event,
    parse_event,
    to_json_bytes,
)
from fursa.shared.db import Database
from fursa.shared.messaging.outbox import UnitOfWork
from fursa.shared.natsserver import NatsServer, free_port
from fursa.shared.testing.builders import learner_enrolled, learner_pii, uuid_of
from fursa.shared.testing.fixtures import FETCH_TIMEOUT_S

AuthHeaders = Callable[..., dict[str, str]]


auth_headers = dev_authorization


@pytest.fixture
def migrations() -> Path:
    """Every database of these tests starts migrated to the service's head."""
    return MIGRATIONS


@pytest.fixture
def headers_for() -> AuthHeaders:
    """:func:`auth_headers` for tests (a conftest's functions are not importable)."""
    return auth_headers


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A real HTTP server on loopback that records every request. Each path answers with the
    statuses queued for it (then 200), and a path can be made to hang (a dead endpoint)."""

    port: int
    requests: list[Received] = field(default_factory=list)
    statuses: dict[str, list[int]] = field(default_factory=dict)
    hanging: set[str] = field(default_factory=set)
    _release: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def to(self, path: str) -> list[Received]:
        return [request for request in self.requests if request.path == path]

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        body = await request.body()
        path = request.url.path
        if path in self.hanging:
            await self._release.wait()
        self.requests.append(Received(path, dict(request.headers), body))
        queued = self.statuses.get(path)
        status = queued.pop(0) if queued else 200
        await Response(status_code=status)(scope, receive, send)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    port = free_port()
    receiver = Receiver(port)
    server = uvicorn.Server(
        uvicorn.Config(
            receiver.app,
            host="127.0.0.1",
            port=port,
            lifespan="off",
            log_level="error",
            interface="asgi3",
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield receiver
    finally:
        receiver._release.set()
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5)


@dataclass
class Mailbox:
    """What a local SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    # The connection (SMTP session) each message came on, by its order of arrival.
    sessions: list[int] = field(default_factory=list)
    # Hang up right after answering each message (a server closing idle connections).
    hang_up: bool = False

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.content
        assert isinstance(content, bytes)
        mail = message_from_bytes(content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.messages.append(mail)
        self.recipients += list(envelope.rcpt_tos)
        self.sessions.append(id(session))
        if self.hang_up:
            asyncio.get_running_loop().call_soon(server.transport.close)
        return "250 OK"


@dataclass
class SmtpServer:
    port: int
    mailbox: Mailbox


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on loopback, keeping what it receives."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(port, mailbox)
    finally:
        controller.stop()


@pytest.fixture
def settings(
    database_url: str, nats_server: NatsServer, tmp_path: Path, smtp_server: SmtpServer
) -> NotifySettings:
    return NotifySettings(
        database_url=database_url,
        nats_url=nats_server.url,
        sink_dir=tmp_path / "notify-sink",
        smtp_port=smtp_server.port,
        # Events that come before the enrollment wait for it: room for a slow first batch.
        retry_delays_s=(0.1, 0.3, 1.0),
        delivery_backoff_base_s=0.05,
        delivery_backoff_cap_s=0.2,
        delivery_max_attempts=3,
        delivery_poll_s=0.05,
        webhook_timeout_s=1.0,
        delivery_send_timeout_s=2.0,
        consumer_fetch_timeout_s=FETCH_TIMEOUT_S,
    )


@pytest.fixture
async def app(settings: NotifySettings, js: JetStreamContext) -> AsyncIterator[FastAPI]:
    """The running service (consumers, worker, relay and API); streams are provisioned first."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


class Journey:
    """The events of the n-th test learner's journey, as the other services publish them.

    Learner n's guardian prefers Arabic unless n is a multiple of 3 (see the kernel's builder).
    """

    def pii(self, n: int, *, notifications: bool = True, email: str | None = None) -> LearnerPII:
        pii = learner_pii(n, notifications=notifications)
        if email is None:
            return pii
        guardian = Guardian(**{**pii.guardian.model_dump(), "email": email})
        return pii.model_copy(update={"guardian": guardian})

    def enrolled(
        self,
        n: int,
        *,
        notifications: bool = True,
        email: str | None = None,
        pii: LearnerPII | None = None,
    ) -> CloudEvent[Any]:
        data = learner_enrolled(n).model_copy(
            update={"pii": pii or self.pii(n, notifications=notifications, email=email)}
        )
        return new_event(data, subject=uuid_of("enrollment", n), sequence=2)

    def waitlisted(self, n: int, *, pii: LearnerPII | None = None) -> CloudEvent[Any]:
        enrolled = learner_enrolled(n)
        data = LearnerWaitlisted(
            **enrolled.model_dump(include=set(LearnerWaitlisted.model_fields) - {"pii"}),
            position=2,
            waitlisted_on=enrolled.enrolled_on,
            pii=pii or self.pii(n),
        )
        return new_event(data, subject=uuid_of("enrollment", n), sequence=1)

    def updated(
        self,
        n: int,
        *,
        notifications: bool = True,
        email: str | None = None,
        sequence: int = 1,
    ) -> CloudEvent[Any]:
        data = LearnerUpdated(
            learner_id=uuid_of("learner", n),
            association_id=uuid_of("association", 1),
            changed=["consent.notifications"],
            updated_at="2026-01-10T10:00:00Z",  # type: ignore[arg-type]
            pii=self.pii(n, notifications=notifications, email=email),
        )
        return new_event(data, subject=uuid_of("learner", n), sequence=sequence)

    def transferred(self, n: int) -> CloudEvent[Any]:
        data = LearnerTransferred(
            enrollment_id=uuid_of("enrollment", n),
            learner_id=uuid_of("learner", n),
            association_id=uuid_of("association", 2),
            from_center_id=uuid_of("center", 1),
            to_center_id=uuid_of("center", 2),
            region_code="07",
            province_code="072",
            pathway=Pathway.VOCATIONAL_TRAINING,
            transferred_on=date(2026, 1, 15),
        )
        return new_event(data, subject=uuid_of("enrollment", n), sequence=3)

    def withdrawn(self, n: int) -> CloudEvent[Any]:
        data = LearnerWithdrawn(
            enrollment_id=uuid_of("enrollment", n),
            learner_id=uuid_of("learner", n),
            association_id=uuid_of("association", 1),
            center_id=uuid_of("center", 1),
            pathway=Pathway.VOCATIONAL_TRAINING,
            reason=WithdrawalReason.WORK,
            withdrawn_on=date(2026, 2, 2),
        )
        return new_event(data, subject=uuid_of("enrollment", n), sequence=4)

    def erased(self, n: int) -> CloudEvent[Any]:
        data = LearnerErased(
            learner_id=uuid_of("learner", n),
            enrollment_ids=[uuid_of("enrollment", n)],
            erased_at="2026-03-01T10:00:00Z",  # type: ignore[arg-type]
        )
        return new_event(data, subject=uuid_of("learner", n), sequence=9)

    def at_risk(self, n: int) -> CloudEvent[Any]:
        data = LearnerAtRisk(
            training_id=uuid_of("training", n),
            enrollment_id=uuid_of("enrollment", n),
            learner_id=uuid_of("learner", n),
            center_id=uuid_of("center", 1),
            pathway=Pathway.VOCATIONAL_TRAINING,
            window_sessions=10,
            attendance_rate=0.42,
            threshold=0.6,
            detected_on=date(2026, 3, 2),
        )
        return new_event(data, subject=uuid_of("training", n), sequence=1)

    def completed(self, n: int) -> CloudEvent[Any]:
        data = TrainingCompleted(
            training_id=uuid_of("training", n),
            enrollment_id=uuid_of("enrollment", n),
            learner_id=uuid_of("learner", n),
            center_id=uuid_of("center", 1),
            pathway=Pathway.VOCATIONAL_TRAINING,
            workshops=["tailoring"],
            hours_attended=400,
            attendance_rate=0.9,
            result=TrainingResult.PASSED,
            completed_on=date(2026, 6, 30),
        )
        return new_event(data, subject=uuid_of("training", n), sequence=2)

    def outcome(self, n: int) -> CloudEvent[Any]:
        data = LearnerOutcomeRecorded(
            outcome_id=uuid_of("outcome", n),
            training_id=uuid_of("training", n),
            enrollment_id=uuid_of("enrollment", n),
            learner_id=uuid_of("learner", n),
            center_id=uuid_of("center", 1),
            pathway=Pathway.VOCATIONAL_TRAINING,
            months_after=6,
            status=OutcomeStatus.BACK_IN_SCHOOL,
            school="Lycée Ibn Tofail",
            recorded_on=date(2027, 1, 5),
        )
        return new_event(data, subject=uuid_of("outcome", n), sequence=1)

    def issued(self, n: int) -> CloudEvent[Any]:
        number = f"MS-2026-{n:06d}"
        data = CertificateIssued(
            certificate_id=uuid_of("certificate", n),
            certificate_number=number,
            enrollment_id=uuid_of("enrollment", n),
            learner_id=uuid_of("learner", n),
            kind=CertificateKind.DIPLOMA,
            pathway=Pathway.VOCATIONAL_TRAINING,
            issued_on=date(2026, 7, 10),
            verification_url=f"https://verify.fursa.test/verify/{number}",
        )
        return new_event(data, subject=data.certificate_id, sequence=1)

    def revoked(self, n: int) -> CloudEvent[Any]:
        data = CertificateRevoked(
            certificate_id=uuid_of("certificate", n),
            certificate_number=f"MS-2026-{n:06d}",
            enrollment_id=uuid_of("enrollment", n),
            learner_id=uuid_of("learner", n),
            reason=RevocationReason.ISSUED_IN_ERROR,
            revoked_on=date(2026, 8, 1),
        )
        return new_event(data, subject=data.certificate_id, sequence=2)


@pytest.fixture
def journey() -> Journey:
    return Journey()


async def publish(js: JetStreamContext, event: CloudEvent[EventData]) -> None:
    await js.publish(event.type, to_json_bytes(event), headers={"Nats-Msg-Id": event.id})


@pytest.fixture
def publish_event(js: JetStreamContext) -> Callable[[CloudEvent[Any]], Any]:
    """Publish an event to its stream, as its producing service's relay would."""
    return lambda event: publish(js, event)


@dataclass
class Notify:
    db: Database
    uow: UnitOfWork

    async def hear(self, event: CloudEvent[Any]) -> None:
        """Apply an event as the consumer does: its handler, in a transaction of its own."""
        async with self.uow.begin(cause=event) as tx:
            await handlers()[event.type](tx, event)

    async def deliveries(self, learner: int | None = None) -> list[Delivery]:
        async with self.db.read() as session:
            query = select(Delivery).order_by(col(Delivery.created_at), col(Delivery.channel))
            if learner is not None:
                query = query.where(col(Delivery.learner_id) == uuid_of("learner", learner))
            return list((await session.exec(query)).all())

    async def contact(self, n: int) -> Contact | None:
        async with self.db.read() as session:
            return await session.get(Contact, uuid_of("learner", n))

    async def outbox(self) -> list[CloudEvent[Any]]:
        async with self.db.connect() as connection:
            rows = await connection.execute(
                sql_select(KERNEL.outbox.c.payload).order_by(KERNEL.outbox.c.position)
            )
            return [parse_event(row.payload) for row in rows]

    async def count(self, table: Any) -> int:
        async with self.db.connect() as connection:
            return int(
                (await connection.execute(sql_select(func.count()).select_from(table))).scalar_one()
            )


@pytest.fixture
async def notify(database_url: str) -> AsyncIterator[Notify]:
    """The service layer on a real database (no broker, no HTTP)."""
    db = Database(database_url, Base.metadata)
    await db.create_all()
    try:
        yield Notify(db, UnitOfWork(db, KERNEL, source="fursa/notify"))
    finally:
        await db.dispose()
