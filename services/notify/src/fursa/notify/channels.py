"""How messages leave notify. Every channel has the same small interface: ``send`` delivers one
:class:`Message` or raises :class:`SendFailed` with a short code (never a message that could
echo an address or a text). SMS goes over SMPP (``smpp.py``), to an HTTP gateway or, in
development, to a local sink file; e-mail over SMTP; partner webhooks over HTTPS signed per the
Standard Webhooks specification.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formataddr, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol, cast

import aiosmtplib
import httpx
from standardwebhooks import Webhook

from fursa.notify.sms_encoding import segment
from fursa.shared.clock import utcnow
from fursa.shared.contracts import Channel as ChannelKind
from fursa.shared.contracts import Language


@dataclass(frozen=True)
class Message:
    """One message to one address. ``id`` is the delivery's id: the webhook-id, the e-mail's
    Message-ID and the SMS gateway's reference, so a receiver can drop a repeated send."""

    id: str
    # Kept out of the repr: an address or a text must never reach a log line or an error.
    to: str = field(repr=False)
    text: str = field(repr=False)
    language: Language | None = None
    subject: str | None = None
    # Webhooks: the endpoint's signing secrets (several during a rotation's grace period).
    secrets: tuple[str, ...] = field(default=(), repr=False)


class SendFailed(Exception):  # noqa: N818 - reads as what happened to the message
    """A send did not go through. ``code`` is short and data-free (``http_503``, ``timeout``);
    ``permanent`` means retrying cannot help; ``gone`` that the receiver asked never to be
    called again (a webhook's 410)."""

    def __init__(self, code: str, *, permanent: bool = False, gone: bool = False) -> None:
        super().__init__(code)
        self.code = code
        self.permanent = permanent or gone
        self.gone = gone


@dataclass(frozen=True)
class Sent:
    """What an SMS cost: its segments (each is paid for) and the SMSC's id of each, which
    its delivery receipts name."""

    segments: int
    encoding: str
    references: tuple[str, ...] = ()

    @classmethod
    def of(cls, text: str, references: tuple[str, ...] = ()) -> Sent:
        """What ``text`` costs as SMS (``gsm7`` or ``ucs2``)."""
        sms = segment(text)
        return cls(sms.count, sms.encoding.metric, references)


class Channel(Protocol):
    """Something that delivers a message, or raises :class:`SendFailed`; an SMS channel
    tells what the message cost (:class:`Sent`)."""

    @property
    def kind(self) -> ChannelKind: ...

    async def send(self, message: Message) -> Sent | None: ...


def http_failure(status: int) -> SendFailed:
    """What an HTTP answer other than 2xx means for the delivery."""
    # 408/429 and 5xx are worth another try; other 4xx answers will not change by themselves.
    transient = status in (408, 425, 429) or status >= 500
    return SendFailed(f"http_{status}", permanent=not transient, gone=status == 410)


class LocalSmsSink:
    """The SMS channel of the development platform: appends each message to `sms.jsonl`."""

    def __init__(self, sink_dir: Path) -> None:
        self.path = sink_dir / "sms.jsonl"

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind.SMS

    async def send(self, message: Message) -> Sent:
        line = json.dumps(
            {
                "id": message.id,
                "phone": message.to,
                "language": message.language.value if message.language else None,
                "text": message.text,
            },
            ensure_ascii=False,
        )
        await asyncio.to_thread(self._append, line)
        return Sent.of(message.text)

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as sink:
            sink.write(line + "\n")


class HttpSmsGateway:
    """An SMS gateway reached over HTTP: ``POST <url>`` with ``{"to", "text", "reference"}``
    and a bearer token; any 2xx is accepted. Most Moroccan and international gateways take
    this shape or a thin proxy in front of them."""

    def __init__(self, client: httpx.AsyncClient, url: str, token: str | None) -> None:
        self.client = client
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind.SMS

    async def send(self, message: Message) -> Sent:
        body = {"to": message.to, "text": message.text, "reference": message.id}
        try:
            response = await self.client.post(self.url, json=body, headers=self.headers)
        except httpx.TimeoutException:
            raise SendFailed("timeout") from None
        except httpx.HTTPError:
            raise SendFailed("unreachable") from None
        if not response.is_success:
            raise http_failure(response.status_code)
        return Sent.of(message.text)


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    start_tls: bool = False
    timeout_s: float = 10.0


