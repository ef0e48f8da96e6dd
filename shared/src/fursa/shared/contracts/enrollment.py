"""Events published by the enrollment service."""

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from fursa.shared.contracts.common import ContractModel, Pathway, SchoolYear, UtcDateTime, Uuid
from fursa.shared.contracts.registry import EventData, register

# Letters and combining marks of the Arabic blocks (base, supplement, extended-A and the
# presentation forms); written as `\uXXXX` escapes, which the Rust, Python and ECMAScript
# regex engines all read, so the committed JSON Schema stays usable from any language.
_ARABIC = (
    r"\u0620-\u065f\u066e-\u06d3\u06d5\u06fa-\u06fc"  # Arabic
    r"\u0750-\u077f\u08a0-\u08ff"  # Arabic Supplement, Extended-A
    r"\ufb50-\ufdff\ufe70-\ufefc"  # presentation forms A and B
)
# ASCII letters plus the Latin-1 and Latin Extended letters of transliterated names (Aït, Ĥ…).
_LATIN = r"A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"

# Script checks catch the classic import mistake of swapped name columns.
ArabicName = Annotated[
    str,
    Field(
        max_length=100,
        pattern=rf"^[{_ARABIC}]+(?:[ \-][{_ARABIC}]+)*$",
        description="A name in Arabic script (words separated by a space or hyphen).",
    ),
]
LatinName = Annotated[
    str,
    Field(
        max_length=100,
        pattern=rf"^[{_LATIN}][{_LATIN}'\u2019]*(?:[ \-][{_LATIN}'\u2019]+)*$",
        description="A name in Latin script, as transliterated in civil records.",
    ),
]
ArabicPlace = Annotated[
    str,
    Field(
        max_length=100,
        pattern=rf"^[{_ARABIC}]+(?:[ \-][{_ARABIC}]+)*$",
        description="A place (town, commune) named in Arabic script.",
    ),
]
LatinPlace = Annotated[
    str,
    Field(
        max_length=100,
        pattern=rf"^[{_LATIN}][{_LATIN}'\u2019]*(?:[ \-][{_LATIN}'\u2019]+)*$",
        description="A place (town, commune) named in Latin script, as in civil records.",
    ),
]
AdminCode = Annotated[
    str,
    Field(
        pattern=r"^[0-9A-Z][0-9A-Z.\-]{0,15}$",
        description="An official territorial code (region or province/prefecture).",
    ),
]


class Sex(StrEnum):
    """Sex as recorded at enrollment (reported in the programme's indicators)."""

    FEMALE = "female"
    MALE = "male"


class Language(StrEnum):
    """Language of messages to a guardian."""

    AR = "ar"
    FR = "fr"


class Guardian(ContractModel):
    """The learner's guardian, the contact of a minor learner. From 18 a guardian is optional:
    for an adult enrolled without one, v1 (which requires this block) repeats here the
    learner's own name and `contact`."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    phone: Annotated[
        str, Field(pattern=r"^\+[1-9][0-9]{7,14}$", description="E.164, e.g. +212612345678.")
    ]
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = (
        None
    )
    preferred_language: Language


class LearnerContact(ContractModel):
    """The learner's own phone and e-mail: an adult learner (18 or over on the day a message
    is sent) is their own contact."""

    phone: Annotated[
        str, Field(pattern=r"^\+[1-9][0-9]{7,14}$", description="E.164, e.g. +212612345678.")
    ]
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = (
        None
    )
    preferred_language: Language


class Consent(ContractModel):
    """What the guardian (or the adult learner) agreed to; docs/consent.md says what each
    consent allows."""

    data_use: Annotated[
        bool,
        Field(description="Use of the learner's data beyond running their own enrolment."),
    ]
    notifications: Annotated[
        bool, Field(description="Messages about the learner to their contact (SMS, e-mail).")
    ]
    partner_sharing: Annotated[
        bool,
        Field(
            description="The learner's enrolment may be shared with the programme's partners "
            "(the partner feed, which carries no personal data); absent: not given."
        ),
    ] = False


class LearnerPII(ContractModel):
    """The learner's personal data: the only place where it travels in an event."""

    first_name_ar: ArabicName
    last_name_ar: ArabicName
    first_name_latin: LatinName
    last_name_latin: LatinName
    birth_date: date
    birth_place_ar: Annotated[
        ArabicPlace | None, Field(description="Where the learner was born, in Arabic.")
    ] = None
    birth_place_fr: Annotated[
        LatinPlace | None, Field(description="Where the learner was born, in French.")
    ] = None
    sex: Sex
    nationality: Annotated[
        str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, e.g. `MA`.")
    ] = "MA"
    massar_code: Annotated[
        str | None,
        Field(
            pattern=r"^[A-Z0-9]{6,20}$",
            description="Massar code; absent for learners who never had one (e.g. migrants).",
        ),
    ] = None
    guardian: Guardian
    contact: Annotated[
        LearnerContact | None,
        Field(description="The learner's own contact (required from 18 at enrolment)."),
    ] = None
    consent: Consent


