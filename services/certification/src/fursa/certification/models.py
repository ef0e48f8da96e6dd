"""The certification service's tables, on its own metadata next to the kernel's tables."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from fursa.certification.domain import CertificateStatus
from fursa.shared.db import service_base
from fursa.shared.messaging.tables import kernel_tables

if TYPE_CHECKING:
    # What mypy can check as a base class; at run time, a base with the service's own registry.
    Base = SQLModel
else:
    Base = service_base("certification")

KERNEL = kernel_tables(Base.metadata)


class LearnerCopy(Base, table=True):
    """What a diploma shows of a learner, and where the learner is enrolled (association,
    center, territory), copied from learner-enrolled (event-carried state)."""

    __tablename__ = "learner_copy"

    enrollment_id: str = Field(primary_key=True, max_length=36)
    learner_id: str = Field(index=True, max_length=36)
    first_name_ar: str = Field(max_length=100)
    last_name_ar: str = Field(max_length=100)
    first_name_latin: str = Field(max_length=100)
    last_name_latin: str = Field(max_length=100)
    association_id: str = Field(max_length=36)
    center_id: str = Field(max_length=36)
    region_code: str = Field(max_length=16)
    province_code: str = Field(max_length=16)
    pathway: str = Field(max_length=40)


class Certificate(Base, table=True):
    """An issued diploma or attestation; a re-issue names the certificate it `replaces`.

    It keeps where it was issued (association, center, region, province): what decides who
    may see it.
    """

    __tablename__ = "certificate"
    __table_args__ = (
        # One active certificate per enrollment: revoked ones stay as the lineage.
        Index(
            "uq_certificate_active_enrollment",
            "enrollment_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: str = Field(primary_key=True, max_length=36)
    number: str = Field(unique=True, max_length=32)
    enrollment_id: str = Field(index=True, max_length=36)
    learner_id: str = Field(index=True, max_length=36)
    kind: str = Field(max_length=20)
    pathway: str = Field(max_length=40)
    association_id: str = Field(index=True, max_length=36)
    center_id: str = Field(index=True, max_length=36)
    region_code: str = Field(index=True, max_length=16)
    province_code: str = Field(index=True, max_length=16)
    issued_on: date
    status: str = Field(default=CertificateStatus.ACTIVE.value, max_length=20)
    replaces: str | None = Field(default=None, foreign_key="certificate.id", max_length=36)

    def placement(self) -> dict[str, str | None]:
        """Where the certificate was issued, as :meth:`Principal.sees` takes it."""
        return {
            "association_id": self.association_id,
            "center_id": self.center_id,
            "region_code": self.region_code,
            "province_code": self.province_code,
        }


class NumberCounter(Base, table=True):
    """The last serial given per region and year: gap-free numbering (see `service`)."""

    __tablename__ = "number_counter"

    region_code: str = Field(primary_key=True, max_length=16)
    year: int = Field(primary_key=True)
    last: int = 0
