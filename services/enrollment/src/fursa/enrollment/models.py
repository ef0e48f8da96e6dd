"""The enrollment service's tables: reference data, learners (PII), enrollments and their
history, the keys that keep a learner to one active enrollment, imports and the audit log.

They live on the service's own metadata, next to the kernel's outbox/inbox tables, so that no
other service's tables ever meet them in a process or a migration.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Enum as SAEnum
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from fursa.enrollment.domain import FIRST_VERSION, EnrollmentStatus
from fursa.enrollment.eligibility import SchoolLevel
from fursa.enrollment.referrals import ConsentGiver
from fursa.shared.audit import AuditEntryFields
from fursa.shared.contracts import (
    ExitOutcome,
    Language,
    OutcomeStatus,
    Pathway,
    ReferralClosingReason,
    ReferralSharing,
    ReferralStatus,
    Sex,
    WithdrawalReason,
)
from fursa.shared.db import UtcDateTime, service_base
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


def instant_field(**kwargs: Any) -> Any:
    """A UTC instant, read back timezone-aware from SQLite as from PostgreSQL."""
    return Field(sa_type=UtcDateTime, **kwargs)


class Association(EnrollmentModel, table=True):
    """A civil-society association that runs centers and enrolls learners.

    ``name`` is its French (Latin-script) name, ``name_ar`` its Arabic one, as printed on
    the programme's bilingual documents.
    """

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    name_ar: str | None = Field(default=None, max_length=200)


class Center(EnrollmentModel, table=True):
    """A second-chance school center, located by its commune and official territorial codes.

    ``name`` is its French (Latin-script) name, ``name_ar`` its Arabic one (diplomas print
    each in its own column).
    """

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    name_ar: str | None = Field(default=None, max_length=200)
    commune: str = Field(max_length=100)
    province_code: str = Field(max_length=16)
    region_code: str = Field(max_length=16)
    association_id: str = Field(foreign_key="association.id", max_length=36, index=True)
    # Where it stands (WGS 84), when known: waiting learners are offered the nearest places.
    latitude: float | None = None
    longitude: float | None = None


class CenterCapacity(EnrollmentModel, table=True):
    """How many learners a center takes on a pathway in a school year.

    The row is also the lock that serialises who takes the center's places (enrollments,
    transfers in, promotions from the waiting list).
    """

    center_id: str = Field(foreign_key="center.id", primary_key=True, max_length=36)
    pathway: Pathway = enum_field(Pathway, primary_key=True)
    school_year: str = Field(primary_key=True, max_length=9)
    places: int = Field(ge=0)


class CenterWorkshop(EnrollmentModel, table=True):
    """A workshop a center offers (tailoring, cooking, electricity, computing…)."""

    center_id: str = Field(foreign_key="center.id", primary_key=True, max_length=36)
    workshop: str = Field(primary_key=True, max_length=64)


class SchoolYear(EnrollmentModel, table=True):
    """A school year of intake, with the age bounds of its eligibility rule."""

    code: str = Field(primary_key=True, max_length=9)
    starts_on: date
    ends_on: date
    min_age: int
    max_age: int


class PartnershipAgreement(EnrollmentModel, table=True):
    """An agreement between an association and a partner body, which may refer learners.

    Its own age bounds, when set, replace the school year's for the learners it refers.
    """

    id: str = Field(primary_key=True, max_length=36)
    association_id: str = Field(foreign_key="association.id", max_length=36, index=True)
    partner_name: str = Field(max_length=200)
    # The partner as onboarded in notify (`fursa partner add`), whose system follows the
    # referrals made through this agreement; unset, the partner is told nothing.
    partner_id: str | None = Field(default=None, max_length=36, index=True)
    purpose: str = Field(max_length=1000)
    starts_on: date
    ends_on: date | None = None
    min_age: int | None = None
    max_age: int | None = None


class Referral(EnrollmentModel, table=True):
    """A learner referred through an agreement; ``reference`` is the partner's file number.

    Its status follows the rules of ``referrals``; ``sharing`` is what the referring partner
    may be told, as consented (by ``consent_given_by``) when it was received or since.
    ``version`` orders its events (their ``sequence``).
    """

    id: str = Field(primary_key=True, max_length=36)
    agreement_id: str = Field(foreign_key="partnershipagreement.id", max_length=36, index=True)
    association_id: str = Field(foreign_key="association.id", max_length=36, index=True)
    reference: str = Field(max_length=64)
    received_on: date
    enrollment_id: str | None = Field(default=None, max_length=36)
    status: ReferralStatus = enum_field(ReferralStatus, default=ReferralStatus.REFERRED)
    closing_reason: ReferralClosingReason | None = enum_field(ReferralClosingReason, default=None)
    status_changed_on: date
    sharing: ReferralSharing = enum_field(ReferralSharing, default=ReferralSharing.NONE)
    consent_given_by: ConsentGiver | None = enum_field(ConsentGiver, default=None)
    consent_recorded_on: date | None = None
    consent_recorded_by: str | None = Field(default=None, max_length=200)
    version: int = FIRST_VERSION


class Learner(EnrollmentModel, table=True):
    """A learner's record: personal data, schooling, the guardian and the recorded consent.

    Personal data columns are emptied by an erasure (``erased_at`` is then the tombstone);
    sex, nationality and schooling stay, anonymous, for the programme's statistics.
    """

    id: str = Field(primary_key=True, max_length=36)
    association_id: str = Field(foreign_key="association.id", max_length=36, index=True)
    first_name_ar: str | None = Field(default=None, max_length=100)
    last_name_ar: str | None = Field(default=None, max_length=100)
    first_name_latin: str | None = Field(default=None, max_length=100)
    last_name_latin: str | None = Field(default=None, max_length=100)
    birth_date: date | None = None
    # Printed on the diploma when known, in each of its languages.
    birth_place_ar: str | None = Field(default=None, max_length=100)
    birth_place_fr: str | None = Field(default=None, max_length=100)
    sex: Sex = enum_field(Sex)
    nationality: str = Field(max_length=2)
    # Migrants and children who never went to school have no Massar code.
    massar_code: str | None = Field(default=None, max_length=20, index=True)
    last_school_level: SchoolLevel = enum_field(SchoolLevel)
    year_left_school: int | None = None
    special_needs: str | None = Field(default=None, max_length=500)
    guardian_name: str | None = Field(default=None, max_length=200)
    guardian_phone: str | None = Field(default=None, max_length=16)
    guardian_email: str | None = Field(default=None, max_length=254)
    # The language of messages: the guardian's, or the adult learner's own without a guardian.
    guardian_language: Language = enum_field(Language)
    # The learner's own contact: an adult (18+) is their own contact; optional for a minor.
    phone: str | None = Field(default=None, max_length=16)
    email: str | None = Field(default=None, max_length=254)
    preferred_language: Language | None = enum_field(Language, default=None)
    consent_data_use: bool
    consent_notifications: bool
    consent_partner_sharing: bool = False
    consent_recorded_on: date
    consent_recorded_by: str = Field(max_length=200)
    # The names normalised for a search by name (``names.search_key``): personal data too.
    search_key: str | None = Field(default=None, max_length=420)
    # Staff confirmed this record is the same person as an earlier one: its enrolments moved
    # there and this record is a tombstone (see ``duplicate_reviews``).
    merged_into: str | None = Field(default=None, max_length=36)
    version: int = FIRST_VERSION
    erased_at: datetime | None = instant_field(default=None)


class Enrollment(EnrollmentModel, table=True):
    """A learner's enrollment in a center for a school year, on one pathway.

    ``version`` orders the enrollment's events (their ``sequence``); ``queued_at`` orders the
    waiting list of the center's pathway.
    """

    __table_args__ = (
        Index("ix_enrollment_place", "center_id", "pathway", "school_year", "status"),
    )

    id: str = Field(primary_key=True, max_length=36)
    learner_id: str = Field(foreign_key="learner.id", max_length=36, index=True)
    center_id: str = Field(foreign_key="center.id", max_length=36, index=True)
    association_id: str = Field(foreign_key="association.id", max_length=36, index=True)
    pathway: Pathway = enum_field(Pathway)
    school_year: str = Field(max_length=9)
    status: EnrollmentStatus = enum_field(EnrollmentStatus, index=True)
    age_at_start: int
    referral_id: str | None = Field(default=None, max_length=36)
    queued_at: datetime = instant_field()
    waitlisted_on: date | None = None
    enrolled_on: date | None = None
    completed_on: date | None = None
    withdrawn_on: date | None = None
    withdrawal_reason: WithdrawalReason | None = enum_field(WithdrawalReason, default=None)
    # Where the learner went on leaving (withdrawn or completed), once recorded.
    exit_outcome: ExitOutcome | None = enum_field(ExitOutcome, default=None)
    version: int = FIRST_VERSION


class Transfer(EnrollmentModel, table=True):
    """One move of an enrollment from a center to another (the enrollment's history)."""

    id: str = Field(primary_key=True, max_length=36)
    enrollment_id: str = Field(foreign_key="enrollment.id", max_length=36, index=True)
    from_center_id: str = Field(foreign_key="center.id", max_length=36)
    to_center_id: str = Field(foreign_key="center.id", max_length=36)
    transferred_on: date
    recorded_by: str = Field(max_length=200)


class ActiveIdentity(EnrollmentModel, table=True):
    """A key under which a learner with an active enrollment is known (see ``names``).

    The primary key makes a second active enrollment of the same learner fail in the database,
    whatever the concurrency; the row goes when the enrollment ends.
    """

    key: str = Field(primary_key=True, max_length=80)
    enrollment_id: str = Field(foreign_key="enrollment.id", max_length=36, index=True)


class DuplicateDecision(StrEnum):
    SAME_PERSON = "same_person"
    DIFFERENT = "different"


class DuplicateReview(EnrollmentModel, table=True):
    """A pair of records the possible-duplicate check found: ``learner_id`` (the later) may
    be ``earlier_learner_id``. Open until staff decide; a pair is never found twice."""

    learner_id: str = Field(foreign_key="learner.id", primary_key=True, max_length=36)
    earlier_learner_id: str = Field(foreign_key="learner.id", primary_key=True, max_length=36)
    association_id: str = Field(foreign_key="association.id", max_length=36, index=True)
    score: float
    found_at: datetime = instant_field()
    decision: DuplicateDecision | None = enum_field(DuplicateDecision, default=None, index=True)
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = instant_field(default=None)


class ImportedRow(EnrollmentModel, table=True):
    """A row of a bulk import already carried out: importing it again changes nothing."""

    key: str = Field(primary_key=True, max_length=64)
    enrollment_id: str = Field(max_length=36)
    imported_at: datetime = instant_field()


class AuditEntry(AuditEntryFields, EnrollmentModel, table=True):
    """Who changed what, when and why, and where the record sits (the kernel's audit trail).
    An erasure empties the details of the learner's entries."""


class FollowUpSituation(EnrollmentModel, table=True):
    """Where a learner stood at a follow-up after the programme, as training's
    learner-outcome-recorded last told it (a correction replaces it): the reintegration and
    placement indicators count it. Only the situation: the school or institution it names
    stays in training."""

    __tablename__ = "follow_up_situation"

    enrollment_id: str = Field(foreign_key="enrollment.id", primary_key=True, max_length=36)
    months_after: int = Field(primary_key=True)
    status: OutcomeStatus = enum_field(OutcomeStatus)
    recorded_on: date


KERNEL = kernel_tables(EnrollmentModel.metadata)