@register("fursa.enrollment.learner-enrolled.v1", producer="enrollment", stable=True)
class LearnerEnrolled(EventData):
    """A learner was enrolled in a center for a school year (directly or from the waiting
    list). Personal data is only in `pii`."""

    enrollment_id: Uuid
    learner_id: Uuid
    association_id: Uuid
    center_id: Uuid
    region_code: Annotated[AdminCode, Field(description="Region of the center, e.g. `07`.")]
    province_code: Annotated[AdminCode, Field(description="Province/prefecture of the center.")]
    pathway: Pathway
    school_year: SchoolYear
    enrolled_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]
    promoted_from_waitlist: bool = False
    center_name: Annotated[
        str | None,
        Field(max_length=200, description="The center's French name, as on documents."),
    ] = None
    center_name_ar: Annotated[
        str | None,
        Field(max_length=200, description="The center's Arabic name, as on documents."),
    ] = None
    pii: LearnerPII


@register("fursa.enrollment.learner-waitlisted.v1", producer="enrollment", stable=True)
class LearnerWaitlisted(EventData):
    """The center's pathway was full: the learner waits at `position` (1 = next in line).
    A later learner-enrolled with the same `enrollment_id` marks the promotion."""

    enrollment_id: Uuid
    learner_id: Uuid
    association_id: Uuid
    center_id: Uuid
    region_code: AdminCode
    province_code: AdminCode
    pathway: Pathway
    school_year: SchoolYear
    position: Annotated[int, Field(ge=1)]
    waitlisted_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]
    pii: LearnerPII


@register("fursa.enrollment.learner-updated.v1", producer="enrollment", stable=True)
class LearnerUpdated(EventData):
    """A learner's record was corrected or their guardian's consent changed; `pii` is the
    whole record as it now stands, `changed` names the fields that changed."""

    learner_id: Uuid
    association_id: Uuid
    changed: Annotated[
        list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.]{0,63}$")]],
        Field(description="Changed fields, e.g. `guardian.phone`, `consent.notifications`."),
    ]
    updated_at: UtcDateTime
    pii: LearnerPII


@register("fursa.enrollment.learner-transferred.v1", producer="enrollment", stable=True)
class LearnerTransferred(EventData):
    """An enrollment moved to another center (same learner, same enrollment, history kept)."""

    enrollment_id: Uuid
    learner_id: Uuid
    association_id: Annotated[Uuid, Field(description="Association of the new center.")]
    from_center_id: Uuid
    to_center_id: Uuid
    region_code: Annotated[AdminCode, Field(description="Region of the new center.")]
    province_code: Annotated[AdminCode, Field(description="Province of the new center.")]
    pathway: Pathway
    center_name: Annotated[
        str | None, Field(max_length=200, description="The new center's French name.")
    ] = None
    center_name_ar: Annotated[
        str | None, Field(max_length=200, description="The new center's Arabic name.")
    ] = None
    transferred_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]


class WithdrawalReason(StrEnum):
    """Why a learner left before completing (a code: free text could carry personal data).

    ``returned_to_school`` and ``vocational_training`` are a success, not a dropout: each
    implies the learner's :class:`ExitOutcome` when none is recorded with it. ``work`` does
    not: leaving to work is not always a placement (the outcome says when it is a job)."""

    MOVED = "moved"
    WORK = "work"
    FAMILY = "family"
    HEALTH = "health"
    MARRIAGE = "marriage"
    LOST_CONTACT = "lost_contact"
    OTHER = "other"
    RETURNED_TO_SCHOOL = "returned_to_school"
    VOCATIONAL_TRAINING = "vocational_training"


