"""Prometheus metrics every service exposes on /metrics. Labels never carry personal data.

A label value is a service, consumer, route template, method, status, or one of a few fixed
words (channels, outcomes): never a path as requested, an id, a name or a phone number. The
functions below refuse any other word, so a careless call cannot turn a label into a leak.

Kernel metrics are recorded by the kernel itself (HTTP by its request middleware, events by the
consumer and the relay, outbox and dead-letter gauges at each scrape). Two belong to services
and are one call each where the effect commits: :func:`record_delivery`, :func:`record_sms` and
:func:`record_sms_receipt` (notify) and :func:`record_certificate` (certification).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import Scope

from fursa.shared.contracts.notify import Channel

EVENTS_HANDLED = Counter(
    "fursa_events_handled",
    "Messages handled by a consumer, by outcome (applied, duplicates, stale, retried, …)",
    ["consumer", "outcome"],
)
EVENTS_PUBLISHED = Counter("fursa_events_published", "Outbox rows published", ["service"])
OUTBOX_UNSENT = Gauge("fursa_outbox_unsent", "Outbox rows not yet published", ["service"])
OUTBOX_OLDEST_UNSENT_AGE = Gauge(
    "fursa_outbox_oldest_unsent_age_seconds",
    "Age of the oldest outbox row not yet published (0 when all are): the relay's lag",
    ["service"],
)
DEAD_LETTERS_WAITING = Gauge(
    "fursa_dead_letters_waiting", "Dead letters waiting for a replay", ["service"]
)
HTTP_REQUESTS = Counter(
    "fursa_http_requests",
    "HTTP requests answered, by route template and status",
    ["service", "method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "fursa_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DELIVERIES = Counter(
    "fursa_deliveries",
    "Notifications and webhook calls attempted by notify, by channel and outcome",
    ["channel", "outcome"],
)
SMS_MESSAGES = Counter(
    "fursa_sms_messages",
    "SMS messages an SMS gateway or SMSC accepted from notify, by encoding (gsm7, ucs2)",
    ["encoding"],
)
SMS_SEGMENTS = Counter(
    "fursa_sms_segments",
    "SMS segments accepted (each is billed), by encoding; per association: GET /sms-usage",
    ["encoding"],
)
SMS_RECEIPTS = Counter(
    "fursa_sms_receipts",
    "SMSC delivery receipts notify applied, by what they did to the delivery",
    ["outcome"],
)
CERTIFICATES = Counter(
    "fursa_certificates",
    "Certificates issued (a re-issue counts as reissued) and revoked",
    ["action"],
)

_CHANNELS = frozenset(channel.value for channel in Channel)
_DELIVERY_OUTCOMES = frozenset({"sent", "failed", "retried", "cancelled"})
_SMS_ENCODINGS = frozenset({"gsm7", "ucs2"})
_RECEIPT_OUTCOMES = frozenset(
    {"delivered", "partly_delivered", "undeliverable", "retried", "unknown", "stale"}
)
_CERTIFICATE_ACTIONS = frozenset({"issued", "reissued", "revoked"})
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"


def _known(value: str, allowed: frozenset[str], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} {value!r} is not a metric label; expected {sorted(allowed)}")
    return value


def record_delivery(channel: str, outcome: str) -> None:
    """notify: one attempt to deliver a notification or a webhook call, and how it ended:
    ``sent``, ``failed`` (no attempt left), ``retried`` (another attempt is scheduled) or
    ``cancelled`` (consent withdrawn, address removed, endpoint disabled on 410)."""
    DELIVERIES.labels(
        _known(channel, _CHANNELS, "channel"),
        _known(outcome, _DELIVERY_OUTCOMES, "outcome"),
    ).inc()


def record_sms(encoding: str, segments: int) -> None:
    """notify: one SMS accepted for sending, and the segments it cost."""
    label = _known(encoding, _SMS_ENCODINGS, "encoding")
    SMS_MESSAGES.labels(label).inc()
    SMS_SEGMENTS.labels(label).inc(segments)


def record_sms_receipt(outcome: str) -> None:
    """notify: one SMSC delivery receipt and what it did (``delivered``, ``undeliverable``,
    ``retried``, ``unknown`` id…)."""
    SMS_RECEIPTS.labels(_known(outcome, _RECEIPT_OUTCOMES, "outcome")).inc()


def record_certificate(action: str = "issued") -> None:
    """certification: a certificate issued, re-issued (replacing another) or revoked."""
    CERTIFICATES.labels(_known(action, _CERTIFICATE_ACTIONS, "action")).inc()


def record_http_request(service: str, method: str, route: str, status: int, seconds: float) -> None:
    """One HTTP request answered (by the kernel's request middleware): its route *template*
    (:func:`route_template`), never the path as requested."""
    method = method if method in _METHODS else "OTHER"
    HTTP_REQUESTS.labels(service, method, route, str(status)).inc()
    HTTP_DURATION.labels(service, method, route).observe(seconds)


def route_template(scope: Scope) -> str:
    """The template of the route that answered (``/learners/{learner_id}``), read from the scope
    once the router has matched; ``unmatched`` when no route did."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE
