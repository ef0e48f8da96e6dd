"""The CloudEvents 1.0 envelope (structured JSON mode) and its construction and parsing.

Every registered type gets a concrete envelope class, ``CloudEvent[<its data model>]`` with
``type`` pinned to that type; :func:`new_event` and :func:`parse_event` always produce instances
of it, and the committed JSON Schemas describe it.
"""

import functools
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar, cast

import uuid6
from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, ValidationError, create_model
from pydantic_core import ErrorDetails

from fursa.shared.contracts import registry
from fursa.shared.contracts.common import EVENT_TYPE_PATTERN, UUID7_PATTERN, UtcDateTime
from fursa.shared.contracts.registry import EventData

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

DataT = TypeVar("DataT", bound=EventData)

# A correlation id may come from outside (an HTTP request id), so it is any short token.
_TraceId = Annotated[str, Field(min_length=1, max_length=128)]


class CloudEvent(BaseModel, Generic[DataT]):
    """A Fursa event: the CloudEvents 1.0 attributes, the Fursa extensions, and `data`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    specversion: Literal["1.0"]
    id: Annotated[str, Field(pattern=UUID7_PATTERN, description="UUIDv7, unique per event.")]
    source: Annotated[
        str,
        Field(pattern=r"^fursa/[a-z][a-z0-9-]*$", description="`fursa/<producing service>`."),
    ]
    type: Annotated[
        str,
        Field(
            pattern=EVENT_TYPE_PATTERN,
            description="`fursa.<context>.<event>.v<major>`; also the NATS subject.",
        ),
    ]
    time: UtcDateTime
    subject: Annotated[str, Field(min_length=1, max_length=128, description="Id of the aggregate.")]
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: Annotated[
        str,
        Field(
            min_length=1,
            description=f"`{registry.DATASCHEMA_PREFIX}<type>`: names this JSON Schema.",
        ),
    ]
    correlationid: Annotated[
        _TraceId, Field(description="Id of the interaction that started the chain of events.")
    ]
    causationid: Annotated[
        _TraceId | None, Field(description="Id of the event or request that caused this one.")
    ] = None
    sequence: Annotated[
        int,
        Field(ge=1, description="Position in the aggregate's history; increases per subject."),
    ]
    # SerializeAsAny: an envelope built without a type argument still dumps the full data
    # model rather than the fields of the `EventData` bound (none).
    data: SerializeAsAny[DataT]


InvalidReason = Literal["not_json", "invalid_envelope", "unknown_type", "invalid_data"]
"""Which check a message failed, in the order they run."""


class InvalidEvent(ValueError):  # noqa: N818 - the name the services catch
    """A message that is not a valid Fursa event.

    ``reason`` says which check failed; ``field`` is the dotted path of the first field at
    fault (``None`` when the message is not JSON at all). The message names fields and
    problems but never echoes input values, which may be personal data.
    """

    def __init__(self, reason: InvalidReason, field: str | None, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.field = field


class _TypeOnly(BaseModel):
    """Reads just the `type` of a message to pick the model that validates the rest."""

    type: str


@functools.cache
def _concrete(event_type: str, model: type[EventData]) -> type[CloudEvent[Any]]:
    # Built once per (type, model) and cached: pydantic compiles a validator and serializer
    # per class, and parsing is on every consumer's hot path. The type arguments are computed
    # at run time, which pydantic handles and a static checker cannot follow (hence `Any`).
    base: Any = CloudEvent[model]  # type: ignore[valid-type]
    pinned_type: Any = Literal[event_type]
    envelope = create_model(
        f"{model.__name__}Event",
        __base__=base,
        __module__=model.__module__,
        __doc__=f"A `{event_type}` event: the CloudEvents envelope with its data.",
        type=(pinned_type, Field(description="The event type; also the NATS subject.")),
    )
    return cast(type[CloudEvent[Any]], envelope)


def envelope_model(event_type: str) -> type[CloudEvent[Any]]:
    """The concrete envelope class of a registered type (``KeyError`` if unregistered)."""
    registration = registry.get(event_type)
    return _concrete(registration.type, registration.model)


def event_schema(event_type: str, model: type[EventData]) -> dict[str, Any]:
    """The JSON Schema (2020-12) of a whole event of `event_type` whose data is `model`.

    `model` need not be registered, so that candidate models can be checked too.
    """
    schema = _concrete(event_type, model).model_json_schema(mode="validation")
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": registry.dataschema_for(event_type), **schema}


def new_event(
    data: DataT,
    *,
    subject: str,
    sequence: int,
    source: str | None = None,
    correlationid: str | None = None,
    causationid: str | None = None,
) -> CloudEvent[DataT]:
    """Wrap `data` in a new envelope.

    `id` (a fresh UUIDv7), `time` (now, UTC), `type` and `dataschema` come from the data's
    registration. `source` defaults to `fursa/<producer>` of the type, and a different one is
    refused: only the owning service publishes a type. `correlationid` defaults to the new id
    (the event starts a new chain).
    """
    registration = registry.for_model(type(data))
    if source is not None and source != registration.source:
        raise ValueError(f"{registration.type} is published by {registration.source}, not {source}")
    event_id = str(uuid6.uuid7())
    envelope = _concrete(registration.type, registration.model)(
        specversion="1.0",
        id=event_id,
        source=registration.source,
        type=registration.type,
        time=datetime.now(UTC),
        subject=subject,
        datacontenttype="application/json",
        dataschema=registration.dataschema,
        correlationid=correlationid or event_id,
        causationid=causationid,
        sequence=sequence,
        data=data,
    )
    # A string: subscripting the generic model at run time costs pydantic a class lookup.
    return cast("CloudEvent[DataT]", envelope)


def to_json_bytes(event: CloudEvent[Any]) -> bytes:
    """The structured-mode JSON of an event, as published."""
    return event.__pydantic_serializer__.to_json(event)


def parse_event(raw: bytes | str) -> CloudEvent[Any]:
    """Validate a structured-mode JSON message: the envelope, then `data` against the model
    registered for its `type`. Unknown fields are ignored.

    Raises :class:`InvalidEvent` when the message is not JSON, its envelope is invalid, its
    type is not registered or its data is invalid.
    """
    try:
        event_type = _TypeOnly.model_validate_json(raw).type
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        if errors[0]["type"] == "json_invalid":
            raise InvalidEvent("not_json", None, f"not JSON: {errors[0]['msg']}") from None
        raise _invalid(errors, f"invalid envelope: {_describe(errors)}") from None
    try:
        registration = registry.get(event_type)
    except KeyError:
        raise InvalidEvent(
            "unknown_type", "type", f"unknown event type {event_type[:120]!r}"
        ) from None
    try:
        return _concrete(event_type, registration.model).model_validate_json(raw)
    except ValidationError as exc:
        # `from None`: the pydantic error carries the input values, which may be PII.
        errors = exc.errors(include_input=False, include_url=False)
        raise _invalid(errors, f"invalid {event_type} event: {_describe(errors)}") from None


def _invalid(errors: list[ErrorDetails], message: str) -> InvalidEvent:
    in_envelope = any(error["loc"][:1] != ("data",) for error in errors)
    reason: InvalidReason = "invalid_envelope" if in_envelope else "invalid_data"
    return InvalidEvent(reason, _location(errors[0]), message)


def _describe(errors: list[ErrorDetails], limit: int = 5) -> str:
    shown = "; ".join(f"{_location(error)}: {error['msg']}" for error in errors[:limit])
    hidden = len(errors) - limit
    return f"{shown} (and {hidden} more)" if hidden > 0 else shown


def _location(error: ErrorDetails) -> str:
    path = ""
    for part in error["loc"]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path.removeprefix(".") or "(message)"
