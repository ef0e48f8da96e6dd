"""Guardians' SMS over SMPP 3.4, the protocol operators and aggregators speak, with
aiosmpplib's ESME (asyncio): one transceiver bind that sends ``submit_sm`` and receives the
delivery receipts, ``enquire_link`` to keep it alive, reconnection with exponential backoff,
the account's throughput (messages per second) and window (requests awaiting an answer).

The durable delivery queue stays the source of truth. A message is handed to the link only
while it is bound, each segment waits for its ``submit_sm_resp`` (or ``send`` fails after
``response_timeout_s``), and nothing waits inside the library: a segment the link could not
take fails the attempt, and the worker's retry policy decides, so an attempt sends each
segment at most once and a broken link loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from aiosmpplib import (
    ESME,
    NPI,
    TON,
    AbstractHook,
    DeliverSm,
    PhoneNumber,
    SmppCommandStatus,
    SmppMessage,
    SmppSessionState,
    SubmitSm,
    SubmitSmResp,
)
from aiosmpplib.broker import SimpleBroker
from aiosmpplib.log import StructuredLogger
from aiosmpplib.ratelimiter import SimpleRateLimiter
from aiosmpplib.retrytimer import SimpleExponentialBackoff

from fursa.notify.channels import Message, SendFailed, Sent
from fursa.notify.sms_encoding import MessageTooLongError, SmsSegments, segment
from fursa.shared.contracts import Channel as ChannelKind

log = logging.getLogger(__name__)

# esm_class bit 6: the short message starts with a user data header (concatenation).
UDHI = 0x40
# registered_delivery: a receipt on final delivery or failure.
RECEIPT_REQUESTED = 0x01
# submit_sm_resp statuses worth another try (the others will not change by themselves).
_TRANSIENT = {
    SmppCommandStatus.ESME_RTHROTTLED,
    SmppCommandStatus.ESME_RMSGQFUL,
    SmppCommandStatus.ESME_RSYSERR,
    SmppCommandStatus.ESME_RSUBMITFAIL,
}


@dataclass(frozen=True)
class SmppAccount:
    """What an SMS provider gives for an SMPP account."""

    host: str
    port: int
    system_id: str
    password: str = field(repr=False)
    # The sender shown on the phone: an alphanumeric sender id (11 characters at most) or a
    # short code / number, as the provider registered it.
    source_address: str = "Fursa"
    system_type: str = ""
    throughput_per_s: float = 10.0
    window: int = 10
    enquire_link_s: float = 30.0
    response_timeout_s: float = 10.0
    reconnect_min_s: float = 1.0
    # The reconnection delay doubles this many times at most (1 s → 32 s by default).
    reconnect_doublings: int = 5


@dataclass(frozen=True)
class Receipt:
    """A delivery receipt: the SMSC's id of one segment and its final state (``DELIVRD``,
    ``UNDELIV``, ``EXPIRED``, ``REJECTD``…)."""

    smsc_message_id: str
    state: str
    error: str | None = None


OnReceipt = Callable[[Receipt], Awaitable[None]]


def source_of(address: str) -> PhoneNumber:
    """The sender as SMPP addresses it: alphanumeric, international or national."""
    if address.startswith("+") and address[1:].isdigit():
        return PhoneNumber(address[1:], TON.INTERNATIONAL, NPI.ISDN)
    if address.isdigit():
        return PhoneNumber(address, TON.NATIONAL, NPI.ISDN)
    return PhoneNumber(address, TON.ALPHANUMERIC, NPI.UNKNOWN)


class _Link(AbstractHook):  # type: ignore[misc]  # the library ships no type information
    """The ESME's hook: answers and receipts come back through it."""

    def __init__(self, on_receipt: OnReceipt | None) -> None:
        self.on_receipt = on_receipt
        self.waiting: dict[str, asyncio.Future[SubmitSmResp]] = {}
        # Receipts for segments accepted but not yet recorded as sent (a receipt can come
        # before the worker's commit): held until :meth:`SmppSms.release`.
        self.held: dict[str, list[Receipt]] = {}

    async def sending(self, smpp_message: SmppMessage, pdu: bytes, client_id: str) -> None:
        return None

    async def received(self, smpp_message: SmppMessage | None, pdu: bytes, client_id: str) -> None:
        if isinstance(smpp_message, SubmitSmResp):
            future = self.waiting.get(smpp_message.log_id)
            if future is not None and not future.done():
                if smpp_message.command_status == SmppCommandStatus.ESME_ROK:
                    # Held from now: the SMSC may send the receipt right behind this answer,
                    # before the submitting coroutine has even resumed.
                    self.held.setdefault(str(smpp_message.message_id), [])
                future.set_result(smpp_message)
        elif isinstance(smpp_message, DeliverSm) and smpp_message.is_receipt():
            await self._receipt(smpp_message)

    async def send_error(self, smpp_message: SmppMessage, error: Exception, client_id: str) -> None:
        future = self.waiting.get(getattr(smpp_message, "log_id", ""))
        if future is not None and not future.done():
            future.set_exception(SendFailed("smpp_link_lost"))

    async def _receipt(self, deliver: DeliverSm) -> None:
        fields = deliver.parse_receipt()
        smsc_id, state = fields.get("id"), fields.get("stat")
        if not isinstance(smsc_id, str) or not isinstance(state, str):
            log.warning("smpp: a delivery receipt without id or state was ignored")
            return
        error = fields.get("err")
        receipt = Receipt(smsc_id, state.upper(), None if error is None else str(error))
        if smsc_id in self.held:
            self.held[smsc_id].append(receipt)
            return
        await self.apply(receipt)

    async def apply(self, receipt: Receipt) -> None:
        if self.on_receipt is None:
            return
        try:
            await self.on_receipt(receipt)
        except Exception:
            # A receipt must never break the link; the segment's delivery keeps its state.
            log.exception("smpp: recording the receipt for %s failed", receipt.smsc_message_id)


