"""What the enrollment API's routes share: services, callers, request shapes and the rules'
messages in Arabic and French."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from fursa.enrollment.domain import Refused
from fursa.enrollment.duplicate_reviews import DuplicateReviews
from fursa.enrollment.eligibility import SchoolLevel
from fursa.enrollment.learners import LearnerRecords
from fursa.enrollment.reference import ReferenceData
from fursa.enrollment.service import Applicant, EnrollmentService
from fursa.shared import problems
from fursa.shared.auth import Principal, Role, allow
from fursa.shared.contracts import Consent, Guardian, Language, LearnerContact, LearnerPII, Sex
from fursa.shared.contracts.enrollment import ArabicName, ArabicPlace, LatinName, LatinPlace
from fursa.shared.phones import MoroccanMobile
from fursa.shared.problems import Problem

# The enrollment service's rules, by code, in the programme's two languages.
problems.register_messages(
    {
        "unknown_center": {
            "fr": "Centre inconnu : {center_id}.",
            "ar": "مركز غير معروف: {center_id}.",
        },
        "unknown_school_year": {
            "fr": "Année scolaire non ouverte aux inscriptions : {school_year}.",
            "ar": "السنة الدراسية غير مفتوحة للتسجيل: {school_year}.",
        },
        "unknown_association": {
            "fr": "Association inconnue.",
            "ar": "جمعية غير معروفة.",
        },
        "unknown_referral": {
            "fr": "Orientation inconnue pour ce centre : {referral_id}.",
            "ar": "إحالة غير معروفة لهذا المركز: {referral_id}.",
        },
        "referral_already_used": {
            "fr": "Cette orientation a déjà donné lieu à une inscription.",
            "ar": "سبق استعمال هذه الإحالة في تسجيل.",
        },
        "agreement_not_in_force": {
            "fr": "La convention de partenariat n'est pas en vigueur.",
            "ar": "اتفاقية الشراكة غير سارية المفعول.",
        },
        "age_below_minimum": {
            "fr": "Âge {age} ans : le minimum est {min_age} ans.",
            "ar": "السن {age} سنة: الحد الأدنى هو {min_age} سنة.",
        },
        "age_above_maximum": {
            "fr": "Âge {age} ans : le maximum est {max_age} ans.",
            "ar": "السن {age} سنة: الحد الأقصى هو {max_age} سنة.",
        },
        "must_be_out_of_school": {
            "fr": "L'apprenant doit être hors de l'école (quitté en {year_left_school}).",
            "ar": "يجب أن يكون المتعلم منقطعا عن الدراسة (غادر سنة {year_left_school}).",
        },
        "year_left_school_required": {
            "fr": "L'année de sortie de l'école est requise pour ce niveau.",
            "ar": "سنة الانقطاع عن الدراسة مطلوبة لهذا المستوى.",
        },
        "year_left_school_before_school_age": {
            "fr": "Année de sortie de l'école impossible : {year_left_school}.",
            "ar": "سنة الانقطاع عن الدراسة غير ممكنة: {year_left_school}.",
        },
        "duplicate_enrollment": {
            "fr": "Cet apprenant a déjà une inscription active (même code Massar, ou même "
            "nom, date de naissance et téléphone du tuteur).",
            "ar": "لهذا المتعلم تسجيل نشط (نفس رمز مسار، أو نفس الاسم وتاريخ الازدياد وهاتف "
            "ولي الأمر).",
        },
        "center_full": {
            "fr": "Le centre n'a plus de place sur ce parcours.",
            "ar": "لم يعد في المركز مكان في هذا المسار.",
        },
        "enrollment_closed": {
            "fr": "L'inscription est close.",
            "ar": "التسجيل مغلق.",
        },
        "not_holding_a_place": {
            "fr": "L'apprenant est sur liste d'attente : il n'occupe pas de place.",
            "ar": "المتعلم في لائحة الانتظار: لا يشغل مقعدا.",
        },
        "not_waiting": {
            "fr": "L'apprenant n'est pas sur liste d'attente : une place ailleurs ne se propose "
            "qu'à un apprenant qui attend (un apprenant inscrit est transféré).",
            "ar": "المتعلم ليس في لائحة الانتظار: لا يُقترح مقعد في مركز آخر إلا على متعلم "
            "ينتظر (أما المسجَّل فيُحوَّل).",
        },
        "transfer_to_same_center": {
            "fr": "Le transfert doit se faire vers un autre centre.",
            "ar": "يجب أن يكون التحويل إلى مركز آخر.",
        },
        "duplicate_already_decided": {
            "fr": "Ce doublon possible a déjà été tranché ({decision}).",
            "ar": "سبق البت في هذا التكرار المحتمل ({decision}).",
        },
        "merge_needs_one_active_enrollment": {
            "fr": "Fusion impossible : les deux fiches ont une inscription active ; clore "
            "l'une d'elles d'abord.",
            "ar": "الدمج غير ممكن: للملفين تسجيل نشط؛ يجب إغلاق أحدهما أولا.",
        },
        "learner_erased": {
            "fr": "Les données de cet apprenant ont été effacées.",
            "ar": "تم محو بيانات هذا المتعلم.",
        },
        "erasure_needs_closed_enrollments": {
            "fr": "Effacement impossible : une inscription est encore active.",
            "ar": "المحو غير ممكن: ما زال هناك تسجيل نشط.",
        },
        "ends_before_it_starts": {
            "fr": "La date de fin précède la date de début.",
            "ar": "تاريخ النهاية يسبق تاريخ البداية.",
        },
        "contact_missing": {
            "fr": "Contact manquant ({field}) : un mineur a un tuteur ; dès 18 ans, "
            "l'apprenant est son propre contact et donne son téléphone.",
            "ar": "جهة الاتصال ناقصة ({field}): للقاصر ولي أمر؛ ومن 18 سنة يكون المتعلم "
            "جهة الاتصال بنفسه ويعطي رقم هاتفه.",
        },
        "enrollment_still_open": {
            "fr": "L'apprenant n'a pas quitté le programme : la situation à la sortie se "
            "note au retrait, ou une fois la formation achevée.",
            "ar": "لم يغادر المتعلم البرنامج: تُسجَّل الوضعية عند الخروج عند الانسحاب أو "
            "بعد إتمام التكوين.",
        },
        "exit_outcome_contradicts_reason": {
            "fr": "Le motif du retrait ({reason}) indique déjà la situation à la sortie "
            "({implied}).",
            "ar": "سبب الانسحاب ({reason}) يحدد الوضعية عند الخروج ({implied}).",
        },
        "correction_reason_required": {
            "fr": "Corriger une situation à la sortie déjà notée ({previous}) demande un "
            "motif ({field}).",
            "ar": "تصحيح وضعية عند الخروج سبق تسجيلها ({previous}) يتطلب ذكر السبب ({field}).",
        },
        "min_age_above_max_age": {
            "fr": "L'âge minimum dépasse l'âge maximum.",
            "ar": "السن الأدنى يتجاوز السن الأقصى.",
        },
    }
)

Id = Annotated[str, Path(max_length=64)]

# Who may change the records: the association that runs the center, or an administrator.
Writer = Annotated[Principal, Depends(allow(Role.ASSOCIATION_STAFF, Role.ADMIN))]
Admin = Annotated[Principal, Depends(allow(Role.ADMIN))]

MassarCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z][0-9]{9}$",
        description="The learner's Massar code (a letter and nine digits), if they have one.",
    ),
]
Nationality = Annotated[
    str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, e.g. `MA`.")
]
YearLeftSchool = Annotated[int, Field(ge=1990, le=2100, description="Year the learner left.")]
SpecialNeeds = Annotated[str, Field(max_length=500, description="Needs to plan for, if any.")]


def refused(exc: Refused) -> Problem:
    """The problem+json answer naming the rule that refused the request."""
    return Problem.rule(exc.rule, status=409 if exc.conflict else 422, **exc.params)


class LearnerIn(BaseModel):
    """The learner's identity and schooling; the name rules are those of the event contract."""

    model_config = ConfigDict(extra="forbid")

    first_name_ar: ArabicName
    last_name_ar: ArabicName
    first_name_latin: LatinName
    last_name_latin: LatinName
    birth_date: date
    birth_place_ar: ArabicPlace | None = None
    birth_place_fr: LatinPlace | None = None
    sex: Sex
    nationality: Nationality = "MA"
    massar_code: MassarCode | None = None
    last_school_level: SchoolLevel
    year_left_school: YearLeftSchool | None = None
    special_needs: SpecialNeeds | None = None


