"""No personal data leaks out of notify: a learner whose every `pii` field holds a unique
sentinel value goes through the whole journey (enrolled, corrected, transferred, at risk,
completed, followed up, certified, revoked, withdrawn, erased) with a partner endpoint
subscribed to every partner event; none of the sentinels may appear in a webhook call, the
PARTNER or NOTIFY stream, the logs (at INFO, the services' level), the spans or /metrics.

The guardian's own messages (the SMS sink, the e-mail) do carry the phone number and address:
that is where they belong.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from fursa.notify.settings import NotifySettings
from fursa.shared.auth import Role
from fursa.shared.contracts import Consent, Guardian, Language, LearnerPII, Sex
from fursa.shared.testing.kernel import wait_until

Publish = Callable[[Any], Any]
AuthHeaders = Callable[..., dict[str, str]]

SENTINEL_PII = LearnerPII(
    first_name_ar="غظظغ",
    last_name_ar="ظغظغ",
    first_name_latin="Zqxsentfirst",
    last_name_latin="Zqxsentlast",
    birth_date=date(2010, 2, 13),
    sex=Sex.FEMALE,
    nationality="QZ",
    massar_code="SENTMASSAR7731",
    guardian=Guardian(
        name="Sentinel Guardian Qwv",
        phone="+212699887766",
        email="sentinel.qwv@leak.test",
        preferred_language=Language.FR,
    ),
    consent=Consent(data_use=True, notifications=True, partner_sharing=True),
)
# Every value of the pii block that can be unique (sex and language are enums, consent bools).
SENTINELS = [
    "غظظغ",
    "ظغظغ",
    "Zqxsentfirst",
    "Zqxsentlast",
    "2010-02-13",
    "SENTMASSAR7731",
    "Sentinel Guardian Qwv",
    "+212699887766",
    "212699887766",  # the phone without its plus, as URL encoding would leave it
    "sentinel.qwv@leak.test",
    "sentinel.qwv%40leak.test",
]
NATIONALITY = re.compile(r"\bQZ\b")
PARTNER_EVENTS = 8  # enrolled, transferred, completed, outcome, issued, revoked, withdrawn, erased


def leaks(text: str) -> list[str]:
    found = [sentinel for sentinel in SENTINELS if sentinel in text]
    return found + (["nationality"] if NATIONALITY.search(text) else [])


@pytest.fixture
def spans(app: FastAPI) -> InMemorySpanExporter:
    """Every span the service ends from now on (the app installed the SDK's provider)."""
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def span_text(exporter: InMemorySpanExporter) -> str:
    parts = []
    for span in exporter.get_finished_spans():
        parts += [span.name, str(span.status.description or "")]
        parts += [f"{key}={value}" for key, value in (span.attributes or {}).items()]
        for event in span.events:
            parts += [event.name, *(f"{k}={v}" for k, v in (event.attributes or {}).items())]
    return "\n".join(parts)


async def stream_text(js: JetStreamContext, stream: str) -> str:
    info = await js.stream_info(stream)
    parts = []
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        message = await js.get_msg(stream, sequence)
        parts.append((message.data or b"").decode())
        parts.append(repr(message.headers))
    return "\n".join(parts)


@pytest.mark.slow
async def test_no_personal_data_leaves_notify_for_partners_logs_spans_or_metrics(
    client: httpx.AsyncClient,
    app: FastAPI,
    js: JetStreamContext,
    settings: NotifySettings,
    journey: Any,
    publish_event: Publish,
    receiver: Any,
    smtp_server: Any,
    spans: InMemorySpanExporter,
    headers_for: AuthHeaders,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    partner = (await client.post("/partners", json={"name": "Relais"})).json()
    catalog = (await client.get("/partner/asyncapi.json")).json()
    every_type = sorted(channel["address"] for channel in catalog["channels"].values())
    registered = await client.post(
        f"/partners/{partner['partner_id']}/endpoints",
        json={"url": receiver.url("/hooks"), "event_types": every_type},
        headers=headers_for(Role.PARTNER, partner_id=partner["partner_id"]),
    )
    assert registered.status_code == 201

    n = 11
    await publish_event(journey.enrolled(n, pii=SENTINEL_PII))
    updated = journey.updated(n)
    await publish_event(
        updated.model_copy(update={"data": updated.data.model_copy(update={"pii": SENTINEL_PII})})
    )
    for step in ("transferred", "at_risk", "completed", "outcome", "issued", "revoked"):
        await publish_event(getattr(journey, step)(n))
    # Events of three streams arrive in any order; one that comes before the learner's contact
    # waits out a retry delay, hence the patience.
    await wait_until(lambda: _sent(client, 5), timeout_s=90)  # enrolled, at risk, completed,
    await wait_until(
        lambda: len(smtp_server.mailbox.messages) == 5, timeout_s=90
    )  # issued, revoked
    await publish_event(journey.withdrawn(n))
    await publish_event(journey.erased(n))
    await wait_until(lambda: len(receiver.to("/hooks")) == PARTNER_EVENTS, timeout_s=90)
    # The webhooks and the stream are fed independently (worker and relay): wait for both.
    await wait_until(lambda: _partner_stream_holds(js, PARTNER_EVENTS), timeout_s=90)

    # The guardian was reached (the sentinels really went through notify) ...
    sms = (settings.sink_dir / "sms.jsonl").read_text(encoding="utf-8")
    assert "+212699887766" in sms
    assert smtp_server.mailbox.recipients[0] == "sentinel.qwv@leak.test"
    # ... and nothing personal went anywhere else.
    for call in receiver.to("/hooks"):
        assert leaks(call.body.decode() + repr(call.headers)) == []
    assert leaks(await stream_text(js, "PARTNER")) == []
    assert leaks(await stream_text(js, "NOTIFY")) == []
    # The test's own SMTP server (aiosmtpd, logger `mail.log`) logs recipients: it is the
    # guardian's mail server here, not part of notify.
    notify_logs = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("mail.")
    )
    assert notify_logs
    assert leaks(notify_logs) == []
    assert spans.get_finished_spans()
    assert leaks(span_text(spans)) == []
    assert leaks((await client.get("/metrics")).text) == []
    assert await _partner_stream_holds(js, PARTNER_EVENTS)


async def _partner_stream_holds(js: JetStreamContext, expected: int) -> bool:
    return bool((await js.stream_info("PARTNER")).state.messages == expected)


async def _sent(client: httpx.AsyncClient, expected: int) -> bool:
    summary = (await client.get("/deliveries/summary")).json()
    # SMS and e-mail of each message.
    return bool(summary["sent"] == 2 * expected)
