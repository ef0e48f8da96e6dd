"""The delivery worker against real receivers: an HTTP SMS gateway and partner endpoints on a
local HTTP server, e-mail on a local SMTP server (aiosmtpd); on SQLite and PostgreSQL.

Webhook signatures are checked here by an independent implementation of the Standard Webhooks
specification (HMAC-SHA256 written out below), not by the library that signs them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from fursa.notify import deliveries, delivery_log, partners
from fursa.notify.channels import (
    HttpSmsGateway,
    Message,
    PartnerWebhook,
    Sent,
    SmtpEmail,
    SmtpServer,
)
from fursa.notify.deliveries import SentMessage
from fursa.notify.domain import RetryPolicy
from fursa.notify.models import KERNEL, Delivery, PartnerEndpoint
from fursa.notify.worker import DeliveryWorker, SentRecords
from fursa.shared.auth import Principal, Role
from fursa.shared.clock import utcnow
from fursa.shared.contracts import Channel, NotificationFailed, NotificationSent, for_model
from fursa.shared.messaging.outbox import UnitOfWork
from fursa.shared.telemetry import context_from_headers
from fursa.shared.testing.builders import learner_pii, uuid_of
from fursa.shared.testing.kernel import wait_until

Notify = Any
Receiver = Any
Smtp = Any

ADMIN = Principal(subject="admin", role=Role.ADMIN)
FEED = "fursa.partner.certificate-issued.v1"


def verify_standard_webhook(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's side, per the specification: HMAC-SHA256 over `id.timestamp.body` with
    the base64-decoded part of the secret after `whsec_`; any one `v1,` signature matches."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(part.removeprefix("v1,"), expected)
        for part in headers["webhook-signature"].split(" ")
        if part.startswith("v1,")
    )


@pytest.fixture
async def http() -> Any:
    async with httpx.AsyncClient() as client:
        yield client


def worker(notify: Notify, http: httpx.AsyncClient, *, smtp_port: int = 1, **kwargs: Any) -> Any:
    policy = kwargs.pop("policy", RetryPolicy(max_attempts=3, base_s=0.0, cap_s=0.0))
    return DeliveryWorker(
        notify.uow,
        [
            HttpSmsGateway(http, kwargs.pop("sms_url", "http://127.0.0.1:1/sms"), "gw-token"),
            SmtpEmail(SmtpServer(host="127.0.0.1", port=smtp_port, sender="fursa@fursa.test")),
            PartnerWebhook(http, timeout_s=kwargs.pop("webhook_timeout_s", 2.0)),
        ],
        policy,
        rng=random.Random(7),
        **kwargs,
    )


async def attempt_due(worker: Any) -> int:
    """One pass of the worker: claim what is due and send it (deterministic, no loop)."""
    claims = (await deliveries.claim(worker.uow, lease=worker.lease, limit=100)).claims
    await worker.send_all(claims)
    return len(claims)


async def emitted(notify: Notify, model: type) -> list[Any]:
    return [event.data for event in await notify.outbox() if isinstance(event.data, model)]


async def endpoint(notify: Notify, url: str, types: list[str] | None = None) -> Any:
    # Partner names are unique: one partner per endpoint here.
    name = f"Relais Addictologie {uuid.uuid4().hex[:8]}"
    partner = await partners.register_partner(notify.uow, name=name, by=ADMIN)
    return await partners.add_endpoint(
        notify.uow, partner_id=partner.id, url=url, event_types=types or [FEED], by=ADMIN
    )


async def test_sms_gateway_answers_503_twice_then_the_message_goes_out(
    notify: Notify, journey: Any, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    receiver.statuses["/sms"] = [503, 503]
    sender = worker(notify, http, sms_url=receiver.url("/sms"))
    await notify.hear(journey.enrolled(1))

    while await attempt_due(sender):
        pass

    [delivery] = await notify.deliveries(1)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 3, None)
    calls = receiver.to("/sms")
    assert len(calls) == 3
    sent = json.loads(calls[-1].body)
    assert sent == {
        "to": learner_pii(1).guardian.phone,
        "text": delivery.body,
        "reference": delivery.id,
    }
    assert calls[-1].headers["authorization"] == "Bearer gw-token"
    [event] = await emitted(notify, NotificationSent)
    assert (event.delivery_id, event.channel, event.template) == (
        delivery.id,
        "sms",
        "learner-enrolled.ar",
    )


async def test_a_failed_attempt_waits_with_backoff_stored_in_the_database(
    notify: Notify, journey: Any, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    """The next attempt's time lives in the database: a worker started afresh (a restart)
    neither sends early nor forgets the delivery."""
    receiver.statuses["/sms"] = [503]
    policy = RetryPolicy(max_attempts=5, base_s=60, cap_s=3600)
    await notify.hear(journey.enrolled(1))
    before = utcnow()
    assert await attempt_due(worker(notify, http, sms_url=receiver.url("/sms"), policy=policy))

    [waiting] = await notify.deliveries(1)
    due = deliveries.as_utc(waiting.next_attempt_at)
    assert (waiting.status, waiting.attempts, waiting.last_error) == ("pending", 1, "http_503")
    assert before + timedelta(seconds=30) <= due <= utcnow() + timedelta(seconds=60)

    restarted = worker(notify, http, sms_url=receiver.url("/sms"), policy=policy)
    assert await attempt_due(restarted) == 0
    async with notify.uow.begin() as tx:
        row = await tx.session.get(Delivery, waiting.id)
        row.next_attempt_at = utcnow()
        tx.session.add(row)
    assert await attempt_due(restarted) == 1
    [sent] = await notify.deliveries(1)
    assert (sent.status, sent.attempts) == ("sent", 2)


def test_backoff_grows_exponentially_with_jitter_under_a_cap() -> None:
    policy = RetryPolicy(max_attempts=10, base_s=2, cap_s=60)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (4, 16), (5, 32), (6, 60), (9, 60)]:
        delays = {policy.delay_after(attempt, rng).total_seconds() for _ in range(50)}
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(delays) > 1  # jittered


async def test_after_the_last_attempt_the_delivery_fails_and_says_so(
    notify: Notify, journey: Any, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    receiver.statuses["/sms"] = [500] * 10
    sender = worker(notify, http, sms_url=receiver.url("/sms"))
    await notify.hear(journey.enrolled(1))

    while await attempt_due(sender):
        pass

    [delivery] = await notify.deliveries(1)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 3, "http_500")
    [failed] = await emitted(notify, NotificationFailed)
    assert (failed.delivery_id, failed.attempts, failed.last_error) == (delivery.id, 3, "http_500")
    assert await emitted(notify, NotificationSent) == []


async def test_a_failed_message_can_be_sent_again(
    notify: Notify, journey: Any, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    receiver.statuses["/sms"] = [400]
    sender = worker(notify, http, sms_url=receiver.url("/sms"))
    await notify.hear(journey.enrolled(1))
    await attempt_due(sender)
    [failed] = await notify.deliveries(1)
    assert (failed.status, failed.attempts) == ("failed", 1)  # a 400 is not retried

    await delivery_log.resend(notify.uow, delivery_id=failed.id, viewer=ADMIN)
    assert await attempt_due(sender) == 1
    [sent] = await notify.deliveries(1)
    assert (sent.status, sent.attempts) == ("sent", 1)
    assert len(receiver.to("/sms")) == 2


async def test_email_goes_over_smtp_in_the_guardians_language(
    notify: Notify, journey: Any, smtp_server: Smtp, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    await notify.hear(journey.enrolled(3, email="parent3@example.ma"))  # French-speaking
    await notify.hear(journey.issued(3))
    sender = worker(notify, http, smtp_port=smtp_server.port, sms_url=receiver.url("/sms"))

    while await attempt_due(sender):
        pass

    mails = smtp_server.mailbox.messages
    assert sorted(mail["Subject"] for mail in mails) == [
        "Certificat délivré – École de la Deuxième Chance",
        "Inscription confirmée – École de la Deuxième Chance",
    ]
    assert smtp_server.mailbox.recipients == ["parent3@example.ma"] * 2
    [certificate] = [mail for mail in mails if "Certificat" in mail["Subject"]]
    text = certificate.get_content()
    assert "https://verify.fursa.test/verify/MS-2026-000003" in text
    assert certificate["Content-Language"] == "fr"
    email_deliveries = [d for d in await notify.deliveries(3) if d.channel == "email"]
    assert {d.status for d in email_deliveries} == {"sent"}
    assert any(d.id in certificate["Message-ID"] for d in email_deliveries)


# A subject longer than a header line, in Arabic: folded into several encoded words.
ARABIC_SUBJECT = "شهادة ابنكم جاهزة: مبروك على هذا الإنجاز في مدرسة الفرصة الثانية – الجيل الجديد"


def email_to(n: int) -> Message:
    return Message(
        id=f"message-{n}", to=f"parent{n}@example.ma", text="السلام عليكم", subject=ARABIC_SUBJECT
    )


async def test_email_keeps_its_smtp_connection_between_messages(smtp_server: Smtp) -> None:
    sender = "فرصة <notifications@fursa.test>"
    email = SmtpEmail(SmtpServer(host="127.0.0.1", port=smtp_server.port, sender=sender))
    for n in range(3):
        await email.send(email_to(n))
    await email.close()

    assert smtp_server.mailbox.recipients == [f"parent{n}@example.ma" for n in range(3)]
    assert len(set(smtp_server.mailbox.sessions)) == 1
    mail = smtp_server.mailbox.messages[0]
    assert (mail["From"], mail["Subject"]) == (sender, ARABIC_SUBJECT)
    assert mail.get_content().strip() == "السلام عليكم"
    assert mail["Message-ID"].endswith(".message-0@fursa.test>")


async def test_a_kept_smtp_connection_the_server_closed_is_replaced(smtp_server: Smtp) -> None:
    smtp_server.mailbox.hang_up = True
    email = SmtpEmail(SmtpServer(host="127.0.0.1", port=smtp_server.port, sender="f@fursa.test"))
    for n in range(3):
        await email.send(email_to(n))
        await asyncio.sleep(0.01 * n)  # the server's hang-up seen before the next send, or not
    await email.close()

    assert smtp_server.mailbox.recipients == [f"parent{n}@example.ma" for n in range(3)]
    assert len(set(smtp_server.mailbox.sessions)) == 3


async def test_an_unreachable_smtp_server_is_retried(
    notify: Notify, journey: Any, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    await notify.hear(journey.enrolled(3, email="parent3@example.ma"))
    await attempt_due(worker(notify, http, smtp_port=1, sms_url=receiver.url("/sms")))

    [email] = [d for d in await notify.deliveries(3) if d.channel == "email"]
    assert (email.status, email.last_error) == ("pending", "unreachable")


async def test_webhook_is_signed_per_standard_webhooks(
    notify: Notify, journey: Any, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    created = await endpoint(notify, receiver.url("/hooks"))
    await notify.hear(journey.enrolled(1))
    await notify.hear(journey.issued(1))
    await attempt_due(worker(notify, http, sms_url=receiver.url("/sms")))

    [call] = receiver.to("/hooks")
    [delivery] = [d for d in await notify.deliveries() if d.channel == "webhook"]
    assert call.headers["webhook-id"] == delivery.id
    assert call.headers["content-type"] == "application/json"
    assert verify_standard_webhook(created.secret, call.headers, call.body)
    assert not verify_standard_webhook(partners.new_secret(), call.headers, call.body)
    assert not verify_standard_webhook(created.secret, call.headers, call.body + b" ")
    event = json.loads(call.body)
    assert event["type"] == FEED
    assert event["data"]["certificate_id"] == uuid_of("certificate", 1)
    assert delivery.status == "sent"


async def test_after_a_rotation_old_and_new_secrets_both_sign_until_the_old_expires(
    notify: Notify, journey: Any, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    created = await endpoint(notify, receiver.url("/hooks"))
    rotation = await partners.rotate_secret(
        notify.uow,
        partner_id=created.endpoint.partner_id,
        endpoint_id=created.endpoint.id,
        grace=timedelta(hours=1),
        by=ADMIN,
    )
    assert rotation is not None
    await notify.hear(journey.enrolled(1))
    await notify.hear(journey.issued(1))
    sender = worker(notify, http, sms_url=receiver.url("/sms"))
    await attempt_due(sender)

    [call] = receiver.to("/hooks")
    assert len(call.headers["webhook-signature"].split(" ")) == 2
    assert verify_standard_webhook(rotation.secret, call.headers, call.body)
    assert verify_standard_webhook(created.secret, call.headers, call.body)

    expired = await partners.rotate_secret(
        notify.uow,
        partner_id=created.endpoint.partner_id,
        endpoint_id=created.endpoint.id,
        grace=timedelta(0),
        by=ADMIN,
    )
    assert expired is not None
    await notify.hear(journey.enrolled(2))
    await notify.hear(journey.issued(2))
    await attempt_due(sender)
    last = receiver.to("/hooks")[-1]
    assert last.headers["webhook-signature"].count("v1,") == 1
    assert verify_standard_webhook(expired.secret, last.headers, last.body)
    assert not verify_standard_webhook(rotation.secret, last.headers, last.body)


async def test_a_410_disables_the_endpoint_until_its_partner_switches_it_on_again(
    notify: Notify, journey: Any, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    created = await endpoint(notify, receiver.url("/gone"))
    receiver.statuses["/gone"] = [410]
    for n in (1, 2):
        await notify.hear(journey.enrolled(n))
        await notify.hear(journey.issued(n))
    sender = worker(notify, http, sms_url=receiver.url("/sms"))

    while await attempt_due(sender):
        pass

    assert len(receiver.to("/gone")) == 1
    async with notify.db.read() as session:
        disabled = await session.get(PartnerEndpoint, created.endpoint.id)
        statuses = (
            await session.exec(
                select(Delivery.status, Delivery.last_error)
                .where(col(Delivery.endpoint_id) == created.endpoint.id)
                .order_by(col(Delivery.created_at))
            )
        ).all()
    assert disabled is not None
    assert (disabled.disabled_reason, disabled.disabled_at is not None) == ("http_410", True)
    assert [tuple(row) for row in statuses] == [
        ("failed", "http_410"),
        ("cancelled", "endpoint_disabled"),
    ]
    await notify.hear(journey.enrolled(3))
    await notify.hear(journey.issued(3))
    assert len([d for d in await notify.deliveries() if d.channel == "webhook"]) == 2

    # The receiver is back: its partner switches the endpoint on, and new events reach it.
    switched = await partners.update_endpoint(
        notify.uow,
        partner_id=created.endpoint.partner_id,
        endpoint_id=created.endpoint.id,
        enabled=True,
        by=ADMIN,
    )
    assert switched is not None
    assert switched.disabled_at is None
    await notify.hear(journey.enrolled(4))
    await notify.hear(journey.issued(4))
    while await attempt_due(sender):
        pass
    assert len(receiver.to("/gone")) == 2


@pytest.mark.slow
async def test_a_dead_endpoint_never_delays_a_live_one(
    notify: Notify, journey: Any, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    """The dead endpoint accepts connections and never answers; the worker keeps sending to
    the live one meanwhile, and the dead one's attempt times out into a retry."""
    dead = await endpoint(notify, receiver.url("/dead"))
    await endpoint(notify, receiver.url("/live"))
    receiver.hanging.add("/dead")
    sender = worker(
        notify,
        http,
        sms_url=receiver.url("/sms"),
        policy=RetryPolicy(max_attempts=5, base_s=30, cap_s=60),
        webhook_timeout_s=30.0,
        send_timeout_s=30.0,
        poll_s=0.05,
    )
    running = asyncio.create_task(sender.run())
    try:
        for n in range(1, 6):
            await notify.hear(journey.enrolled(n))
            await notify.hear(journey.issued(n))
            sender.wake()
            await wait_until(lambda n=n: len(receiver.to("/live")) == n)
        assert receiver.to("/dead") == []  # still hanging on the first call
        async with notify.db.read() as session:
            waiting = (
                await session.exec(
                    select(Delivery.status).where(col(Delivery.endpoint_id) == dead.endpoint.id)
                )
            ).all()
        assert waiting == ["pending"] * 5
    finally:
        sender.stop()
        receiver.hanging.clear()
        receiver._release.set()
        await asyncio.wait_for(running, timeout=30)


