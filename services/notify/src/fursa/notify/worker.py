"""The delivery worker: sends what the consumers committed, outside their transactions.

It claims due deliveries and sends each lane's messages in a task of its own (a lane is one
of ``lanes_per_channel`` shares of a channel's messages to people, split by recipient, or one
partner endpoint). It records each failure in a short transaction of its own. It claims
again after every commit of the service (but its own records: they make nothing new due),
when a lane ends in which a claim left due deliveries behind or whose failures are due again,
and every ``poll_s`` at the latest. A lane records each send before it acts on it (metrics,
an SMSC's held receipts) or sends the next one, so a crash re-sends one message per lane at
most; the sends of lanes that finish together share a transaction (:class:`SentRecords`).
A send that does not finish within ``send_timeout_s`` counts as a failed attempt. An SMPP link
is bound while the worker runs; its delivery receipts update the deliveries they name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import NamedTuple

import httpx
from opentelemetry import context as otel_context
from opentelemetry import trace

from fursa.notify import deliveries
from fursa.notify.channels import Channel, SendFailed, SmtpEmail
from fursa.notify.deliveries import Claim, SentMessage
from fursa.notify.domain import DeliveryStatus, RetryPolicy
from fursa.notify.smpp import Receipt, SmppSms
from fursa.shared.contracts import Channel as ChannelKind
from fursa.shared.messaging.outbox import UnitOfWork
from fursa.shared.metrics import record_delivery, record_sms, record_sms_receipt
from fursa.shared.telemetry import context_from_headers, tracer

log = logging.getLogger(__name__)

# What a failed attempt became, as the deliveries metric counts it.
_OUTCOME = {
    DeliveryStatus.PENDING: "retried",
    DeliveryStatus.FAILED: "failed",
    DeliveryStatus.CANCELLED: "cancelled",
    DeliveryStatus.SENT: "sent",
}


class _Record(NamedTuple):
    sent: SentMessage
    committed: asyncio.Future[None]


class SentRecords:
    """Records sends in shared transactions (group commit). :meth:`record` returns once the
    send's record has committed, so a lane never acts on a send not yet recorded; the sends
    recorded while a transaction commits go together in the next one. Should a shared
    transaction fail, each of its sends is recorded on its own, so that a failure stays with
    its send (whose lease then runs out: it is claimed again)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self._waiting: list[_Record] = []
        self._committing: asyncio.Task[None] | None = None

    async def record(self, sent: SentMessage) -> None:
        """Record ``sent``; raises what made its record fail."""
        committed = asyncio.get_running_loop().create_future()
        self._waiting.append(_Record(sent, committed))
        if self._committing is None or self._committing.done():
            self._committing = asyncio.create_task(self._commit_waiting())
        await committed

    async def _commit_waiting(self) -> None:
        while self._waiting:
            records, self._waiting = self._waiting, []
            try:
                await deliveries.record_sent(self.uow, [r.sent for r in records])
            except Exception:
                for record in records:
                    await self._commit_alone(record)
            else:
                for record in records:
                    _settle(record.committed)

    async def _commit_alone(self, record: _Record) -> None:
        try:
            await deliveries.record_sent(self.uow, [record.sent])
        except Exception as exc:
            _settle(record.committed, exc)
        else:
            _settle(record.committed)


def _settle(recorded: asyncio.Future[None], failure: Exception | None = None) -> None:
    # A lane cancelled while it waited (the worker stopping) has cancelled its future.
    if recorded.done():
        return
    if failure is None:
        recorded.set_result(None)
    else:
        recorded.set_exception(failure)


