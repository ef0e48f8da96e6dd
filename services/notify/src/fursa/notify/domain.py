"""What notify tells whom, in plain code: message templates in Arabic and French."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fursa.shared.contracts import CertificateKind, Language

CERTIFICATE_ISSUED = "certificate-issued"


class DeliveryStatus(StrEnum):
    SENT = "sent"


@dataclass(frozen=True)
class Template:
    """One message text in one language; `id` is what deliveries and events record."""

    id: str
    language: Language
    text: str

    def render(self, **values: str) -> str:
        return self.text.format(**values)


_TEMPLATES: dict[tuple[str, Language], Template] = {
    (CERTIFICATE_ISSUED, Language.FR): Template(
        id="certificate-issued.fr",
        language=Language.FR,
        text=(
            "Félicitations ! Votre enfant a obtenu son {kind} de l'École de la Deuxième "
            "Chance, certificat n° {number}. Vérification : {url}"
        ),
    ),
    (CERTIFICATE_ISSUED, Language.AR): Template(
        id="certificate-issued.ar",
        language=Language.AR,
        text=(
            "تهانينا! حصل طفلكم على {kind} من مدرسة الفرصة الثانية، "
            "الشهادة رقم {number}. للتحقق: {url}"
        ),
    ),
}

_KIND_WORDS: dict[tuple[CertificateKind, Language], str] = {
    (CertificateKind.DIPLOMA, Language.FR): "diplôme",
    (CertificateKind.ATTESTATION, Language.FR): "attestation",
    (CertificateKind.DIPLOMA, Language.AR): "دبلوم التخرج",
    (CertificateKind.ATTESTATION, Language.AR): "شهادة",
}


class UnknownTemplateError(LookupError):
    """No template for this topic and language."""


def template_for(topic: str, language: Language) -> Template:
    """The template of a topic in the guardian's preferred language."""
    try:
        return _TEMPLATES[(topic, language)]
    except KeyError:
        raise UnknownTemplateError(f"no {language} template for {topic}") from None


@dataclass(frozen=True)
class Text:
    template: Template
    body: str


def certificate_issued_text(
    *, language: Language, kind: CertificateKind, number: str, verification_url: str
) -> Text:
    """The message that tells a guardian their child's certificate was issued."""
    template = template_for(CERTIFICATE_ISSUED, language)
    body = template.render(kind=_KIND_WORDS[(kind, language)], number=number, url=verification_url)
    return Text(template, body)
