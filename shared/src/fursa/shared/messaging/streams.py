"""The platform's JetStream topology — streams and durable consumers — and its provisioning.

Streams and consumers are created once, with admin rights, by :func:`provision` (part of
``fursa up`` and of deployment). Services only bind to what exists: they never declare or alter
a stream, so no service needs the rights to overwrite another's settings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    ExternalStream,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamSource,
)
from nats.js.errors import NotFoundError

DAY = 24 * 3600


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    max_age_s: int = 30 * DAY
    duplicate_window_s: int = 15 * 60
    replicas: int = 1

    def config(self) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            subjects=list(self.subjects),
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=float(self.max_age_s),
            duplicate_window=float(self.duplicate_window_s),
            num_replicas=self.replicas,
        )


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable pull consumer: which service reads which event types from which stream.

    ``max_deliver`` is enforced by the consumer itself (it dead-letters on that delivery); the
    server-side consumer redelivers without limit, so that a message whose dead-lettering
    failed (database down) comes back instead of sitting un-acked forever.
    """

    service: str
    stream: str
    subjects: tuple[str, ...]
    max_deliver: int = 8
    ack_wait_s: float = 30.0
    max_ack_pending: int = 1000

    @property
    def durable(self) -> str:
        return f"{self.service}-{self.stream.lower()}"

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait_s,
            max_deliver=-1,
            max_ack_pending=self.max_ack_pending,
            filter_subjects=list(self.subjects),
        )


def _stream(context: str) -> StreamSpec:
    return StreamSpec(name=context.upper(), subjects=(f"fursa.{context}.>",))


STREAMS: tuple[StreamSpec, ...] = (
    _stream("enrollment"),
    _stream("training"),
    _stream("certification"),
    _stream("notify"),
    StreamSpec(name="PARTNER", subjects=("fursa.partner.>",), max_age_s=365 * DAY),
)

LEARNER_ENROLLED = "fursa.enrollment.learner-enrolled.v1"
LEARNER_WAITLISTED = "fursa.enrollment.learner-waitlisted.v1"
LEARNER_UPDATED = "fursa.enrollment.learner-updated.v1"
LEARNER_TRANSFERRED = "fursa.enrollment.learner-transferred.v1"
LEARNER_WITHDRAWN = "fursa.enrollment.learner-withdrawn.v1"
LEARNER_ERASED = "fursa.enrollment.learner-erased.v1"
REFERRAL_STATUS_CHANGED = "fursa.enrollment.referral-status-changed.v1"
TRAINING_COMPLETED = "fursa.training.training-completed.v1"
LEARNER_AT_RISK = "fursa.training.learner-at-risk.v1"
LEARNER_OUTCOME_RECORDED = "fursa.training.learner-outcome-recorded.v1"
CERTIFICATE_ISSUED = "fursa.certification.certificate-issued.v1"
CERTIFICATE_REVOKED = "fursa.certification.certificate-revoked.v1"

# Who consumes what. notify hears every event a guardian, an association or a partner must
# hear of (it also republishes the partner-visible ones, without personal data, to PARTNER).
CONSUMERS: tuple[ConsumerSpec, ...] = (
    ConsumerSpec("enrollment", "TRAINING", (TRAINING_COMPLETED, LEARNER_OUTCOME_RECORDED)),
    ConsumerSpec(
        "training",
        "ENROLLMENT",
        (LEARNER_ENROLLED, LEARNER_UPDATED, LEARNER_TRANSFERRED, LEARNER_WITHDRAWN, LEARNER_ERASED),
    ),
    ConsumerSpec(
        "certification", "ENROLLMENT", (LEARNER_ENROLLED, LEARNER_UPDATED, LEARNER_ERASED)
    ),
    ConsumerSpec("certification", "TRAINING", (TRAINING_COMPLETED,)),
    ConsumerSpec(
        "notify",
        "ENROLLMENT",
        (
            LEARNER_ENROLLED,
            LEARNER_WAITLISTED,
            LEARNER_UPDATED,
            LEARNER_TRANSFERRED,
            LEARNER_WITHDRAWN,
            LEARNER_ERASED,
            REFERRAL_STATUS_CHANGED,
        ),
    ),
    ConsumerSpec(
        "notify", "TRAINING", (TRAINING_COMPLETED, LEARNER_AT_RISK, LEARNER_OUTCOME_RECORDED)
    ),
    ConsumerSpec("notify", "CERTIFICATION", (CERTIFICATE_ISSUED, CERTIFICATE_REVOKED)),
)


