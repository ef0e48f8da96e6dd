"""The diploma PDF: bilingual (Arabic right to left, and French), with a QR code to the
verification page. Rendered on demand (never on the issuance path) and cached by the service.

Before approval, an officer sees the same diploma as a preview: marked so across the page,
with neither number nor QR code (it could not be taken for one that was issued).

WeasyPrint shapes the Arabic through Pango/HarfBuzz with the Amiri font (Debian's
`fonts-hosny-amiri`), so letters join, ligatures form and vowel marks stay.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import segno

from fursa.certification import domain, wording
from fursa.certification.domain import Bilingual
from fursa.certification.templating import templates
from fursa.shared.contracts import CertificateKind, Sex

# WeasyPrint logs each rendering step (and its stylesheets at import) at INFO: keep warnings.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

# Arabic month names as used in Morocco (the Maghreb's French-derived names).
_MONTHS_AR = (
    "يناير",
    "فبراير",
    "مارس",
    "أبريل",
    "ماي",
    "يونيو",
    "يوليوز",
    "غشت",
    "شتنبر",
    "أكتوبر",
    "نونبر",
    "دجنبر",
)
_MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def long_date(day: date) -> Bilingual:
    """A date spelled out in both languages (`30 يونيو 2026` / `30 juin 2026`); the template
    keeps it on one line, so that a wrapped line never leaves the year alone."""
    return Bilingual(
        f"{day.day} {_MONTHS_AR[day.month - 1]} {day.year}",
        f"{day.day} {_MONTHS_FR[day.month - 1]} {day.year}",
    )


# Beyond this many letters a name prints smaller, so that it keeps to one or two lines.
LONG_NAME = 28


@dataclass(frozen=True)
class BirthPlace:
    """Where the holder was born, in each language when known."""

    ar: str | None = None
    fr: str | None = None


@dataclass(frozen=True)
class Issuance:
    """What only an issued diploma prints: its number, and how to verify it."""

    number: str
    holder_url: str  # the QR code's target (with the token that shows the holder's name)
    verification_url: str  # printed under the QR code, for checking by number

    @property
    def qr_code(self) -> str:
        """The QR code of the holder's verification page, as an SVG data URI."""
        return str(segno.make(self.holder_url, error="m").svg_data_uri(scale=4, border=2))


@dataclass(frozen=True)
class Diploma:
    """Everything one diploma prints; without its issuance, a preview before approval."""

    kind: CertificateKind
    pathway: Bilingual
    workshops: Sequence[Bilingual]
    holder: Bilingual  # the full name in Arabic, and in Latin script
    sex: Sex | None
    birth_date: date | None
    birth_place: BirthPlace
    center: Bilingual
    region: Bilingual
    school_year: str
    completed_on: date
    issued_on: date
    signatory_name: Bilingual
    signatory_title: Bilingual
    issuance: Issuance | None

    @property
    def title(self) -> Bilingual:
        return domain.KINDS[self.kind]

    @property
    def words(self) -> wording.DiplomaWording:
        return wording.diploma_wording(self.kind, self.sex, workshops=len(self.workshops))

    @property
    def long_name(self) -> bool:
        return max(len(self.holder.ar), len(self.holder.fr)) > LONG_NAME

    @property
    def born(self) -> Bilingual | None:
        return long_date(self.birth_date) if self.birth_date else None

    @property
    def completed(self) -> Bilingual:
        return long_date(self.completed_on)

    @property
    def issued(self) -> Bilingual:
        return long_date(self.issued_on)


@dataclass(frozen=True)
class Omission:
    """A certificate of a cohort that its PDF leaves out, and why."""

    number: str
    reason: Bilingual


def render_pdf(diplomas: Sequence[Diploma], omitted: Sequence[Omission] = ()) -> bytes:
    """One PDF with a page per diploma (a single diploma, or a cohort's for printing), and a
    last page listing the certificates left out, when there are any."""
    # Imported on first use: loading WeasyPrint (Pango, fonts) costs the service's start a
    # second, and most replicas never print.
    from weasyprint import HTML

    html = templates.get_template("diploma.html").render(
        diplomas=diplomas, omitted=omitted, words=wording
    )
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
