"""JSON log lines carry the trace they belong to; a request is one server span in its caller's
trace, sampled by the trace's first service."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from fursa.shared.observability import JsonFormatter, RequestMiddleware
from fursa.shared.settings import PRODUCTION_TRACE_SAMPLE_RATIO, ServiceSettings
from fursa.shared.telemetry import current_trace_headers


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("fursa.test", logging.INFO, __file__, 1, message, None, None)


def test_log_line_is_json_with_the_current_trace_id() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("enroll") as span:
        line = json.loads(JsonFormatter().format(record("enrolled %s")))
        context = span.get_span_context()
    assert line["message"] == "enrolled %s"
    assert line["level"] == "INFO"
    assert line["trace_id"] == format(context.trace_id, "032x")
    assert line["span_id"] == format(context.span_id, "016x")


def test_log_line_outside_a_trace_has_no_trace_id() -> None:
    assert trace.get_current_span().get_span_context().is_valid is False
    assert "trace_id" not in json.loads(JsonFormatter().format(record("idle")))


def traced_app(provider: TracerProvider) -> FastAPI:
    app = FastAPI()

    @app.post("/learners/{learner_id}/consent")
    async def consent(learner_id: str) -> dict[str, str]:
        # What the route writes (its events' headers) carries the request's trace.
        return current_trace_headers()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    app.add_middleware(
        RequestMiddleware, service="trace-test", max_body_bytes=1000, tracer_provider=provider
    )
    return app


def recording(ratio: float = 1.0) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(TraceIdRatioBased(ratio)))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


async def call(app: FastAPI, method: str, path: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path, headers=headers)


async def test_a_request_is_one_server_span_named_by_its_route_in_the_callers_trace() -> None:
    provider, exporter = recording()
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    answer = await call(
        traced_app(provider),
        "POST",
        "/learners/Fatima-Zahra/consent",
        traceparent=f"00-{trace_id}-b7ad6b7169203331-01",
    )
    (span,) = exporter.get_finished_spans()
    assert span.name == "POST /learners/{learner_id}/consent"
    assert span.kind is SpanKind.SERVER
    assert format(span.context.trace_id, "032x") == trace_id
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == "b7ad6b7169203331"
    assert span.attributes == {
        "http.route": "/learners/{learner_id}/consent",
        "http.request.method": "POST",
        "http.response.status_code": 200,
    }
    assert answer.json()["traceparent"].split("-")[1:3] == [
        trace_id,
        format(span.context.span_id, "016x"),
    ]
    assert "Fatima" not in json.dumps(dict(span.attributes or {}))


async def test_operational_paths_are_not_traced() -> None:
    provider, exporter = recording()
    assert (await call(traced_app(provider), "GET", "/healthz")).status_code == 200
    assert exporter.get_finished_spans() == ()


async def test_a_trace_the_caller_did_not_sample_is_not_recorded_here_either() -> None:
    """Parent-based: the caller's decision (flags 00) holds even at a ratio of 1."""
    provider, exporter = recording(1.0)
    answer = await call(
        traced_app(provider),
        "POST",
        "/learners/x/consent",
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
    )
    assert exporter.get_finished_spans() == ()
    # The decision travels on with the trace: events the route writes carry it.
    assert answer.json()["traceparent"].endswith("-00")


async def test_new_traces_are_sampled_at_the_configured_ratio() -> None:
    provider, exporter = recording(0.0)
    app = traced_app(provider)
    for _ in range(20):
        assert (await call(app, "POST", "/learners/x/consent")).status_code == 200
    assert exporter.get_finished_spans() == ()
    provider, exporter = recording(1.0)
    await call(traced_app(provider), "POST", "/learners/x/consent")
    assert len(exporter.get_finished_spans()) == 1


def test_every_trace_is_kept_in_development_and_a_tenth_in_production_unless_set() -> None:
    assert ServiceSettings().traces_sampled() == 1.0
    production = ServiceSettings.model_construct(mode="production")
    assert production.traces_sampled() == PRODUCTION_TRACE_SAMPLE_RATIO == 0.1
    assert ServiceSettings(trace_sample_ratio=0.25).traces_sampled() == 0.25
    with pytest.raises(ValidationError):
        ServiceSettings(trace_sample_ratio=1.5)
