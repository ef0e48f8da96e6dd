"""JSON log lines carry the trace they belong to."""

from __future__ import annotations

import json
import logging

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from fursa.shared.observability import JsonFormatter


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
