"""The registry of event types: which data model travels under which type (= NATS subject).

A data model is registered with the :func:`register` decorator::

    @register("fursa.enrollment.learner-enrolled.v1", producer="enrollment", stable=True)
    class LearnerEnrolled(EventData): ...

Importing :mod:`fursa.shared.contracts` imports every contract module, so the registry is
complete as soon as anything from the package is used.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

from fursa.shared.contracts.common import EVENT_TYPE_PATTERN, ContractModel

SERVICES = ("enrollment", "training", "certification", "notify")
"""The services that produce events; an event's `source` is `fursa/<service>`."""

CONTEXTS = (*SERVICES, "partner")
"""Contexts, one JetStream stream each; `partner` is the PII-free feed that notify fills."""

DATASCHEMA_PREFIX = "urn:fursa:schema:"
"""`dataschema` of an event = this prefix + its type; it names the committed JSON Schema
`contracts/schemas/<type>.json` (which describes the whole event, envelope and data)."""

_EVENT_TYPE = re.compile(EVENT_TYPE_PATTERN)


class EventData(ContractModel):
    """Base of every event's `data` model (tolerant: unknown fields are ignored)."""


DataModel = type[EventData]
"""A registered data model class (an alias: inside `Registration`, `type` is a field)."""


@dataclass(frozen=True)
class Registration:
    """What the registry knows about one event type."""

    type: str
    context: str
    event: str
    major: int
    producer: str
    model: DataModel
    stable: bool
    """True once the schema is frozen: from then on only compatible changes pass the tests."""

    @property
    def subject(self) -> str:
        """The NATS subject, which is the type itself."""
        return self.type

    @property
    def stream(self) -> str:
        """The JetStream stream that captures this type."""
        return stream_for(self.context)

    @property
    def source(self) -> str:
        """The CloudEvents `source` of this type's events."""
        return f"fursa/{self.producer}"

    @property
    def dataschema(self) -> str:
        """The CloudEvents `dataschema` URI of this type's events."""
        return dataschema_for(self.type)

    @property
    def schema_file(self) -> str:
        """File name of the committed JSON Schema of this type."""
        return f"{self.type}.json"


_by_type: dict[str, Registration] = {}
_type_by_model: dict[type[EventData], str] = {}

ModelT = TypeVar("ModelT", bound=type[EventData])


def register(event_type: str, *, producer: str, stable: bool) -> Callable[[ModelT], ModelT]:
    """Class decorator registering an :class:`EventData` model under `event_type`.

    Raises ``ValueError`` for a malformed type, an unknown context or producer, or a type or
    model registered twice.
    """
    if not _EVENT_TYPE.fullmatch(event_type):
        raise ValueError(
            f"event type {event_type!r} does not follow fursa.<context>.<event>.v<major>"
        )
    _, context, event, version = event_type.split(".")
    if context not in CONTEXTS:
        raise ValueError(f"event type {event_type!r}: unknown context {context!r}")
    if producer not in SERVICES:
        raise ValueError(f"event type {event_type!r}: unknown producer {producer!r}")

    def decorate(model: ModelT) -> ModelT:
        if not issubclass(model, EventData):
            raise TypeError(f"{model.__name__} must subclass EventData")
        if event_type in _by_type:
            raise ValueError(f"event type {event_type!r} is already registered")
        if model in _type_by_model:
            raise ValueError(f"{model.__name__} is already registered as {_type_by_model[model]}")
        _by_type[event_type] = Registration(
            type=event_type,
            context=context,
            event=event,
            major=int(version.removeprefix("v")),
            producer=producer,
            model=model,
            stable=stable,
        )
        _type_by_model[model] = event_type
        return model

    return decorate


def registry() -> Mapping[str, Registration]:
    """All registrations by type (a read-only view)."""
    return MappingProxyType(_by_type)


def get(event_type: str) -> Registration:
    """The registration of `event_type`; ``KeyError`` if it is not registered."""
    try:
        return _by_type[event_type]
    except KeyError:
        raise KeyError(f"unknown event type {event_type!r}") from None


def for_model(model: type[EventData]) -> Registration:
    """The registration of a data model; ``KeyError`` if it is not registered."""
    try:
        return _by_type[_type_by_model[model]]
    except KeyError:
        raise KeyError(f"{model.__name__} is not a registered event data model") from None


def all_types() -> list[str]:
    """Every registered type, sorted."""
    return sorted(_by_type)


def stream_for(context: str) -> str:
    """The JetStream stream name of a context: the context upper-cased (`ENROLLMENT`)."""
    return _known(context).upper()


def stream_subject(context: str) -> str:
    """The subject filter that a context's stream captures, e.g. `fursa.enrollment.>`."""
    return f"fursa.{_known(context)}.>"


def dataschema_for(event_type: str) -> str:
    """The `dataschema` URI (and JSON Schema `$id`) of an event type."""
    return f"{DATASCHEMA_PREFIX}{event_type}"


def _known(context: str) -> str:
    if context not in CONTEXTS:
        raise ValueError(f"unknown context {context!r}; expected one of {', '.join(CONTEXTS)}")
    return context