async def test_a_busy_endpoints_backlog_never_crowds_out_other_lanes(
    notify: Notify, journey: Any
) -> None:
    slow = await endpoint(notify, "https://slow.example/hooks")
    live = await endpoint(notify, "https://live.example/hooks")
    for n in range(1, 6):
        await notify.hear(journey.enrolled(n, notifications=False))
        await notify.hear(journey.issued(n))
    slow_lane, live_lane = (f"endpoint:{e.endpoint.id}" for e in (slow, live))
    lease = timedelta(minutes=1)

    capped = (await deliveries.claim(notify.uow, lease=lease, limit=10, per_lane=2)).claims
    assert sorted(claim.lane for claim in capped) == sorted([slow_lane] * 2 + [live_lane] * 2)

    others = (
        await deliveries.claim(
            notify.uow, lease=lease, limit=1, per_lane=10, busy_lanes={slow_lane}
        )
    ).claims
    assert [claim.lane for claim in others] == [live_lane]


async def test_a_channels_messages_to_people_go_in_lanes_by_recipient(
    notify: Notify, journey: Any
) -> None:
    """A class's families are told side by side: each channel's messages to people go in
    four lanes, split by recipient, so that one recipient's messages stay in one lane (in
    order). A lane already sending is left out and the channel's other lanes are claimed; a
    channel whose every lane is sending is left out of the read."""
    for n in range(1, 21):
        await notify.hear(journey.enrolled(n, email=f"parent{n}@example.ma"))
        await notify.hear(journey.issued(n))
    sms_lanes = {f"sms:{shard}" for shard in range(4)}
    lease = timedelta(minutes=1)

    async def claim(busy: set[str]) -> list[Any]:
        return (
            await deliveries.claim(
                notify.uow, lease=lease, limit=500, per_lane=100, busy_lanes=busy
            )
        ).claims

    every_lane = sms_lanes | {f"email:{shard}" for shard in range(4)}
    # A busy lane's deliveries are left out by the read itself: one row read is the free lane's.
    one_each = [
        (
            await deliveries.claim(notify.uow, lease=lease, limit=1, busy_lanes=every_lane - {lane})
        ).claims
        for lane in sorted(sms_lanes)
    ]
    sms_busy = await claim(sms_lanes)
    one_busy = await claim({"sms:0"})
    rest = await claim(set())

    assert [[c.lane for c in claims] for claims in one_each] == [
        [lane] for lane in sorted(sms_lanes)
    ]
    assert {c.channel for c in sms_busy} == {Channel.EMAIL}
    assert {c.lane for c in sms_busy} == {f"email:{shard}" for shard in range(4)}
    assert {c.lane for c in one_busy} == sms_lanes - {"sms:0"}
    assert {c.lane for c in rest} == {"sms:0"}
    everything = [c for claims in one_each for c in claims] + sms_busy + one_busy + rest
    assert len(everything) == 20 * 2 * 2  # enrolled and certified, SMS and e-mail each
    lanes_of: dict[tuple[Channel, str], set[str]] = {}
    for c in everything:
        lanes_of.setdefault((c.channel, c.message.to), set()).add(c.lane)
    assert len(lanes_of) == 20 * 2
    assert all(len(lanes) == 1 for lanes in lanes_of.values())