class SmtpEmail:
    """E-mail over SMTP (the development platform runs a local SMTP sink).

    Connections are kept between messages: up to ``keep`` idle ones (one per lane sending side
    by side), each reused within ``idle_s`` of its last message (a server closes idle sessions
    after some minutes; RFC 5321 asks it to wait at least five). Should the server have closed
    a kept connection meanwhile, the message goes on a new one.
    """

    def __init__(self, server: SmtpServer, *, keep: int = 4, idle_s: float = 30.0) -> None:
        self.server = server
        name, address = parseaddr(server.sender)
        self._sender = formataddr((name, address), charset="utf-8")
        self._domain = address.rpartition("@")[2] or None
        self.keep = keep
        self.idle_s = idle_s
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind.EMAIL

    async def send(self, message: Message) -> None:
        # The compat32 classes: the same message as the modern EmailMessage API makes, at a
        # quarter of its CPU (its header registry parses every header it is given).
        email = MIMEText(message.text, "plain", "utf-8")
        email["From"] = self._sender
        email["To"] = message.to
        subject = message.subject or ""
        # compat32 encodes a Header (RFC 2047) as it folds; typeshed types the value as str.
        email["Subject"] = subject if subject.isascii() else cast(str, Header(subject, "utf-8"))
        email["Message-ID"] = make_msgid(idstring=message.id, domain=self._domain)
        if message.language:
            email["Content-Language"] = message.language.value
        try:
            await self._send(email)
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx: the server refuses for good (unknown mailbox...); 4xx: try again later.
            raise SendFailed(f"smtp_{exc.code}", permanent=exc.code >= 500) from None
        except aiosmtplib.SMTPTimeoutError:
            raise SendFailed("timeout") from None
        except (aiosmtplib.SMTPException, OSError):
            raise SendFailed("unreachable") from None

    async def _send(self, email: MIMEText) -> None:
        kept = self._kept()
        if kept is not None:
            try:
                await kept.send_message(email)
            except aiosmtplib.SMTPServerDisconnected:
                kept.close()  # the server hung up while it was idle: a new connection
            except BaseException:
                kept.close()
                raise
            else:
                self._keep(kept)
                return
        server = self.server
        client = aiosmtplib.SMTP(
            hostname=server.host,
            port=server.port,
            username=server.username,
            password=server.password,
            start_tls=server.start_tls,
            timeout=server.timeout_s,
        )
        try:
            await client.connect()
            await client.send_message(email)
        except BaseException:
            client.close()
            raise
        self._keep(client)

    def _kept(self) -> aiosmtplib.SMTP | None:
        now = time.monotonic()
        while self._idle:
            client, since = self._idle.pop()
            if client.is_connected and now - since < self.idle_s:
                return client
            client.close()
        return None

    def _keep(self, client: aiosmtplib.SMTP) -> None:
        if len(self._idle) < self.keep:
            self._idle.append((client, time.monotonic()))
        else:
            client.close()

    async def close(self) -> None:
        """Say goodbye on every kept connection (the worker stopping)."""
        idle, self._idle = self._idle, []
        for client, _ in idle:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
            client.close()


def sign(message: Message, timestamp: datetime) -> str:
    """The ``webhook-signature`` header: one ``v1,<base64>`` per secret, space-separated."""
    return " ".join(
        Webhook(secret).sign(message.id, timestamp, message.text) for secret in message.secrets
    )


class PartnerWebhook:
    """A partner's endpoint, called per the Standard Webhooks specification: the body is the
    partner event (CloudEvents JSON), with ``webhook-id``, ``webhook-timestamp`` and
    ``webhook-signature`` (HMAC-SHA256 with each current secret of the endpoint)."""

    def __init__(self, client: httpx.AsyncClient, timeout_s: float) -> None:
        self.client = client
        self.timeout_s = timeout_s

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind.WEBHOOK

    async def send(self, message: Message) -> None:
        # The time of this attempt: receivers refuse old timestamps (replay protection).
        now = utcnow()
        headers = {
            "content-type": "application/json",
            "webhook-id": message.id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": sign(message, now),
        }
        try:
            response = await self.client.post(
                message.to,
                content=message.text.encode(),
                headers=headers,
                timeout=self.timeout_s,
            )
        except httpx.TimeoutException:
            raise SendFailed("timeout") from None
        except httpx.HTTPError:
            raise SendFailed("unreachable") from None
        if not response.is_success:
            raise http_failure(response.status_code)
