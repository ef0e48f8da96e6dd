"""SMS over SMPP 3.4 against a real SMSC: the Jasmin SMS gateway (PyPI ``jasmin``, installed
by ``make`` in ``.tools/jasmin``) with its own Redis and RabbitMQ, started once for these tests
by ``tests/smsc/jasmin.py``. Our client binds to Jasmin's SMPP server; Jasmin passes each
message to the carrier behind it (node-smpp's server run by ``tests/smsc/carrier.js``, which
records what reaches it) and relays the carrier's receipts: DELIVRD, or UNDELIV for a number
ending in 0666, EXPIRED for one ending in 0777."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiosmpplib import DeliverSm, SubmitSmResp
from sqlmodel import col, select

from fursa.notify.channels import Message, SendFailed
from fursa.notify.domain import RetryPolicy
from fursa.notify.models import SmsSegment
from fursa.notify.smpp import Receipt, SmppAccount, SmppSms, _Link
from fursa.notify.worker import DeliveryWorker
from fursa.shared.auth import Role
from fursa.shared.clock import utcnow
from fursa.shared.contracts import NotificationFailed, NotificationSent
from fursa.shared.natsserver import free_port
from fursa.shared.testing.builders import learner_enrolled
from fursa.shared.testing.kernel import wait_until
from services.notify.tests.smsc.jasmin import PASSWORD, SYSTEM_ID, SmscPlatform, smsc_platform

# One Jasmin for the module: its tests run in the same pytest-xdist worker. Those that need it
# (a platform of three servers) are marked slow.
pytestmark = pytest.mark.xdist_group("smsc")

ARABIC = (
    "السلام عليكم، نخبركم بأن ابنكم قد أكمل التكوين بنجاح وحصل على شهادته. "
    "يمكنكم التحقق منها على موقع البرنامج في أي وقت، ونشكركم على ثقتكم ومتابعتكم. "
    "للمزيد من المعلومات اتصلوا بالجمعية."
)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmscPlatform]:
    with smsc_platform(tmp_path_factory.mktemp("smsc")) as started:
        yield started


@pytest.fixture
def smsc(platform: SmscPlatform) -> SmscPlatform:
    """Jasmin and its carrier, their records of what reached them cleared."""
    platform.carrier.forget()
    platform.jasmin.forget()
    return platform


def account(port: int, **changes: Any) -> SmppAccount:
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "system_id": SYSTEM_ID,
        "password": PASSWORD,
        "source_address": "Fursa",
        "throughput_per_s": 200.0,
        "window": 5,
        "enquire_link_s": 1.0,
        "response_timeout_s": 2.0,
        "reconnect_min_s": 0.1,
        "reconnect_doublings": 2,
    }
    return SmppAccount(**{**settings, **changes})


@pytest.fixture
async def link(smsc: SmscPlatform) -> AsyncIterator[SmppSms]:
    sms = SmppSms(account(smsc.jasmin.smpp_port))
    await sms.start()
    await wait_until(lambda: sms.bound, timeout_s=10)
    try:
        yield sms
    finally:
        await sms.stop()


@pytest.mark.slow
async def test_a_long_arabic_message_goes_as_three_ucs2_segments(
    smsc: SmscPlatform, link: SmppSms
) -> None:
    assert 135 <= len(ARABIC) <= 201
    sent = await link.send(Message(id="d-1", to="+212612345678", text=ARABIC))

    assert (sent.segments, sent.encoding, len(set(sent.references))) == (3, "ucs2", 3)
    # What Jasmin passed on to the carrier (after accepting, as an SMSC does): the three
    # segments as they were, headers and all.
    await wait_until(lambda: len(smsc.carrier.received()) == 3, timeout_s=10)
    received = smsc.carrier.received()
    assert {(r["destination"], r["data_coding"], r["esm_class"] & 0x40) for r in received} == {
        ("212612345678", 8, 0x40)
    }
    headers = [bytes.fromhex(r["udh"][0]) for r in received]
    assert {h[:2] + h[3:4] for h in headers} == {bytes((0x00, 0x03, 3))}  # concat, 3 parts
    assert len({h[2] for h in headers}) == 1  # one reference ties them
    assert [h[4] for h in headers] == [1, 2, 3]
    assert "".join(r["text"] for r in received) == ARABIC
    assert [len(r["text"]) for r in received] == [67, 67, len(ARABIC) - 134]


@pytest.mark.slow
async def test_a_french_message_in_gsm7_is_one_segment(smsc: SmscPlatform, link: SmppSms) -> None:
    sent = await link.send(Message(id="d-2", to="+212712345678", text="Votre enfant est inscrit."))
    assert (sent.segments, sent.encoding) == (1, "gsm7")
    await wait_until(lambda: len(smsc.carrier.received()) == 1, timeout_s=10)
    [received] = smsc.carrier.received()
    assert (received["data_coding"], received["esm_class"], received["udh"]) == (0, 0, [])
    assert received["text"] == "Votre enfant est inscrit."
    assert received["source"] == "Fursa"


@pytest.mark.slow
async def test_a_wrong_password_never_binds(smsc: SmscPlatform) -> None:
    sms = SmppSms(account(smsc.jasmin.smpp_port, password="wrong"))
    await sms.start()
    try:
        with pytest.raises(SendFailed) as failure:
            await sms.send(Message(id="d-3", to="+212612345678", text="x"))
        assert failure.value.code == "smpp_unbound"
        assert smsc.carrier.received() == []
    finally:
        await sms.stop()


# ---- the delivery worker with the link: receipts, a broken link ---------------------------


def smpp_worker(
    notify: Any, port: int, policy: RetryPolicy | None = None, **changes: Any
) -> DeliveryWorker:
    return DeliveryWorker(
        notify.uow,
        [SmppSms(account(port, **changes))],
        policy or RetryPolicy(max_attempts=5, base_s=0.2, cap_s=0.5),
        rng=random.Random(3),
        send_timeout_s=3.0,
        poll_s=0.1,
    )


async def segments_of(notify: Any, delivery_id: str) -> list[SmsSegment]:
    async with notify.db.read() as session:
        rows = await session.exec(
            select(SmsSegment).where(col(SmsSegment.delivery_id) == delivery_id)
        )
        return list(rows.all())


async def sms_of(notify: Any, n: int) -> Any:
    [delivery] = [d for d in await notify.deliveries(n) if d.channel == "sms"]
    return delivery


@pytest.mark.slow
async def test_a_delivered_receipt_marks_the_sms_delivered(
    notify: Any, journey: Any, smsc: SmscPlatform
) -> None:
    worker = smpp_worker(notify, smsc.jasmin.smpp_port)
    running = await _run(worker)
    try:
        await notify.hear(journey.enrolled(1))
        worker.wake()

        async def delivered() -> bool:
            return (await sms_of(notify, 1)).delivered_at is not None

        await wait_until(delivered, timeout_s=15)
    finally:
        await _stop(worker, running)
    sms = await sms_of(notify, 1)
    segments = await segments_of(notify, sms.id)
    assert sms.status == "sent"
    assert sms.segments == len(segments) >= 1  # the Arabic enrollment message: each is paid
    assert {s.state for s in segments} == {"DELIVRD"}
    # Each segment reached the carrier once; its receipt came back under Jasmin's id for it.
    assert len(smsc.carrier.received()) == len({s.smsc_message_id for s in segments})
    assert [e for e in await notify.outbox() if isinstance(e.data, NotificationFailed)] == []


@pytest.mark.slow
async def test_an_undeliverable_receipt_fails_the_delivery_for_good(
    notify: Any, journey: Any, smsc: SmscPlatform
) -> None:
    worker = smpp_worker(notify, smsc.jasmin.smpp_port)
    running = await _run(worker)
    try:
        await notify.hear(journey.enrolled(666))  # the guardian's number ends in 0666
        worker.wake()

        async def failed() -> bool:
            return (await sms_of(notify, 666)).status == "failed"

        await wait_until(failed, timeout_s=15)
    finally:
        await _stop(worker, running)
    sms = await sms_of(notify, 666)
    assert (sms.attempts, sms.last_error) == (1, "smsc_undeliv")
    assert len(smsc.carrier.received()) == sms.segments  # sent once, never retried
    events = [e.data for e in await notify.outbox()]
    [failure] = [e for e in events if isinstance(e, NotificationFailed)]
    assert (failure.delivery_id, failure.last_error) == (sms.id, "smsc_undeliv")
    assert any(isinstance(e, NotificationSent) and e.delivery_id == sms.id for e in events)


@pytest.mark.slow
async def test_an_expired_receipt_retries_per_the_policy(
    notify: Any, journey: Any, smsc: SmscPlatform
) -> None:
    worker = smpp_worker(
        notify, smsc.jasmin.smpp_port, RetryPolicy(max_attempts=3, base_s=0.1, cap_s=0.2)
    )
    running = await _run(worker)
    try:
        await notify.hear(journey.enrolled(777))  # the guardian's number ends in 0777

        async def spent() -> bool:
            return (await sms_of(notify, 777)).status == "failed"

        await wait_until(spent, timeout_s=20)
    finally:
        await _stop(worker, running)
    sms = await sms_of(notify, 777)
    assert (sms.attempts, sms.last_error) == (3, "smsc_expired")
    assert len(smsc.carrier.received()) == 3 * sms.segments  # each attempt sent it once


async def test_a_receipt_right_behind_the_smscs_answer_waits_for_the_send_to_be_recorded() -> None:
    """The SMSC may send a segment's receipt right behind its submit_sm_resp, and the link may
    read it before the submitting coroutine has resumed: the receipt is held from the moment
    the answer is read, and applied only once the send is recorded (released)."""
    applied: list[Receipt] = []

    async def on_receipt(receipt: Receipt) -> None:
        applied.append(receipt)

    link = _Link(on_receipt)
    answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    link.waiting["delivery-1:1"] = answer
    await link.received(SubmitSmResp(log_id="delivery-1:1", message_id="smsc-42"), b"", "fursa")
    receipt = DeliverSm(
        short_message="id:smsc-42 sub:001 dlvrd:000 submit date:2612071000 "
        "done date:2612071001 stat:EXPIRED err:000 text:",
        esm_class=0b00000100,
    )
    await link.received(receipt, b"", "fursa")
    assert applied == []
    assert answer.result().message_id == "smsc-42"

    for held in link.held.pop("smsc-42"):
        await link.apply(held)
    assert [(r.smsc_message_id, r.state) for r in applied] == [("smsc-42", "EXPIRED")]


async def test_a_receipt_for_an_unknown_message_id_is_logged_and_ignored(
    notify: Any, caplog: pytest.LogCaptureFixture
) -> None:
    worker = smpp_worker(notify, free_port())  # never started: no SMSC needed
    await worker.receipt(Receipt("no-such-id", "DELIVRD"))
    assert "unknown message id no-such-id" in caplog.text


@pytest.mark.slow
async def test_a_link_dropped_mid_batch_loses_and_repeats_nothing(
    notify: Any, journey: Any, smsc: SmscPlatform
) -> None:
    learners = range(1, 13)
    policy = RetryPolicy(max_attempts=50, base_s=0.2, cap_s=0.5)
    # Five segments a second: the batch (about 20 segments) is still going when the link breaks.
    worker = smpp_worker(notify, smsc.jasmin.smpp_port, policy, throughput_per_s=5.0)
    running = await _run(worker)
    try:
        for n in learners:
            await notify.hear(journey.enrolled(n))
        worker.wake()
        await wait_until(lambda: len(smsc.carrier.received()) >= 3, timeout_s=15)
        # Mid-batch, the SMSC restarts: the link breaks under the worker, and rebinds with
        # backoff once Jasmin is back (the worker keeps running meanwhile).
        await asyncio.to_thread(smsc.jasmin.restart)

        async def all_sent() -> bool:
            return all([(await sms_of(notify, n)).status == "sent" for n in learners])

        await wait_until(all_sent, timeout_s=40)
    finally:
        await _stop(worker, running)
    sms = {n: await sms_of(notify, n) for n in learners}

    def whole_copies(n: int) -> list[list[dict[str, Any]]]:
        """Each attempt's segments that reached the carrier, every segment counted once.

        Jasmin, restarted, sends the carrier again what it had taken from its own queue but
        not marked done: the very same segment twice. That is the SMSC repeating itself (our
        side is counted at its intake, below), so the same segment of the same attempt is
        kept once. A one-segment SMS has no reference: its copies are told apart by nothing.
        """
        to_guardian = [r for r in smsc.carrier.received() if r["destination"] == f"2126{n:08d}"]
        attempts: dict[str, dict[str, dict[str, Any]]] = {}
        for r in to_guardian:
            reference, number = (r["udh"][0][4:6], r["udh"][0][8:10]) if r["udh"] else ("", "")
            attempts.setdefault(reference, {}).setdefault(number, r)
        return [
            [parts[number] for number in sorted(parts)]
            for parts in attempts.values()
            if len(parts) == sms[n].segments
        ]

    # Nothing is lost: each guardian's SMS reaches the carrier whole (Jasmin passes on what it
    # accepted after answering, through its own queue and its own link to the carrier, which it
    # rebinds after its restart: the last may still be on their way; 20 s fell short once).
    await wait_until(lambda: all(whole_copies(n) for n in learners), timeout_s=60)
    assert any(sms[n].attempts > 1 for n in learners)  # the break did cut the batch
    taken = smsc.jasmin.accepted()
    for n in learners:
        whole = whole_copies(n)
        assert {"".join(r["text"] for r in parts) for parts in whole} == {sms[n].body}
        assert len(await segments_of(notify, sms[n].id)) == sms[n].segments
        # Nothing is repeated but what the break left in doubt. An SMS sent in one attempt
        # reached the SMSC once: each of its segments, once. An attempt cut by the break may
        # have left some of its segments there (each attempt's segments carry a reference of
        # their own, so the phone never mixes them with the next attempt's), or all of them
        # when Jasmin accepted its last segment but went down before answering: SMPP has no
        # way to tell, and only then does a second whole copy go out.
        at_intake = taken.count(f"2126{n:08d}")
        if sms[n].attempts == 1:
            assert at_intake == sms[n].segments, f"learner {n}: {at_intake} segments taken"
        else:
            assert sms[n].segments <= at_intake <= sms[n].attempts * sms[n].segments
        assert len(whole) == 1 or (len(whole) == 2 and sms[n].attempts > 1), (
            f"learner {n}: {len(whole)} whole copies in {sms[n].attempts} attempts"
        )


async def _run(worker: DeliveryWorker) -> asyncio.Task[None]:
    """The worker running, once its SMPP link is bound: the link binds in the background, and
    a claim made before would spend an attempt on ``smpp_unbound`` that these tests count."""
    running = asyncio.create_task(worker.run())
    links = [channel for channel in worker.channels.values() if isinstance(channel, SmppSms)]
    await wait_until(lambda: all(link.bound for link in links), timeout_s=10)
    return running


async def _stop(worker: DeliveryWorker, running: asyncio.Task[None]) -> None:
    worker.stop()
    await running


async def test_sms_usage_per_association_and_month_over_http(
    client: Any, headers_for: Any, journey: Any, publish_event: Any
) -> None:
    """The development platform's SMS sink counts too: messages and segments per association
    for the month, only the caller's association for its staff."""
    await publish_event(journey.enrolled(1))
    await publish_event(journey.enrolled(3))
    month = utcnow().strftime("%Y-%m")
    admin = headers_for(Role.ADMIN)

    async def counted() -> bool:
        answer = await client.get("/deliveries/sms-usage", params={"month": month}, headers=admin)
        return bool(sum(row["messages"] for row in answer.json()) == 2)

    await wait_until(counted, timeout_s=20)
    rows = (
        await client.get("/deliveries/sms-usage", params={"month": month}, headers=admin)
    ).json()
    associations = {learner_enrolled(n).association_id for n in (1, 3)}
    assert {row["association_id"] for row in rows} == associations
    # Arabic (learner 1) runs to several UCS-2 segments; each message costs at least one.
    assert sum(row["segments"] for row in rows) > sum(row["messages"] for row in rows) == 2
    staff = headers_for(Role.ASSOCIATION_STAFF, association_id="another-association")
    mine = await client.get("/deliveries/sms-usage", params={"month": month}, headers=staff)
    assert mine.json() == []
    bad = await client.get("/deliveries/sms-usage", params={"month": "2026-13"}, headers=admin)
    assert bad.status_code == 422
    assert "month" in bad.text
