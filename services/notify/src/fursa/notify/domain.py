"""What notify tells whom and when to try again, in plain code.

Messages are template files, one per topic, audience and language: ``templates/<topic>.
<language>.txt`` for guardians, ``templates/learner/…`` for an adult learner (their own
contact, addressed as such), ``templates/association/…`` for the learner's association (the
e-mail subject on the first line, a blank line, then the text, with ``{placeholders}``),
rendered in the recipient's preferred language. Deliveries are retried with exponential
backoff and jitter.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from functools import cache, cached_property
from importlib import resources

from fursa.shared.contracts import CertificateKind, Language, RecipientKind


class Topic(StrEnum):
    """What a guardian and the learner's association are told of (each has a template per
    audience and language)."""

    LEARNER_ENROLLED = "learner-enrolled"
    LEARNER_WAITLISTED = "learner-waitlisted"
    LEARNER_AT_RISK = "learner-at-risk"
    TRAINING_COMPLETED = "training-completed"
    CERTIFICATE_ISSUED = "certificate-issued"
    CERTIFICATE_REVOKED = "certificate-revoked"


CERTIFICATE_ISSUED = Topic.CERTIFICATE_ISSUED


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    SENT = "sent"
    FAILED = "failed"  # the last attempt failed, or the endpoint is gone
    CANCELLED = "cancelled"  # consent withdrawn, address removed or endpoint disabled


class UnknownTemplateError(LookupError):
    """No template for this topic and language."""


@dataclass(frozen=True)
class Template:
    """One message in one language; `id` is what deliveries and events record."""

    id: str
    language: Language
    subject: str
    text: str

    @cached_property
    def placeholders(self) -> frozenset[str]:
        """The names the subject and the text need filled."""
        return frozenset(
            name
            for part in (self.subject, self.text)
            for _, name, _, _ in string.Formatter().parse(part)
            if name is not None
        )

    def render(self, **values: str) -> Text:
        missing = self.placeholders - set(values)
        if missing:
            raise KeyError(f"template {self.id} needs {sorted(missing)}")
        return Text(self, self.subject.format(**values), self.text.format(**values))


# Where each audience's templates are, under templates/ (guardians' at the top); a template's
# id is its path with dots, e.g. ``association.learner-at-risk.fr``.
_FOLDERS = {
    RecipientKind.GUARDIAN: (),
    RecipientKind.LEARNER: ("learner",),
    RecipientKind.ASSOCIATION: ("association",),
}


@cache
def template_for(
    topic: str, language: Language, audience: RecipientKind = RecipientKind.GUARDIAN
) -> Template:
    """The template of a topic for an audience in the recipient's preferred language (read
    once from its file)."""
    folders = _FOLDERS.get(audience)
    file = f"{topic}.{language.value}"
    path = resources.files("fursa.notify").joinpath("templates", *folders or (), f"{file}.txt")
    if folders is None or topic not in set(Topic) or not path.is_file():
        raise UnknownTemplateError(f"no {language} template for {topic} to {audience}")
    subject, _, text = path.read_text(encoding="utf-8").partition("\n\n")
    name = ".".join((*folders, file))
    return Template(id=name, language=language, subject=subject.strip(), text=text.strip())


@dataclass(frozen=True)
class Text:
    """A rendered message: what was said (the e-mail subject and the text), with the template
    it came from."""

    template: Template
    subject: str
    body: str


def render(
    topic: Topic,
    language: Language,
    audience: RecipientKind = RecipientKind.GUARDIAN,
    /,
    **values: str,
) -> Text:
    """The message of ``topic`` to ``audience`` in ``language`` with its placeholders filled."""
    return template_for(topic, language, audience).render(**values)


_KIND_WORDS: dict[tuple[CertificateKind, Language], str] = {
    (CertificateKind.DIPLOMA, Language.FR): "diplôme",
    (CertificateKind.ATTESTATION, Language.FR): "attestation",
    (CertificateKind.DIPLOMA, Language.AR): "دبلوم التخرج",
    (CertificateKind.ATTESTATION, Language.AR): "شهادة",
}


def kind_word(kind: CertificateKind, language: Language) -> str:
    """What a certificate of ``kind`` is called in ``language``."""
    return _KIND_WORDS[(kind, language)]


def certificate_issued_text(
    *, language: Language, kind: CertificateKind, number: str, verification_url: str
) -> Text:
    """The message that tells a guardian their child's certificate was issued."""
    return render(
        Topic.CERTIFICATE_ISSUED,
        language,
        kind=kind_word(kind, language),
        number=number,
        url=verification_url,
    )


def percent(rate: float) -> str:
    """An attendance rate (0..1) as a whole percentage, e.g. ``0.42`` → ``"42"``."""
    return str(round(rate * 100))


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with "equal jitter": attempt n waits between half and all of
    ``base * 2**(n-1)`` (capped), so that retries of many deliveries spread out."""

    max_attempts: int = 8
    base_s: float = 5.0
    cap_s: float = 3600.0

    def delay_after(self, attempt: int, rng: random.Random | None = None) -> timedelta:
        """How long to wait after the ``attempt``-th failed attempt (1-based)."""
        ceiling = min(self.cap_s, self.base_s * 2 ** (attempt - 1))
        jitter = (rng or random).uniform(0, ceiling / 2)
        return timedelta(seconds=ceiling / 2 + jitter)

    def exhausted(self, attempts: int) -> bool:
        """Whether no attempt is left after ``attempts`` failed ones."""
        return attempts >= self.max_attempts