async def test_a_claim_names_the_lanes_it_left_due_deliveries_in(
    notify: Notify, journey: Any
) -> None:
    """The worker claims again when such a lane ends, not whenever any lane ends."""
    for n in range(1, 4):
        await notify.hear(journey.enrolled(n))
    lease = timedelta(minutes=1)

    async def claim(**kwargs: Any) -> Any:
        return await deliveries.claim(notify.uow, lease=lease, lanes_per_channel=1, **kwargs)

    past_the_limit = await claim(limit=1)
    capped = await claim(limit=100, per_lane=1, busy_lanes={"email:0"})
    rest = await claim(limit=100)
    nothing = await claim(limit=100)

    assert (len(past_the_limit.claims), past_the_limit.held_back) == (1, None)
    assert (len(capped.claims), capped.held_back) == (1, {"sms:0", "email:0"})
    assert (len(rest.claims), rest.held_back) == (1, frozenset())
    assert (nothing.claims, nothing.held_back) == ([], frozenset())


def test_one_lane_per_channel_sends_a_channels_messages_one_after_the_other() -> None:
    people = [Delivery(channel="sms", recipient=uuid_of("learner", n)) for n in range(30)]
    endpoint = Delivery(channel="webhook", recipient="e-1", endpoint_id="e-1")

    assert {deliveries.lane_of(d, 1) for d in people} == {"sms:0"}
    assert len({deliveries.lane_of(d, 8) for d in people}) > 1
    assert deliveries.lane_of(endpoint, 8) == "endpoint:e-1"


