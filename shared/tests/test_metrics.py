"""Prometheus metrics: HTTP by route template, outbox lag, the services' counters, no PII."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY, generate_latest

from fursa.shared.clock import utcnow
from fursa.shared.contracts.notify import Channel
from fursa.shared.metrics import (
    CERTIFICATES,
    DELIVERIES,
    record_certificate,
    record_delivery,
)
from fursa.shared.observability import RequestMiddleware
from fursa.shared.runtime import ServiceRuntime
from fursa.shared.settings import ServiceSettings
from fursa.shared.testing.kernel import effect_metadata


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_http_requests_are_counted_by_route_template_never_by_path() -> None:
    app = FastAPI()

    @app.get("/learners/{learner_id}")
    async def learner(learner_id: str) -> dict[str, str]:
        return {"id": learner_id}

    app.add_middleware(RequestMiddleware, service="metrics-test", max_body_bytes=1000)
    labels = {"service": "metrics-test", "method": "GET", "route": "/learners/{learner_id}"}
    before = sample("fursa_http_requests_total", **labels, status="200")
    unmatched = {"service": "metrics-test", "method": "GET", "route": "unmatched"}
    before_404 = sample("fursa_http_requests_total", **unmatched, status="404")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http:
        assert (await http.get("/learners/Fatima-Zahra-El-Idrissi")).status_code == 200
        assert (await http.get("/guardians/0612345678")).status_code == 404
    assert sample("fursa_http_requests_total", **labels, status="200") == before + 1
    assert sample("fursa_http_requests_total", **unmatched, status="404") == before_404 + 1
    assert sample("fursa_http_request_duration_seconds_count", **labels) >= 1
    exposition = generate_latest().decode()
    assert "Fatima" not in exposition
    assert "0612345678" not in exposition


def test_service_counters_take_only_their_fixed_words() -> None:
    before = DELIVERIES.labels("sms", "sent")._value.get()
    record_delivery(Channel.SMS, "sent")  # notify's own enum is one of the fixed words
    assert DELIVERIES.labels("sms", "sent")._value.get() == before + 1
    issued = CERTIFICATES.labels("issued")._value.get()
    record_certificate()
    assert CERTIFICATES.labels("issued")._value.get() == issued + 1
    with pytest.raises(ValueError, match="channel"):
        record_delivery("+212612345678", "sent")
    with pytest.raises(ValueError, match="action"):
        record_certificate("Fatima")


async def test_outbox_lag_is_the_age_of_the_oldest_unsent_row(tmp_path: Path) -> None:
    metadata, tables, _effect = effect_metadata()
    settings = ServiceSettings(database_url=f"sqlite:///{tmp_path / 'lag.db'}")
    runtime = ServiceRuntime(
        name="lagtest", settings=settings, metadata=metadata, tables=tables, handlers={}
    )
    await runtime.db.create_all()
    try:
        await runtime.refresh_gauges()
        assert sample("fursa_outbox_oldest_unsent_age_seconds", service="lagtest") == 0
        row = {"type": "t", "subject": "s", "payload": b"{}"}
        async with runtime.db.transaction() as session:
            await session.execute(
                tables.outbox.insert(),
                [
                    {**row, "event_id": "old", "created_at": utcnow() - timedelta(minutes=5)},
                    {**row, "event_id": "new", "created_at": utcnow()},
                ],
            )
            # An executemany takes its columns from the first row: the sent one goes alone.
            long_ago = utcnow() - timedelta(hours=1)
            await session.execute(
                tables.outbox.insert().values(
                    **row, event_id="sent", created_at=long_ago, sent_at=utcnow()
                )
            )
        await runtime.refresh_gauges()
        assert sample("fursa_outbox_unsent", service="lagtest") == 2
        lag = sample("fursa_outbox_oldest_unsent_age_seconds", service="lagtest")
        assert 300 <= lag < 3600
    finally:
        await runtime.db.dispose()
