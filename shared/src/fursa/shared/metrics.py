"""Prometheus metrics every service exposes on /metrics. Labels never carry personal data."""

from prometheus_client import Counter, Gauge

EVENTS_HANDLED = Counter(
    "fursa_events_handled",
    "Messages handled by a consumer, by outcome (applied, duplicates, stale, retried, …)",
    ["consumer", "outcome"],
)
EVENTS_PUBLISHED = Counter("fursa_events_published", "Outbox rows published", ["service"])
OUTBOX_UNSENT = Gauge("fursa_outbox_unsent", "Outbox rows not yet published", ["service"])
DEAD_LETTERS_WAITING = Gauge(
    "fursa_dead_letters_waiting", "Dead letters waiting for a replay", ["service"]
)
