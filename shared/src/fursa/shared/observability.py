"""Traces and logs, configured the same way in every service.

Spans are exported over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (the SDK reads
the standard OTEL_* variables). Logs are one JSON object per line carrying the current
``trace_id``/``span_id``. Neither ever carries personal data: span attributes hold event types
and ids, log lines hold what the code writes — and the code logs ids, never names or phones.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

# Operational routes are polled constantly; tracing them would drown the useful traces.
UNTRACED_ROUTES = "healthz,readyz,metrics"


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


def configure_tracing(service: str) -> None:
    """Install the SDK's tracer provider, exporting over OTLP when an endpoint is configured."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"fursa-{service}"}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    ):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


def instrument(app: FastAPI) -> None:
    """Server spans for every request (continuing the caller's W3C trace context)."""
    FastAPIInstrumentor.instrument_app(app, excluded_urls=UNTRACED_ROUTES)


def shutdown_tracing() -> None:
    """Flush spans still buffered (the lifespan's end, before the process exits)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.force_flush()