class SmppSms:
    """The SMS channel over an SMPP account (see the module's docstring)."""

    def __init__(self, account: SmppAccount, on_receipt: OnReceipt | None = None) -> None:
        self.account = account
        self._link = _Link(on_receipt)
        self._broker = SimpleBroker()
        self._window = asyncio.Semaphore(account.window)
        self._ids = itertools.count()
        self.esme = ESME(
            smsc_host=account.host,
            smsc_port=account.port,
            system_id=account.system_id,
            password=account.password,
            system_type=account.system_type,
            enquire_link_interval=account.enquire_link_s,
            hook=self._link,
            broker=self._broker,
            rate_limiter=SimpleRateLimiter(
                _silent("fursa.notify.smpp.rate"), send_rate=account.throughput_per_s
            ),
            retry_timer=SimpleExponentialBackoff(
                min_delay=max(1, int(account.reconnect_min_s * 1000)),
                max_increases=account.reconnect_doublings,
            ),
            socket_timeout=account.response_timeout_s,
            log_level=logging.ERROR,
            log_handler=logging.NullHandler(),
        )
        self._running: asyncio.Task[None] | None = None

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind.SMS

    @property
    def bound(self) -> bool:
        return bool(self.esme.session_state == SmppSessionState.BOUND_TRX)

    def set_receipt_handler(self, on_receipt: OnReceipt) -> None:
        self._link.on_receipt = on_receipt

    async def start(self) -> None:
        """Bind (and keep binding, with backoff) in the background."""
        if self._running is None:
            self._running = asyncio.create_task(self.esme.start(), name="notify-smpp")

    async def stop(self) -> None:
        """Unbind and close the link."""
        if self._running is None:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.esme.stop(), timeout=self.account.response_timeout_s)
        self._running.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._running
        self._running = None

    async def send(self, message: Message) -> Sent:
        """Submit every segment of the message; the SMSC's ids come back for the receipts."""
        try:
            sms = segment(message.text, reference=next(self._ids) % 256)
        except MessageTooLongError:
            raise SendFailed("sms_too_long", permanent=True) from None
        references: list[str] = []
        try:
            for number, part in enumerate(sms.parts, start=1):
                references.append(await self._submit(message, sms, number, part))
        except BaseException:
            await self.release(references)
            raise
        return Sent(sms.count, sms.encoding.metric, tuple(references))

    async def release(self, references: Sequence[str]) -> None:
        """The segments' send is recorded (or failed): apply the receipts held for them."""
        for reference in references:
            for receipt in self._link.held.pop(reference, []):
                await self._link.apply(receipt)

    async def _submit(self, message: Message, sms: SmsSegments, number: int, part: bytes) -> str:
        async with self._window:
            if not self.bound:
                raise SendFailed("smpp_unbound")
            log_id = f"{message.id}:{number}"
            submit = SubmitSm(
                # Required by the library, unused: the encoded segment below is what is sent.
                short_message=f"segment {number}/{sms.count}",
                source=source_of(self.account.source_address),
                destination=PhoneNumber(message.to.lstrip("+"), TON.INTERNATIONAL, NPI.ISDN),
                esm_class=UDHI if sms.concatenated else 0,
                registered_delivery=RECEIPT_REQUESTED,
                encoding=sms.encoding.value,
                log_id=log_id,
            )
            # Already segmented: the library sends the bytes as they are.
            submit.set_encoded_message(part)
            answer: asyncio.Future[SubmitSmResp] = asyncio.get_running_loop().create_future()
            self._link.waiting[log_id] = answer
            try:
                await self._broker.enqueue(submit)
                response = await asyncio.wait_for(answer, timeout=self.account.response_timeout_s)
            except TimeoutError:
                raise SendFailed("smpp_timeout") from None
            finally:
                self._link.waiting.pop(log_id, None)
        status = response.command_status
        if status != SmppCommandStatus.ESME_ROK:
            raise SendFailed(f"smpp_{status.name.lower()}", permanent=status not in _TRANSIENT)
        return str(response.message_id)


def _silent(name: str) -> StructuredLogger:
    # The library logs whole PDUs and messages (numbers, texts) on errors: none of that may
    # reach a log line. This module logs what happens, without data.
    return StructuredLogger(name, logging.ERROR, handler=logging.NullHandler())
