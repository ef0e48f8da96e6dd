"""The enrollment service's tables: associations, centers, learners (PII) and enrollments.

They live on the service's own metadata, next to the kernel's outbox/inbox tables, so that no
other service's tables ever meet them in a process or a migration.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from fursa.enrollment.domain import FIRST_VERSION, EnrollmentStatus
from fursa.shared.contracts import Language, Pathway, Sex
from fursa.shared.db import service_base
from fursa.shared.messaging.tables import kernel_tables

if TYPE_CHECKING:
    # mypy cannot derive from a class made at run time; to it the base is plain SQLModel.
    EnrollmentModel = SQLModel
else:
    EnrollmentModel = service_base("enrollment")


def enum_field(enum: type[StrEnum], **kwargs: Any) -> Any:
    """A column holding an enum's values as text (no database enum type to migrate)."""
    column_type = SAEnum(
        enum,
        native_enum=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
    )
    return Field(sa_type=column_type, **kwargs)


class Association(EnrollmentModel, table=True):
    """A civil-society association that runs centers and enrolls learners."""

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=200)


class Center(EnrollmentModel, table=True):
    """A second-chance school center, located by its official territorial codes."""

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    commune: str = Field(max_length=100)
    province_code: str = Field(max_length=16)
    region_code: str = Field(max_length=16)
    association_id: str = Field(foreign_key="association.id", max_length=36, index=True)


class Learner(EnrollmentModel, table=True):
    """A learner's personal data, with the guardian to contact and what they consented to."""

    id: str = Field(primary_key=True, max_length=36)
    first_name_ar: str = Field(max_length=100)
    last_name_ar: str = Field(max_length=100)
    first_name_latin: str = Field(max_length=100)
    last_name_latin: str = Field(max_length=100)
    birth_date: date
    sex: Sex = enum_field(Sex)
    # Migrants and children who never went to school have no Massar code.
    massar_code: str | None = Field(default=None, max_length=16, index=True)
    guardian_name: str = Field(max_length=200)
    guardian_phone: str = Field(max_length=16)
    guardian_email: str | None = Field(default=None, max_length=254)
    guardian_language: Language = enum_field(Language)
    consent_data_use: bool
    consent_notifications: bool
    version: int = FIRST_VERSION


class Enrollment(EnrollmentModel, table=True):
    """A learner's enrollment in a center for a school year, on one pathway.

    ``version`` orders the enrollment's events (their ``sequence``).
    """

    id: str = Field(primary_key=True, max_length=36)
    learner_id: str = Field(foreign_key="learner.id", max_length=36, index=True)
    center_id: str = Field(foreign_key="center.id", max_length=36, index=True)
    association_id: str = Field(foreign_key="association.id", max_length=36, index=True)
    pathway: Pathway = enum_field(Pathway)
    school_year: str = Field(max_length=9)
    status: EnrollmentStatus = enum_field(EnrollmentStatus, index=True)
    enrolled_on: date
    completed_on: date | None = None
    version: int = FIRST_VERSION


KERNEL = kernel_tables(EnrollmentModel.metadata)
