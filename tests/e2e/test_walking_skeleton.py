"""The walking skeleton across four real service processes, a real nats-server and real HTTP."""

from __future__ import annotations

import json

import httpx
import pytest

from fursa.cli.demo import run_demo
from fursa.cli.platform import SERVICES, Platform
from fursa.shared.contracts import all_types, get
from fursa.shared.testing.kernel import wait_until


@pytest.mark.slow
async def test_enrolled_learner_reaches_certificate_and_guardian_notification(
    platform: Platform,
) -> None:
    urls = {name: platform.url(name) for name in SERVICES}
    result = await run_demo(urls, learners=10, timeout_s=60)
    assert result.enrolled == 10
    assert result.completed == 10
    assert result.certificates == 10
    # Guardians 4 and 9 declined notifications: eight messages, none to them.
    assert result.expected_notifications == 8
    assert result.notifications == 8
    # The association hears of every certificate, whatever the guardian's consent.
    assert result.association_notices == 10
    # Each consenting guardian hears of the enrollment, the completion and the certificate.
    sink = [
        json.loads(line)
        for line in (platform.var_dir / "notify-sink" / "sms.jsonl").read_text().splitlines()
    ]
    assert len({line["phone"] for line in sink}) == 8
    assert len(sink) == 3 * 8


@pytest.mark.slow
async def test_each_service_serves_health_readiness_metrics_and_its_asyncapi(
    platform: Platform,
) -> None:
    await run_demo({name: platform.url(name) for name in SERVICES}, learners=2, timeout_s=60)
    async with httpx.AsyncClient(timeout=10) as http:
        for name in SERVICES:
            url = platform.url(name)
            assert (await http.get(f"{url}/healthz")).json() == {"status": "alive"}
            ready = (await http.get(f"{url}/readyz")).json()
            assert ready == {"ready": True, "database": True, "nats": True, "relay": True}
            asyncapi = (await http.get(f"{url}/asyncapi")).json()
            assert asyncapi["asyncapi"] == "3.0.0"
            published = {channel["address"] for channel in asyncapi["channels"].values()}
            assert published == {t for t in all_types() if get(t).producer == name}
            metrics = (await http.get(f"{url}/metrics")).text
            assert "fursa_outbox_unsent" in metrics
        applied = 'fursa_events_handled_total{consumer="training-enrollment",outcome="applied"}'
        training_metrics = (await http.get(f"{platform.url('training')}/metrics")).text
        assert f"{applied} 2.0" in training_metrics
        certification_metrics = (await http.get(f"{platform.url('certification')}/metrics")).text
        assert 'fursa_certificates_total{action="issued"} 2.0' in certification_metrics
        sink = platform.var_dir / "notify-sink" / "sms.jsonl"
        sent = 'fursa_deliveries_total{channel="sms",outcome="sent"}'

        async def every_sms_counted() -> bool:
            # A message reaches the sink just before its delivery is recorded and counted.
            metrics = (await http.get(f"{platform.url('notify')}/metrics")).text
            return f"{sent} {float(len(sink.read_text().splitlines()))}" in metrics

        await wait_until(every_sms_counted)
