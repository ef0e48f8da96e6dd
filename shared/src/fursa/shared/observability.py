"""Traces, metrics and logs of every request, configured the same way in every service.

Spans are exported over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (the SDK reads
the standard OTEL_* variables). A trace is kept whole or not at all: where it starts (a request
without a ``traceparent``, an event without one) a ratio of traces is sampled — every one in
development and tests, a tenth in production unless set (``trace_sample_ratio``) — and every
later span follows its parent's decision, across processes through the W3C ``traceparent``.
Logs are one JSON object per line carrying the current ``trace_id``/``span_id``. Neither ever
carries personal data: span attributes hold routes, event types and ids, log lines hold what
the code writes — and the code logs ids, never names or phones.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fursa.shared import problems
from fursa.shared.metrics import record_http_request, route_template

# Operational routes are polled constantly; tracing them would drown the useful traces.
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# The W3C headers a request's trace context arrives in.
TRACE_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})


class JsonFormatter(logging.Formatter):
    """One JSON object per log line, with the trace it belongs to."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            entry["trace_id"] = format(context.trace_id, "032x")
            entry["span_id"] = format(context.span_id, "016x")
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


# The process entrypoint chooses its logging: services run under uvicorn with
# ``--log-config`` pointing here (``fursa up``, the images), so tests keep pytest's capture.
LOG_CONFIG = Path(__file__).with_name("logging.json")


def configure_tracing(service: str, sample_ratio: float = 1.0) -> None:
    """Install the SDK's tracer provider, exporting over OTLP when an endpoint is configured.

    ``sample_ratio`` of the traces that start in this service are recorded; a span with a
    parent (a request's ``traceparent``, an event's headers) is recorded if its parent was."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"fursa-{service}"}),
        sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
    )
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    ):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


def shutdown_tracing() -> None:
    """Flush spans still buffered (the lifespan's end, before the process exits)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.force_flush()


class RequestMiddleware:
    """The one ASGI layer every HTTP request passes: the body limit, the server span and the
    request metrics, together (three layers of their own cost a request more than all three).

    The span continues the caller's W3C trace context, is named by the route *template*
    (``GET /enrollments/{enrollment_id}``) once the router has matched, and is current while
    the route runs, so that the events it writes carry its trace. Operational paths
    (:data:`UNTRACED_PATHS`) are counted but not traced.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        max_body_bytes: int,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        """``tracer_provider``: the global one unless given (tests give their own)."""
        self.app = app
        self.service = service
        self.max_body_bytes = max_body_bytes
        self.tracer = trace.get_tracer("fursa.http", tracer_provider=tracer_provider)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method: str = scope["method"]
        carrier: dict[str, str] = {}
        may_have_body = False
        for name, value in scope["headers"]:
            if name in TRACE_HEADERS:
                carrier[name.decode()] = value.decode("latin-1")
            elif name == b"content-length":
                if value.isdigit() and int(value) > self.max_body_bytes:
                    await problems.refuse_body(scope, receive, send, self.max_body_bytes)
                    return
                may_have_body = value != b"0"
            elif name == b"transfer-encoding":
                may_have_body = True
        if may_have_body:
            receive = problems.limited_body(receive, self.max_body_bytes)
        status = 500  # an exception before the response started is what the client gets

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        if scope["path"] in UNTRACED_PATHS:
            try:
                await self.app(scope, receive, send_and_note)
            finally:
                route = route_template(scope)
                record_http_request(
                    self.service, method, route, status, time.perf_counter() - started
                )
            return
        parent = propagate.extract(carrier)
        span = self.tracer.start_span(method, context=parent, kind=SpanKind.SERVER)
        token = context.attach(trace.set_span_in_context(span, parent))
        try:
            await self.app(scope, receive, send_and_note)
        except BaseException as exc:
            span.record_exception(exc)
            raise
        finally:
            context.detach(token)
            route = route_template(scope)
            if span.is_recording():
                if scope.get("route") is not None:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.request.method", method)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(StatusCode.ERROR)
            span.end()
            record_http_request(self.service, method, route, status, time.perf_counter() - started)