class DeliveryWorker:
    """Sends committed deliveries and retries them from the database (survives restarts)."""

    name = "notify-deliveries"

    def __init__(
        self,
        uow: UnitOfWork,
        channels: Sequence[Channel],
        policy: RetryPolicy,
        *,
        send_timeout_s: float = 10.0,
        poll_s: float = 1.0,
        batch_size: int = 100,
        per_lane: int = 10,
        lanes_per_channel: int = deliveries.LANES_PER_CHANNEL,
        rng: random.Random | None = None,
        http: httpx.AsyncClient | None = None,
        name: str | None = None,
    ) -> None:
        self.uow = uow
        # Claims are written under this name; at start, those still under it are taken back.
        self.worker = name
        self.channels: Mapping[ChannelKind, Channel] = {c.kind: c for c in channels}
        self.policy = policy
        self.send_timeout_s = send_timeout_s
        self.poll_s = poll_s
        self.batch_size = batch_size
        # A lane holds at most `per_lane` claims, sent one after the other: the lease outlasts
        # them all, so a live worker never loses a claim before its turn comes.
        self.per_lane = per_lane
        self.lease = timedelta(seconds=per_lane * send_timeout_s + 30)
        self.lanes_per_channel = lanes_per_channel
        self.rng = rng
        # The HTTP client of the channels, closed when the worker stops.
        self.http = http
        self._lanes: dict[str, asyncio.Task[None]] = {}
        # The lanes whose end calls for a claim: the last claim left due deliveries in them
        # (``None``: maybe in any), or a failed send of theirs is due again.
        self._held_back: frozenset[str] | None = None
        self._retrying: set[str] = set()
        self._sent = SentRecords(uow)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Claim and dispatch until stopped; then let the lanes finish what they hold."""
        links = [c for c in self.channels.values() if isinstance(c, SmppSms)]
        for link in links:
            link.set_receipt_handler(self.receipt)
            await link.start()
        try:
            if self.worker is not None:
                await self._take_back()
            while not self._stopping.is_set():
                self._wake.clear()
                claims = await self._claim()
                self._dispatch(claims)
                if not claims:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=self.poll_s)
        finally:
            await asyncio.gather(*self._lanes.values(), return_exceptions=True)
            for link in links:
                await link.stop()
            for channel in self.channels.values():
                if isinstance(channel, SmtpEmail):
                    await channel.close()
            if self.http is not None:
                await self.http.aclose()

    async def _take_back(self) -> None:
        """Make due again what this worker's previous run held when it died (killed mid-send:
        a message it may have sent goes again, as after a lease runs out)."""
        assert self.worker is not None
        try:
            taken = await deliveries.release_claims(self.uow, self.worker)
        except Exception:
            log.exception("delivery worker: taking back the claims of %s failed", self.worker)
            return
        if taken:
            log.warning(
                "delivery worker %s: %d deliveries claimed by its previous run are due again",
                self.worker,
                taken,
            )

    async def _claim(self) -> list[Claim]:
        try:
            batch = await deliveries.claim(
                self.uow,
                worker=self.worker,
                lease=self.lease,
                limit=self.batch_size,
                per_lane=self.per_lane,
                busy_lanes=set(self._lanes),
                lanes_per_channel=self.lanes_per_channel,
            )
        except Exception:
            log.exception("delivery worker: claiming due deliveries failed")
            self._held_back = None
            return []
        self._held_back = batch.held_back
        return batch.claims

    def _dispatch(self, claims: Sequence[Claim]) -> None:
        by_lane: dict[str, list[Claim]] = {}
        for claim in claims:
            by_lane.setdefault(claim.lane, []).append(claim)
        for lane, held in by_lane.items():
            task = asyncio.create_task(self.send_all(held), name=f"{self.name}:{lane}")
            self._lanes[lane] = task
            task.add_done_callback(self._lane_done)

    def _lane_done(self, task: asyncio.Task[None]) -> None:
        for lane, running in list(self._lanes.items()):
            if running is task:
                del self._lanes[lane]
                retrying = lane in self._retrying
                self._retrying.discard(lane)
                if retrying or self._held_back is None or lane in self._held_back:
                    self._wake.set()

    async def send_all(self, claims: Sequence[Claim]) -> None:
        """Send claimed deliveries one after the other, each recorded before the next; once a
        receiver is gone (410), the rest of its lane is not sent (recording the 410 cancelled
        it)."""
        gone: set[str] = set()
        for claim in claims:
            if claim.lane in gone:
                continue
            try:
                failure = await self.send(claim)
            except Exception:
                # Its lease runs out and it is claimed again: nothing is lost.
                log.exception("delivery worker: recording delivery %s failed", claim.delivery_id)
                continue
            if failure is not None:
                self._retrying.add(claim.lane)
                if failure.gone:
                    gone.add(claim.lane)

    async def send(self, claim: Claim) -> SendFailed | None:
        """Send one claimed delivery and record the outcome; returns the failure, if any.

        Both continue the trace of the event that caused the delivery, so notification-sent
        belongs to the same trace as the enrollment or certificate it is about (the send's
        record may share a transaction with other lanes' sends: each keeps its own trace).
        """
        carrier = {"traceparent": claim.traceparent} if claim.traceparent else {}
        with tracer.start_as_current_span(
            f"notify {claim.channel.value} send",
            context=context_from_headers(carrier),
            kind=trace.SpanKind.CLIENT,
            attributes={"fursa.delivery.id": claim.delivery_id},
        ) as span:
            failure = await self._send(claim)
            if failure is not None:
                span.set_status(trace.StatusCode.ERROR, failure.code)
            return failure

    async def _send(self, claim: Claim) -> SendFailed | None:
        channel = self.channels.get(claim.channel)
        try:
            if channel is None:
                raise SendFailed("channel_unavailable", permanent=True)
            sent = await asyncio.wait_for(channel.send(claim.message), timeout=self.send_timeout_s)
        except SendFailed as failure:
            return await self._failed(claim, failure)
        except TimeoutError:
            return await self._failed(claim, SendFailed("timeout"))
        except Exception as exc:
            # Only the type is logged: a library's message could echo an address.
            log.warning("delivery %s: %s while sending", claim.delivery_id, type(exc).__name__)
            return await self._failed(claim, SendFailed("error"))
        await self._sent.record(SentMessage(claim, sent, otel_context.get_current()))
        record_delivery(claim.channel.value, "sent")
        if sent is not None:
            record_sms(sent.encoding, sent.segments)
            if isinstance(channel, SmppSms):
                await channel.release(sent.references)
        return None

    async def receipt(self, receipt: Receipt) -> None:
        """Apply an SMSC's delivery receipt; one for an id notify never sent is logged."""
        outcome = await deliveries.record_receipt(
            self.uow,
            smsc_message_id=receipt.smsc_message_id,
            state=receipt.state,
            policy=self.policy,
            rng=self.rng,
        )
        record_sms_receipt(outcome.value)
        if outcome is deliveries.ReceiptOutcome.UNKNOWN:
            log.warning("sms receipt for unknown message id %s ignored", receipt.smsc_message_id)
        elif outcome is deliveries.ReceiptOutcome.RETRIED:
            self.wake()

    async def _failed(self, claim: Claim, failure: SendFailed) -> SendFailed:
        status = await deliveries.record_failure(self.uow, claim, failure, self.policy, self.rng)
        if status is not None:
            record_delivery(claim.channel.value, _OUTCOME[status])
        log.info(
            "delivery %s over %s: attempt failed (%s), now %s",
            claim.delivery_id,
            claim.channel.value,
            failure.code,
            status,
        )
        return failure
