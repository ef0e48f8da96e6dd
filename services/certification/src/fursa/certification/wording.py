"""The words the diploma and the cohort PDF print, in Arabic and French, in one place.

Written as a Moroccan official document is: formal Arabic (MSA) in the administration's usage
(المزداد بتاريخ, سُلِّم بتاريخ) and administrative French. Words agree in gender:

- with the document: دبلوم and diplôme are masculine (يُمنح, سُلِّم; décerné, délivré), شهادة
  and attestation feminine (تُمنح, سُلِّمت; décernée, délivrée);
- with the holder: أنهى / أنهت, المزداد / المزدادة, né / née. A holder whose sex the copy does
  not know (a copy made before it was carried) gets the forms printed forms use for either,
  المزداد(ة) and né(e), rather than a guess.

Plain data and functions: the template only places these texts.
"""

from __future__ import annotations

from dataclasses import dataclass

from fursa.certification.domain import Bilingual
from fursa.shared.contracts import CertificateKind, RevocationReason, Sex

KINGDOM = Bilingual("المملكة المغربية", "Royaume du Maroc")
ISSUER = Bilingual("التعاون الوطني", "Entraide Nationale")
PROGRAMME = Bilingual(
    "برنامج مدرسة الفرصة الثانية – الجيل الجديد",
    "Programme École de la Deuxième Chance – Nouvelle Génération",
)

# Which documents are feminine, in both languages alike (شهادة, attestation).
_FEMININE_KINDS = frozenset({CertificateKind.ATTESTATION})


@dataclass(frozen=True)
class AgreedWithDocument:
    """A phrase in the masculine (دبلوم, diplôme) and feminine (شهادة, attestation) forms."""

    masculine: Bilingual
    feminine: Bilingual

    def of(self, kind: CertificateKind) -> Bilingual:
        return self.feminine if kind in _FEMININE_KINDS else self.masculine


@dataclass(frozen=True)
class AgreedWithHolder:
    """A phrase in the holder's form, and the form for either when the sex is unknown."""

    masculine: Bilingual
    feminine: Bilingual
    either: Bilingual

    def of(self, sex: Sex | None) -> Bilingual:
        if sex is None:
            return self.either
        return self.feminine if sex == Sex.FEMALE else self.masculine


AWARDED_TO = AgreedWithDocument(
    masculine=Bilingual("يُمنح إلى", "décerné à"),
    feminine=Bilingual("تُمنح إلى", "décernée à"),
)
ISSUED_ON = AgreedWithDocument(
    masculine=Bilingual("سُلِّم بتاريخ", "Délivré le"),
    feminine=Bilingual("سُلِّمت بتاريخ", "Délivrée le"),
)
BORN_ON = AgreedWithHolder(
    masculine=Bilingual("المزداد بتاريخ", "né le"),
    feminine=Bilingual("المزدادة بتاريخ", "née le"),
    either=Bilingual("المزداد(ة) بتاريخ", "né(e) le"),
)
COMPLETED_ON = AgreedWithHolder(
    masculine=Bilingual("أنهى التكوين بنجاح بتاريخ", "a achevé sa formation avec succès le"),
    feminine=Bilingual("أنهت التكوين بنجاح بتاريخ", "a achevé sa formation avec succès le"),
    either=Bilingual("أنهى(ت) التكوين بنجاح بتاريخ", "a achevé sa formation avec succès le"),
)
# Joined to the place without a space in Arabic (بمراكش), with one in French (à Marrakech).
BORN_IN = Bilingual("ب", "à ")