SENT_TYPE = for_model(NotificationSent).type


def counted_records(notify: Notify) -> tuple[SentRecords, list[None]]:
    """Records whose unit of work counts its commits (each emits notification-sent)."""
    commits: list[None] = []
    uow = UnitOfWork(notify.db, KERNEL, "fursa/notify", on_commit=lambda: commits.append(None))
    return SentRecords(uow), commits


async def test_sends_recorded_together_share_one_transaction(notify: Notify, journey: Any) -> None:
    """Each lane's record returns once it has committed; the sends of lanes that finish
    together commit in one transaction, each with its notification-sent in its send's trace."""
    for n in (1, 2):
        await notify.hear(journey.enrolled(n, email=f"parent{n}@example.ma"))
    claims = (await deliveries.claim(notify.uow, lease=timedelta(minutes=1), limit=100)).claims
    records, commits = counted_records(notify)
    trace_of = {claim.delivery_id: uuid.uuid4().hex for claim in claims}

    await asyncio.gather(
        *(
            records.record(
                SentMessage(
                    claim,
                    trace=context_from_headers(
                        {"traceparent": f"00-{trace_of[claim.delivery_id]}-00f067aa0ba902b7-01"}
                    ),
                )
            )
            for claim in claims
        )
    )

    assert len(claims) == 4  # SMS and e-mail to two guardians
    assert len(commits) == 1
    assert {d.status for d in await notify.deliveries()} == {"sent"}
    async with notify.db.connect() as connection:
        outbox = KERNEL.outbox
        rows = await connection.execute(
            select(outbox.c.subject, outbox.c.traceparent).where(outbox.c.type == SENT_TYPE)
        )
        traces = {row.subject: row.traceparent.split("-")[1] for row in rows}
    assert traces == trace_of