def consumers_of(service: str) -> tuple[ConsumerSpec, ...]:
    return tuple(spec for spec in CONSUMERS if spec.service == service)


ERASURE_LEDGER = "ERASURES"
"""Every learner-erased ever published (ids only), kept without an age limit: what a service
re-applies to a restored database (:mod:`fursa.shared.erasures`)."""
ERASURE_SOURCE = "ENROLLMENT"


def erasure_ledger(replicas: int = 1) -> StreamConfig:
    """Stream ``ERASURES``: JetStream copies learner-erased from ``ENROLLMENT`` into it itself
    (a source), so the ledger is written by the same outbox row as the event, by no service.

    No age limit (an erasure must outlive every backup) and direct gets, which the services'
    users may send to read it (and nothing else of it)."""
    return StreamConfig(
        name=ERASURE_LEDGER,
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=0.0,
        duplicate_window=float(15 * 60),
        num_replicas=replicas,
        allow_direct=True,
        sources=[StreamSource(name=ERASURE_SOURCE, filter_subject=LEARNER_ERASED)],
    )


PARTNER_STREAM = "PARTNER"
PARTNER_FEED_API = "$JS.FURSA.API"
"""Where account PARTNER sees account FURSA's consumer API for stream PARTNER (an import)."""
PARTNER_FEED_DELIVER = "_FEED_PARTNER"
"""The subject prefix on which FURSA's PARTNER stream delivers to its mirror in PARTNER."""


def partner_feed_mirror(replicas: int = 1) -> StreamConfig:
    """Stream ``PARTNER`` of account PARTNER: a mirror of FURSA's ``PARTNER`` stream.

    Partners read the mirror in their own account, so nothing they can ask of JetStream (a
    consumer of any kind, with any deliver subject) ever reaches account FURSA. The mirror keeps
    the source's timestamps: a partner replays from a point in time with ``by_start_time``.
    """
    source = next(spec for spec in STREAMS if spec.name == PARTNER_STREAM)
    return StreamConfig(
        name=PARTNER_STREAM,
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_age=float(source.max_age_s),
        num_replicas=replicas,
        mirror=StreamSource(
            name=PARTNER_STREAM,
            external=ExternalStream(api=PARTNER_FEED_API, deliver=PARTNER_FEED_DELIVER),
        ),
    )


async def provision_partner_feed(js: JetStreamContext, replicas: int = 1) -> None:
    """Create or update the partner feed's mirror (``js``: the PARTNER account's admin)."""
    config = partner_feed_mirror(replicas)
    try:
        await js.stream_info(config.name or PARTNER_STREAM)
    except NotFoundError:
        await js.add_stream(config)
    else:
        await js.update_stream(config)


@dataclass
class Topology:
    """What :func:`provision` creates; tests build smaller ones. A topology with stream
    ``ENROLLMENT`` also gets the erasure ledger that copies from it."""

    streams: Iterable[StreamSpec] = STREAMS
    consumers: Iterable[ConsumerSpec] = CONSUMERS
    replicas: int | None = field(default=None)


async def provision(js: JetStreamContext, topology: Topology | None = None) -> None:
    """Create or update every stream and durable consumer of ``topology`` (idempotent)."""
    topology = topology or Topology()
    streams = list(topology.streams)
    configs = [spec.config() for spec in streams]
    for config in configs:
        if topology.replicas is not None:
            config.num_replicas = topology.replicas
    # Asked all at once: the server answers each after its own disk flush, and those overlap.
    await asyncio.gather(*(_create_or_update(js, config) for config in configs))
    if any(spec.name == ERASURE_SOURCE for spec in streams):
        await _create_or_update(js, erasure_ledger(topology.replicas or 1))
    await asyncio.gather(
        *(js.add_consumer(consumer.stream, consumer.config()) for consumer in topology.consumers)
    )


async def _create_or_update(js: JetStreamContext, config: StreamConfig) -> None:
    try:
        await js.stream_info(str(config.name))
    except NotFoundError:
        await js.add_stream(config)
    else:
        await js.update_stream(config)