PATHWAY = Bilingual("المسار", "Filière")
WORKSHOP = Bilingual("الورشة", "Atelier")
WORKSHOPS = Bilingual("الورشات", "Ateliers")
CENTER = Bilingual("المركز", "Centre")
REGION = Bilingual("الجهة", "Région")
SCHOOL_YEAR = Bilingual("السنة الدراسية", "Année scolaire")
# Under the signatory's title: "جهة مراكش آسفي" (no article before a region's name).
REGION_OF = Bilingual("جهة", "Région")
NUMBER = Bilingual("رقم الشهادة", "N°")
SIGNATURE_AND_STAMP = Bilingual("التوقيع والخاتم", "Signature et cachet")
QR_CAPTION = Bilingual(
    "للتحقق من صحة هذه الوثيقة، امسحوا الرمز أو زوروا",
    "Pour vérifier ce document, scannez le code ou consultez",
)
# Printed when no signatory is configured for the region: the title, and a line to sign on.
DEFAULT_SIGNATORY_TITLE = Bilingual(
    "المنسق الجهوي للتعاون الوطني", "Le Coordinateur régional de l'Entraide Nationale"
)

# A diploma seen before approval: marked across the page, and why it has no number.
PREVIEW = Bilingual("نسخة للمعاينة", "Aperçu")
PREVIEW_NOTICE = Bilingual(
    "نسخة للمعاينة قبل المصادقة، لا قيمة لها. يُسنَد رقم الشهادة ورمز التحقق عند تسليمها.",
    "Aperçu avant approbation, sans valeur. Le numéro et le code de vérification sont "
    "attribués à la délivrance.",
)

# The cohort PDF's last page: what it left out, and why.
OMITTED_TITLE = Bilingual("شهادات لم تُطبع في هذا الملف", "Certificats non imprimés")
OMITTED_INTRO = Bilingual(
    "لا يتضمن هذا الملف الشهادات التالية للفوج:",
    "Ce document ne contient pas les certificats suivants de la promotion :",
)
PRINTED_COUNT = Bilingual("الشهادات المطبوعة", "Certificats imprimés")
OMITTED_COUNT = Bilingual("الشهادات غير المطبوعة", "Certificats non imprimés")
ERASED = Bilingual(
    "تم محو المعطيات الشخصية لصاحب الشهادة", "données personnelles du titulaire effacées"
)
REASON = Bilingual("سبب عدم الطبع", "Motif")
REVOKED = Bilingual("ملغاة", "révoqué")
REPLACED_BY = Bilingual("عوضتها الشهادة رقم", "remplacé par le n°")
REVOCATION_REASONS: dict[RevocationReason, Bilingual] = {
    RevocationReason.ISSUED_IN_ERROR: Bilingual("سُلِّمت خطأً", "délivré par erreur"),
    RevocationReason.DATA_CORRECTION: Bilingual("تصحيح المعطيات", "correction des données"),
    RevocationReason.FRAUD: Bilingual("غش", "fraude"),
    RevocationReason.OTHER: Bilingual("سبب آخر", "autre motif"),
}


@dataclass(frozen=True)
class DiplomaWording:
    """The agreed phrases of one diploma."""

    awarded_to: Bilingual
    born_on: Bilingual
    completed_on: Bilingual
    issued_on: Bilingual
    workshops: Bilingual


def diploma_wording(kind: CertificateKind, sex: Sex | None, *, workshops: int) -> DiplomaWording:
    """The phrases of a diploma of this kind for a holder of this sex (``None``: unknown)."""
    return DiplomaWording(
        awarded_to=AWARDED_TO.of(kind),
        born_on=BORN_ON.of(sex),
        completed_on=COMPLETED_ON.of(sex),
        issued_on=ISSUED_ON.of(kind),
        workshops=WORKSHOPS if workshops > 1 else WORKSHOP,
    )


def revocation(reason: RevocationReason | None, replaced_by: str | None) -> Bilingual:
    """Why a revoked certificate was left out: revoked, the reason, what replaced it."""
    ar, fr = [REVOKED.ar], [REVOKED.fr]
    if reason is not None:
        ar.append(f"({REVOCATION_REASONS[reason].ar})")
        fr.append(f"({REVOCATION_REASONS[reason].fr})")
    text = Bilingual(" ".join(ar), " ".join(fr))
    if replaced_by is None:
        return text
    return Bilingual(
        f"{text.ar}، {REPLACED_BY.ar} {replaced_by}", f"{text.fr}, {REPLACED_BY.fr} {replaced_by}"
    )
