"""Building blocks shared by every event contract: the base model, field types and enums."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

# Identifiers are canonical (lower-case, hyphenated) UUID strings: services compare and store
# them as text, so one spelling per id keeps joins and unique constraints honest.
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
UUID7_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"

# `fursa.<context>.<event>.v<major>`: kebab-case tokens, so the type is also a valid NATS
# subject (no `.`, `*`, `>` or whitespace inside a token).
_SEGMENT = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*"
EVENT_TYPE_PATTERN = rf"^fursa\.{_SEGMENT}\.{_SEGMENT}\.v[1-9][0-9]*$"

Uuid = Annotated[str, Field(pattern=UUID_PATTERN, description="Canonical lower-case UUID.")]
EventTypeName = Annotated[
    str,
    Field(
        pattern=EVENT_TYPE_PATTERN,
        description="An event type, `fursa.<context>.<event>.v<major>`.",
    ),
]


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDateTime = Annotated[
    AwareDatetime,
    AfterValidator(_as_utc),
    Field(description="An instant; any offset is accepted and normalised to UTC."),
]


def _consecutive_years(value: str) -> str:
    start, end = (int(year) for year in value.split("/"))
    if end != start + 1:
        raise ValueError("a school year spans two consecutive years, e.g. 2024/2025")
    return value


SchoolYear = Annotated[
    str,
    Field(pattern=r"^[0-9]{4}/[0-9]{4}$", description="School year, e.g. `2024/2025`."),
    AfterValidator(_consecutive_years),
]


class ContractModel(BaseModel):
    """Base of every model that travels inside an event.

    Consumers read tolerantly: unknown fields are ignored so that a producer may add optional
    fields within a major version without breaking anyone.
    """

    # NaN/inf have no JSON spelling and would slip past range checks.
    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)


class Pathway(StrEnum):
    """The learner's route through the programme."""

    SCHOOL_REINTEGRATION = "school_reintegration"
    VOCATIONAL_TRAINING = "vocational_training"
    SOCIO_PROFESSIONAL_INSERTION = "socio_professional_insertion"