async def test_a_send_whose_record_fails_leaves_the_others_recorded(
    notify: Notify, journey: Any
) -> None:
    """A shared transaction that fails is recorded again send by send: only the send whose
    own record fails stays pending (its lease runs out and it is claimed again)."""
    for n in (1, 2):
        await notify.hear(journey.enrolled(n))
    claims = (await deliveries.claim(notify.uow, lease=timedelta(minutes=1), limit=100)).claims
    first, second = [claim for claim in claims if claim.channel is Channel.SMS]
    records, commits = counted_records(notify)
    # An SMSC naming the same segment twice: the second send cannot keep it.
    cost = Sent(segments=1, encoding="gsm7", references=("smsc-1",))

    failures = await asyncio.gather(
        records.record(SentMessage(first, cost)),
        records.record(SentMessage(second, cost)),
        return_exceptions=True,
    )

    assert failures[0] is None
    assert isinstance(failures[1], IntegrityError)
    assert len(commits) == 1
    status = {d.id: d.status for d in await notify.deliveries()}
    assert (status[first.delivery_id], status[second.delivery_id]) == ("sent", "pending")
    [sent] = await emitted(notify, NotificationSent)
    assert sent.delivery_id == first.delivery_id


async def test_a_worker_started_again_takes_back_at_once_what_its_killed_run_had_claimed(
    notify: Notify, journey: Any, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    """Claims live as long as a lane's sends may take (130 s by default). A worker killed
    mid-send leaves its claims; its successor of the same name sends them as soon as it starts,
    while a live worker of another name keeps what it holds."""
    for n in (1, 2):
        await notify.hear(journey.enrolled(n))
    [killed_claim, other_claim] = (
        await deliveries.claim(notify.uow, worker="notify:1", lease=timedelta(hours=1), limit=1)
    ).claims + (
        await deliveries.claim(notify.uow, worker="notify:2", lease=timedelta(hours=1), limit=1)
    ).claims

    successor = worker(notify, http, sms_url=receiver.url("/sms"), poll_s=0.05, name="notify:1")
    running = asyncio.create_task(successor.run())
    try:
        await wait_until(lambda: len(receiver.to("/sms")) == 1)
    finally:
        successor.stop()
        await asyncio.wait_for(running, timeout=30)

    assert [json.loads(call.body)["reference"] for call in receiver.to("/sms")] == [
        killed_claim.delivery_id
    ]
    by_id = {delivery.id: delivery for delivery in await notify.deliveries()}
    assert by_id[killed_claim.delivery_id].status == "sent"
    assert by_id[killed_claim.delivery_id].claimed_by is None
    held = by_id[other_claim.delivery_id]
    assert (held.status, held.claimed_by) == ("pending", "notify:2")
    assert held.claimed_until is not None
    assert held.claimed_until > utcnow()