class ExitOutcome(StrEnum):
    """Where a learner went on leaving the programme (withdrawn or completed). The values are
    training's follow-up situations (:class:`~fursa.shared.contracts.training.OutcomeStatus`),
    so that the indicators count exits and follow-ups alike, plus ``unknown``."""

    BACK_IN_SCHOOL = "back_in_school"
    VOCATIONAL_TRAINING = "vocational_training"
    EMPLOYED = "employed"  # a job, or working on one's own account
    APPRENTICED = "apprenticed"
    NONE = "none"  # neither: at home, looking for work
    UNKNOWN = "unknown"  # the center does not know where the learner went


@register("fursa.enrollment.learner-withdrawn.v1", producer="enrollment", stable=True)
class LearnerWithdrawn(EventData):
    """A learner left the programme before completing; the enrollment is closed."""

    enrollment_id: Uuid
    learner_id: Uuid
    association_id: Uuid
    center_id: Uuid
    pathway: Pathway
    reason: WithdrawalReason
    withdrawn_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]
    exit_outcome: Annotated[
        ExitOutcome | None,
        Field(
            description="Where the learner went, when known at the withdrawal (implied by "
            "`returned_to_school` and `vocational_training`); absent: not recorded."
        ),
    ] = None


@register("fursa.enrollment.exit-outcome-recorded.v1", producer="enrollment", stable=True)
class ExitOutcomeRecorded(EventData):
    """Staff recorded, or corrected, where a learner went on leaving the programme, after the
    enrollment closed (a completed training, or a withdrawal recorded without it). A later
    one replaces it (``sequence`` orders them with the enrollment's other events)."""

    enrollment_id: Uuid
    learner_id: Uuid
    association_id: Uuid
    center_id: Uuid
    pathway: Pathway
    exit_outcome: ExitOutcome
    left_on: Annotated[
        date, Field(description="When the enrollment closed (withdrawn or completed), local.")
    ]
    recorded_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]


@register("fursa.enrollment.learner-erased.v1", producer="enrollment", stable=True)
class LearnerErased(EventData):
    """An erasure request was carried out: every service forgets the learner's personal data
    (records stay, anonymous, where the programme's statistics need them)."""

    learner_id: Uuid
    enrollment_ids: list[Uuid]
    erased_at: UtcDateTime


class ReferralStatus(StrEnum):
    """Where a referral stands: received (`referred`), taken on by the association
    (`accepted`), an enrolment opened through it (`enrolled`: a place or the waiting list),
    or `closed` with a reason."""

    REFERRED = "referred"
    ACCEPTED = "accepted"
    ENROLLED = "enrolled"
    CLOSED = "closed"


class ReferralClosingReason(StrEnum):
    """Why a referral was closed (a code: free text could carry personal data, health
    details above all, which never enter Fursa)."""

    NOT_ELIGIBLE = "not_eligible"
    DECLINED = "declined"
    UNREACHABLE = "unreachable"
    NO_PLACE = "no_place"
    REFERRED_ELSEWHERE = "referred_elsewhere"
    COMPLETED_PROGRAMME = "completed_programme"
    LEFT_PROGRAMME = "left_programme"
    OTHER = "other"


class ReferralSharing(StrEnum):
    """What the referring partner may be told of its referral, as consented when it was
    received: nothing, its status, or its status and the enrolment's center and pathway.
    Never a name, never a health detail."""

    NONE = "none"
    STATUS = "status"
    STATUS_AND_PLACEMENT = "status_and_placement"


PartnerReference = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9/_.\-]{0,63}$",
        description="The referring partner's own file number (never a name).",
    ),
]


@register("fursa.enrollment.referral-status-changed.v1", producer="enrollment", stable=True)
class ReferralStatusChanged(EventData):
    """A referral's status changed and its referring partner may be told (its consented
    `sharing` is not `none` and its agreement names the partner); notify tells that partner
    only. No personal data: the partner's own `reference`, and with `status_and_placement`
    the enrolment's center and pathway."""

    referral_id: Uuid
    agreement_id: Uuid
    association_id: Uuid
    partner_id: Annotated[Uuid, Field(description="The referring partner (notify's id).")]
    reference: Annotated[
        PartnerReference | None, Field(description="Absent once the learner was erased.")
    ] = None
    status: ReferralStatus
    closing_reason: ReferralClosingReason | None = None
    changed_on: Annotated[date, Field(description="Local date (Africa/Casablanca).")]
    sharing: ReferralSharing
    center_id: Annotated[Uuid | None, Field(description="With `status_and_placement`.")] = None
    pathway: Annotated[Pathway | None, Field(description="With `status_and_placement`.")] = None
