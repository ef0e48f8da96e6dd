"""Trace propagation helpers shared by the outbox, the relay and the consumers.

Only W3C trace context crosses process boundaries; span attributes never carry personal data
(event types and ids only).
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import propagate, trace
from opentelemetry.context import Context

tracer = trace.get_tracer("fursa")


def current_trace_headers() -> dict[str, str]:
    """The W3C ``traceparent``/``tracestate`` of the current span (empty outside a trace)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_from_headers(headers: Mapping[str, str] | None) -> Context:
    """The trace context carried by message headers (a new root when there is none)."""
    return propagate.extract(dict(headers or {}))