# A mobile phone as people type it (06 12 34 56 78, 00212…, +212 (0)6…), kept in E.164; a
# landline or anything no SMS reaches is refused, naming the field.
Mobile = Annotated[
    MoroccanMobile,
    Field(description="A Moroccan mobile number (06… or 07…), stored as +2126…/+2127…"),
]


class GuardianIn(Guardian):
    model_config = ConfigDict(extra="forbid")

    phone: Mobile


class LearnerContactIn(LearnerContact):
    """The learner's own phone and e-mail: required from 18, when the learner is their own
    contact (a guardian is then optional)."""

    model_config = ConfigDict(extra="forbid")

    phone: Mobile


class ConsentIn(Consent):
    """What the guardian consents to; the date and who recorded it come from the request."""

    model_config = ConfigDict(extra="forbid")


def applicant_of(
    learner: LearnerIn,
    guardian: Guardian | None,
    consent: Consent,
    contact: LearnerContact | None = None,
) -> Applicant:
    """What an enrolment records. Without a guardian (an adult's choice, checked by the
    service), the events' guardian block repeats the learner's own contact."""
    stand_in = contact and Guardian(
        name=f"{learner.first_name_latin} {learner.last_name_latin}", **contact.model_dump()
    )
    pii = LearnerPII.model_validate(
        {
            **learner.model_dump(
                exclude={"last_school_level", "year_left_school", "special_needs"}
            ),
            "guardian": (guardian or stand_in or _NO_CONTACT).model_dump(),
            "contact": contact.model_dump() if contact else None,
            "consent": consent.model_dump(),
        }
    )
    return Applicant(
        pii=pii,
        last_school_level=learner.last_school_level,
        year_left_school=learner.year_left_school,
        special_needs=learner.special_needs,
        has_guardian=guardian is not None,
    )


# Stands in for a contact the request lacks, so that the service refuses it by its rule
# (``contact_missing``, naming the field) rather than the event contract by its shape.
_NO_CONTACT = Guardian(name="-", phone="+10000000", preferred_language=Language.AR)


def _state(request: Request, name: str) -> object:
    return getattr(request.app.state, name)


async def _enrollments(request: Request) -> EnrollmentService:
    service = _state(request, "enrollments")
    assert isinstance(service, EnrollmentService)
    return service


async def _reference(request: Request) -> ReferenceData:
    service = _state(request, "reference")
    assert isinstance(service, ReferenceData)
    return service


async def _learners(request: Request) -> LearnerRecords:
    service = _state(request, "learners")
    assert isinstance(service, LearnerRecords)
    return service


async def _duplicates(request: Request) -> DuplicateReviews:
    service = _state(request, "duplicates")
    assert isinstance(service, DuplicateReviews)
    return service


Enrollments = Annotated[EnrollmentService, Depends(_enrollments)]
Duplicates = Annotated[DuplicateReviews, Depends(_duplicates)]
References = Annotated[ReferenceData, Depends(_reference)]
Learners = Annotated[LearnerRecords, Depends(_learners)]
