"""Unit tests of notify's messages and channels: no database, no broker."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fursa.notify import domain
from fursa.notify.channels import LocalSmsSink, Message
from fursa.shared.contracts import CertificateKind, Language

NUMBER = "MS-2026-000001"
URL = "https://verify.fursa.test/verify/MS-2026-000001"
# The identifier pattern of notification-sent's `template` field.
TEMPLATE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}$")


@pytest.mark.parametrize(
    ("language", "template_id"),
    [(Language.FR, "certificate-issued.fr"), (Language.AR, "certificate-issued.ar")],
)
def test_template_follows_the_guardians_language(language: Language, template_id: str) -> None:
    template = domain.template_for(domain.CERTIFICATE_ISSUED, language)
    assert template.id == template_id
    assert template.language is language
    assert TEMPLATE_ID.match(template.id)


def test_french_message_names_the_diploma_its_number_and_where_to_check_it() -> None:
    text = domain.certificate_issued_text(
        language=Language.FR, kind=CertificateKind.DIPLOMA, number=NUMBER, verification_url=URL
    )
    assert text.template.id == "certificate-issued.fr"
    assert text.body.startswith("Félicitations !")
    assert "son diplôme" in text.body
    assert f"certificat n° {NUMBER}" in text.body
    assert text.body.endswith(f"Vérification : {URL}")


def test_arabic_message_names_the_attestation_its_number_and_where_to_check_it() -> None:
    text = domain.certificate_issued_text(
        language=Language.AR,
        kind=CertificateKind.ATTESTATION,
        number=NUMBER,
        verification_url=URL,
    )
    assert text.template.id == "certificate-issued.ar"
    assert text.body.startswith("تهانينا!")
    assert "شهادة" in text.body
    assert NUMBER in text.body
    assert text.body.endswith(URL)


def test_topic_without_a_template_is_refused() -> None:
    with pytest.raises(domain.UnknownTemplateError):
        domain.template_for("learner-withdrawn", Language.FR)


async def test_local_sms_sink_appends_one_json_line_per_message(tmp_path: Path) -> None:
    sink = LocalSmsSink(tmp_path / "sink")
    await sink.send(Message(to="+212612345678", language=Language.AR, text="تهانينا!"))
    await sink.send(Message(to="+212600000001", language=Language.FR, text="Félicitations !"))

    raw = (tmp_path / "sink" / "sms.jsonl").read_text(encoding="utf-8")
    assert "تهانينا" in raw  # readable, not \u-escaped
    lines = [json.loads(line) for line in raw.splitlines()]
    assert lines == [
        {"phone": "+212612345678", "language": "ar", "text": "تهانينا!"},
        {"phone": "+212600000001", "language": "fr", "text": "Félicitations !"},
    ]


def test_message_repr_hides_the_phone_number() -> None:
    message = Message(to="+212612345678", language=Language.FR, text="Bonjour")
    assert "+212612345678" not in repr(message)
