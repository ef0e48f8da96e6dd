"""SMS over SMPP 3.4 against a real SMPP server: node-smpp's server (npm `smpp`, locked in
``tests/smsc/package-lock.json``, installed by ``make system-deps``) run by ``tests/smsc/
smsc.js`` in a process of its own. It accepts one account's transceiver binds, logs each
submit_sm it receives and sends the delivery receipt asked for: DELIVRD, or UNDELIV for a
number ending in 0666, EXPIRED for one ending in 0777."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from fursa.notify.channels import Message, SendFailed
from fursa.notify.domain import RetryPolicy
from fursa.notify.models import SmsSegment
from fursa.notify.smpp import Receipt, SmppAccount, SmppSms
from fursa.notify.worker import DeliveryWorker
from fursa.shared.auth import Role
from fursa.shared.clock import utcnow
from fursa.shared.contracts import NotificationFailed, NotificationSent
from fursa.shared.natsserver import free_port
from fursa.shared.testing.builders import learner_enrolled
from fursa.shared.testing.kernel import wait_until

SMSC_DIR = Path(__file__).with_name("smsc")
SYSTEM_ID, PASSWORD = "fursa", "s3cret"
ARABIC = (
    "السلام عليكم، نخبركم بأن ابنكم قد أكمل التكوين بنجاح وحصل على شهادته. "
    "يمكنكم التحقق منها على موقع البرنامج في أي وقت، ونشكركم على ثقتكم ومتابعتكم. "
    "للمزيد من المعلومات اتصلوا بالجمعية."
)


@dataclass
class Smsc:
    """The SMSC process: started, killed and started again on the same port."""

    port: int
    received_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        node = shutil.which("node")
        assert node, "node is needed for the SMSC side of the SMPP tests"
        self.process = subprocess.Popen(
            [
                node,
                str(SMSC_DIR / "smsc.js"),
                str(self.port),
                SYSTEM_ID,
                PASSWORD,
                str(self.received_path),
            ],
            stdout=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().startswith(b"listening")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def received(self) -> list[dict[str, Any]]:
        if not self.received_path.exists():
            return []
        lines = self.received_path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]


@pytest.fixture
def smsc(tmp_path: Path) -> Iterator[Smsc]:
    if not (SMSC_DIR / "node_modules" / "smpp").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=SMSC_DIR, check=True)
    server = Smsc(free_port(), tmp_path / "received.jsonl")
    server.start()
    try:
        yield server
    finally:
        server.kill()


def account(smsc: Smsc, **changes: Any) -> SmppAccount:
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": smsc.port,
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
async def link(smsc: Smsc) -> AsyncIterator[SmppSms]:
    sms = SmppSms(account(smsc))
    await sms.start()
    await wait_until(lambda: sms.bound, timeout_s=10)
    try:
        yield sms
    finally:
        await sms.stop()


async def test_a_long_arabic_message_goes_as_three_ucs2_segments(smsc: Smsc, link: SmppSms) -> None:
    assert 135 <= len(ARABIC) <= 201
    sent = await link.send(Message(id="d-1", to="+212612345678", text=ARABIC))

    assert (sent.segments, sent.encoding, len(sent.references)) == (3, "ucs2", 3)
    received = smsc.received()
    assert [r["id"] for r in received] == list(sent.references)
    assert {(r["destination"], r["data_coding"], r["esm_class"] & 0x40) for r in received} == {
        ("212612345678", 8, 0x40)
    }
    headers = [bytes.fromhex(r["udh"][0]) for r in received]
    assert {h[:2] + h[3:4] for h in headers} == {bytes((0x00, 0x03, 3))}  # concat, 3 parts
    assert len({h[2] for h in headers}) == 1  # one reference ties them
    assert [h[4] for h in headers] == [1, 2, 3]
    assert "".join(r["text"] for r in received) == ARABIC
    assert [len(r["text"]) for r in received] == [67, 67, len(ARABIC) - 134]


async def test_a_french_message_in_gsm7_is_one_segment(smsc: Smsc, link: SmppSms) -> None:
    sent = await link.send(Message(id="d-2", to="+212712345678", text="Votre enfant est inscrit."))
    assert (sent.segments, sent.encoding) == (1, "gsm7")
    [received] = smsc.received()
    assert (received["data_coding"], received["esm_class"], received["udh"]) == (0, 0, [])
    assert received["text"] == "Votre enfant est inscrit."
    assert received["source"] == "Fursa"


async def test_a_wrong_password_never_binds(smsc: Smsc) -> None:
    sms = SmppSms(account(smsc, password="wrong"))
    await sms.start()
    try:
        with pytest.raises(SendFailed) as failure:
            await sms.send(Message(id="d-3", to="+212612345678", text="x"))
        assert failure.value.code == "smpp_unbound"
        assert smsc.received() == []
    finally:
        await sms.stop()


# ---- the delivery worker with the link: receipts, a broken link ---------------------------


def smpp_worker(notify: Any, smsc: Smsc, policy: RetryPolicy | None = None) -> DeliveryWorker:
    return DeliveryWorker(
        notify.uow,
        [SmppSms(account(smsc))],
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


async def test_a_delivered_receipt_marks_the_sms_delivered(
    notify: Any, journey: Any, smsc: Smsc
) -> None:
    worker = smpp_worker(notify, smsc)
    running = _run(worker)
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
    received = {r["id"] for r in smsc.received()}
    assert received == {s.smsc_message_id for s in segments}
    assert [e for e in await notify.outbox() if isinstance(e.data, NotificationFailed)] == []


async def test_an_undeliverable_receipt_fails_the_delivery_for_good(
    notify: Any, journey: Any, smsc: Smsc
) -> None:
    worker = smpp_worker(notify, smsc)
    running = _run(worker)
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
    assert len(smsc.received()) == sms.segments  # sent once, never retried
    events = [e.data for e in await notify.outbox()]
    [failure] = [e for e in events if isinstance(e, NotificationFailed)]
    assert (failure.delivery_id, failure.last_error) == (sms.id, "smsc_undeliv")
    assert any(isinstance(e, NotificationSent) and e.delivery_id == sms.id for e in events)


async def test_an_expired_receipt_retries_per_the_policy(
    notify: Any, journey: Any, smsc: Smsc
) -> None:
    worker = smpp_worker(notify, smsc, RetryPolicy(max_attempts=3, base_s=0.1, cap_s=0.2))
    running = _run(worker)
    try:
        await notify.hear(journey.enrolled(777))  # the guardian's number ends in 0777

        async def spent() -> bool:
            return (await sms_of(notify, 777)).status == "failed"

        await wait_until(spent, timeout_s=20)
    finally:
        await _stop(worker, running)
    sms = await sms_of(notify, 777)
    assert (sms.attempts, sms.last_error) == (3, "smsc_expired")
    assert len(smsc.received()) == 3 * sms.segments  # each attempt sent it once


async def test_a_receipt_for_an_unknown_message_id_is_logged_and_ignored(
    notify: Any, smsc: Smsc, caplog: pytest.LogCaptureFixture
) -> None:
    worker = smpp_worker(notify, smsc)
    await worker.receipt(Receipt("no-such-id", "DELIVRD"))
    assert "unknown message id no-such-id" in caplog.text


async def test_a_link_dropped_mid_batch_loses_and_repeats_nothing(
    notify: Any, journey: Any, smsc: Smsc
) -> None:
    learners = range(1, 13)
    worker = smpp_worker(notify, smsc, RetryPolicy(max_attempts=50, base_s=0.2, cap_s=0.5))
    running = _run(worker)
    try:
        for n in learners:
            await notify.hear(journey.enrolled(n))
        worker.wake()
        await wait_until(lambda: len(smsc.received()) >= 3, timeout_s=15)
        smsc.kill()  # mid-batch: the link breaks under the worker
        smsc.start()  # the SMSC comes back; the link rebinds with backoff

        async def all_sent() -> bool:
            return all([(await sms_of(notify, n)).status == "sent" for n in learners])

        await wait_until(all_sent, timeout_s=40)
    finally:
        await _stop(worker, running)
    # Each guardian's SMS reached the SMSC whole exactly once. An attempt cut by the break
    # may have left some of its segments there (each attempt's segments carry a reference of
    # their own, so the phone never mixes them with the next attempt's).
    received = smsc.received()
    for n in learners:
        sms = await sms_of(notify, n)
        to_guardian = [r for r in received if r["destination"] == f"2126{n:08d}"]
        attempts: dict[str, list[dict[str, Any]]] = {}
        for r in to_guardian:
            attempts.setdefault(r["udh"][0][4:6] if r["udh"] else r["id"], []).append(r)
        whole = [parts for parts in attempts.values() if len(parts) == sms.segments]
        assert len(whole) == 1, f"learner {n}: {len(whole)} whole copies"
        assert "".join(r["text"] for r in whole[0]) == sms.body
        recorded = {s.smsc_message_id for s in await segments_of(notify, sms.id)}
        assert {r["id"] for r in whole[0]} <= recorded


def _run(worker: DeliveryWorker) -> asyncio.Task[None]:
    return asyncio.create_task(worker.run())


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
