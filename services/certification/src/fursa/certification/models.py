"""The certification service's tables, on its own metadata next to the kernel's tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, Index, LargeBinary, Text, text
from sqlmodel import Field, SQLModel

from fursa.certification.domain import CertificateStatus
from fursa.shared.audit import AuditEntryFields, AuditTrail
from fursa.shared.db import UtcDateTime, service_base
from fursa.shared.messaging.tables import kernel_tables

if TYPE_CHECKING:
    # What mypy can check as a base class; at run time, a base with the service's own registry.
    Base = SQLModel
else:
    Base = service_base("certification")

KERNEL = kernel_tables(Base.metadata)


class LearnerCopy(Base, table=True):
    """What a diploma shows of a learner, and where the learner is enrolled (association,
    center, territory), copied from learner-enrolled and learner-updated (event-carried state).

    The names are personal data: learner-erased empties them (and keeps a tombstone).
    """

    __tablename__ = "learner_copy"

    enrollment_id: str = Field(primary_key=True, max_length=36)
    learner_id: str = Field(index=True, max_length=36)
    first_name_ar: str | None = Field(default=None, max_length=100)
    last_name_ar: str | None = Field(default=None, max_length=100)
    first_name_latin: str | None = Field(default=None, max_length=100)
    last_name_latin: str | None = Field(default=None, max_length=100)
    association_id: str = Field(max_length=36)
    center_id: str = Field(max_length=36)
    center_name: str | None = Field(default=None, max_length=200)
    center_name_ar: str | None = Field(default=None, max_length=200)
    # What the diploma says of the holder besides the names (its words agree with the sex);
    # personal data too, emptied with the names. Copies made before they were carried lack them.
    sex: str | None = Field(default=None, max_length=10)
    birth_date: date | None = None
    birth_place_ar: str | None = Field(default=None, max_length=100)
    birth_place_fr: str | None = Field(default=None, max_length=100)
    region_code: str = Field(max_length=16)
    province_code: str = Field(max_length=16)
    pathway: str = Field(max_length=40)
    school_year: str = Field(default="", max_length=9)
    enrolled_on: date | None = None


class ErasedLearner(Base, table=True):
    """A learner whose personal data was erased: a late or replayed event cannot bring it back."""

    __tablename__ = "erased_learner"

    learner_id: str = Field(primary_key=True, max_length=36)
    erased_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class Completion(Base, table=True):
    """A passed training, recorded once per enrollment: the diploma's workshops and dates, and
    whether its certificate was issued or awaits an officer's approval.

    An officer may hold a pending one, with a reason: it stays in the queue, and is approved
    neither with its cohort nor alone until released. The reason is free text (it may name the
    learner): an erasure empties it, the hold stays.
    """

    __tablename__ = "completion"

    enrollment_id: str = Field(primary_key=True, max_length=36)
    training_id: str = Field(max_length=36)
    pathway: str = Field(max_length=40)
    workshops: str = Field(sa_column=Column(Text, nullable=False))
    completed_on: date
    state: str = Field(index=True, max_length=20)
    approved_by: str | None = Field(default=None, max_length=200)
    held_on: date | None = None
    held_by: str | None = Field(default=None, max_length=200)
    hold_reason: str | None = Field(default=None, max_length=500)


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
    # The QR code's token: the only way to the holder's name on the verification page.
    verification_token: str = Field(unique=True, max_length=64)
    signatory_name_ar: str = Field(max_length=200)
    signatory_name_fr: str = Field(max_length=200)
    signatory_title_ar: str = Field(max_length=200)
    signatory_title_fr: str = Field(max_length=200)
    # The signed Open Badges credential (a compact JWS) and the key that signed it. It holds
    # no personal data, so it outlives an erasure unchanged.
    credential: str = Field(sa_column=Column(Text, nullable=False))
    signing_key_id: str = Field(max_length=100)
    revoked_on: date | None = None
    revocation_reason: str | None = Field(default=None, max_length=40)
    # Its bit in the published revocation status lists (`status_list`); none for certificates
    # issued before the lists existed.
    status_index: int | None = Field(default=None, unique=True)

    def placement(self) -> dict[str, str | None]:
        """Where the certificate was issued, as :meth:`Principal.sees` takes it."""
        return {
            "association_id": self.association_id,
            "center_id": self.center_id,
            "region_code": self.region_code,
            "province_code": self.province_code,
        }


class DiplomaPdf(Base, table=True):
    """A rendered diploma, cached: rendered on demand, never on the issuance path; dropped when
    what it prints changes (a correction, a revocation) or the learner is erased."""

    __tablename__ = "diploma_pdf"

    certificate_id: str = Field(primary_key=True, foreign_key="certificate.id", max_length=36)
    pdf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    rendered_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class Signatory(Base, table=True):
    """Who signs a region's diplomas (Entraide Nationale's regional coordinator), by name and
    title in both languages. Each certificate keeps the signatory of its day."""

    __tablename__ = "signatory"

    region_code: str = Field(primary_key=True, max_length=16)
    name_ar: str = Field(max_length=200)
    name_fr: str = Field(max_length=200)
    title_ar: str = Field(max_length=200)
    title_fr: str = Field(max_length=200)
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    updated_by: str = Field(max_length=200)


class NumberCounter(Base, table=True):
    """The last serial given per region and year: gap-free numbering (see `service`)."""

    __tablename__ = "number_counter"

    region_code: str = Field(primary_key=True, max_length=16)
    year: int = Field(primary_key=True)
    last: int = 0


class StatusIndexCounter(Base, table=True):
    """The last status-list index given: one row per status purpose, incremented in the
    certificate's own transaction (like `NumberCounter`), so an index is never given twice."""

    __tablename__ = "status_index_counter"

    purpose: str = Field(primary_key=True, max_length=20)
    last: int = 0


class StatusList(Base, table=True):
    """A published status list: created with its first index, touched by every revocation in
    it, so that its signed credential and ETag change exactly when its bits do."""

    __tablename__ = "status_list"

    purpose: str = Field(primary_key=True, max_length=20)
    number: int = Field(primary_key=True)
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class AuditEntry(AuditEntryFields, Base, table=True):
    """Who approved, revoked, re-issued, named a signatory or erased, when and why (the
    kernel's audit trail, read by officers within their region)."""


AUDIT = AuditTrail(AuditEntry, service="certification")
