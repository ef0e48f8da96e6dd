"""Unit tests of notify's messages, partner forms and channels: no database, no broker."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from fursa.notify import domain
from fursa.notify.channels import LocalSmsSink, Message, SendFailed, http_failure
from fursa.notify.partner_feed import partner_form
from fursa.shared.contracts import (
    CertificateKind,
    Guardian,
    Language,
    LearnerAtRisk,
    LearnerPII,
    PartnerLearnerEnrolled,
    Pathway,
    for_model,
)
from fursa.shared.contracts.registry import registry
from fursa.shared.testing.builders import learner_enrolled, uuid_of

NUMBER = "MS-2026-000001"
URL = "https://verify.fursa.test/verify/MS-2026-000001"
# The identifier pattern of notification-sent's `template` field.
TEMPLATE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}$")
ARABIC_LETTER = re.compile(r"[\u0620-\u064a]")


@pytest.mark.parametrize("topic", list(domain.Topic))
@pytest.mark.parametrize("language", list(Language))
def test_every_topic_has_a_template_file_in_arabic_and_french(
    topic: domain.Topic, language: Language
) -> None:
    template = domain.template_for(topic, language)
    assert template.id == f"{topic.value}.{language.value}"
    assert TEMPLATE_ID.match(template.id)
    assert template.subject
    assert template.text
    assert bool(ARABIC_LETTER.search(template.text)) is (language is Language.AR)


def test_french_message_names_the_diploma_its_number_and_where_to_check_it() -> None:
    text = domain.certificate_issued_text(
        language=Language.FR, kind=CertificateKind.DIPLOMA, number=NUMBER, verification_url=URL
    )
    assert text.template.id == "certificate-issued.fr"
    assert text.body.startswith("Félicitations !")
    assert "son diplôme" in text.body
    assert f"certificat n° {NUMBER}" in text.body
    assert text.body.endswith(f"Vérification : {URL}")
    assert text.subject == "Certificat délivré – École de la Deuxième Chance"


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


def test_a_template_refuses_to_render_with_a_value_missing() -> None:
    with pytest.raises(KeyError, match="school_year"):
        domain.render(domain.Topic.LEARNER_ENROLLED, Language.FR)


def test_topic_without_a_template_is_refused() -> None:
    with pytest.raises(domain.UnknownTemplateError):
        domain.template_for("learner-withdrawn", Language.FR)


def test_attendance_is_said_as_a_whole_percentage() -> None:
    assert domain.percent(0.416) == "42"
    assert domain.percent(1.0) == "100"


def test_retries_stop_after_the_last_attempt() -> None:
    policy = domain.RetryPolicy(max_attempts=3)
    assert [policy.exhausted(n) for n in (1, 2, 3)] == [False, False, True]


def test_partner_form_of_an_enrollment_keeps_no_personal_data_nor_learner_id() -> None:
    enrolled = learner_enrolled(1)
    form = partner_form(enrolled)
    assert form is not None
    assert isinstance(form.data, PartnerLearnerEnrolled)
    assert form.subject == enrolled.enrollment_id
    dumped = form.data.model_dump(mode="json")
    assert "pii" not in dumped
    assert "learner_id" not in dumped
    assert for_model(type(form.data)).context == "partner"


def test_attendance_alerts_stay_internal() -> None:
    at_risk = LearnerAtRisk(
        training_id=uuid_of("training", 1),
        enrollment_id=uuid_of("enrollment", 1),
        learner_id=uuid_of("learner", 1),
        center_id=uuid_of("center", 1),
        pathway=Pathway.VOCATIONAL_TRAINING,
        window_sessions=10,
        attendance_rate=0.4,
        threshold=0.6,
        detected_on=date(2026, 3, 2),
    )
    assert partner_form(at_risk) is None


@pytest.mark.parametrize(
    ("status", "permanent", "gone"),
    [(503, False, False), (429, False, False), (400, True, False), (410, True, True)],
)
def test_http_answers_decide_whether_to_retry(status: int, permanent: bool, gone: bool) -> None:
    failure = http_failure(status)
    assert isinstance(failure, SendFailed)
    assert (failure.code, failure.permanent, failure.gone) == (f"http_{status}", permanent, gone)


async def test_local_sms_sink_appends_one_json_line_per_message(tmp_path: Path) -> None:
    sink = LocalSmsSink(tmp_path / "sink")
    await sink.send(Message(id="d-1", to="+212612345678", language=Language.AR, text="تهانينا!"))
    await sink.send(Message(id="d-2", to="+212600000001", language=Language.FR, text="Bravo !"))

    raw = (tmp_path / "sink" / "sms.jsonl").read_text(encoding="utf-8")
    assert "تهانينا" in raw  # readable, not \\u-escaped
    lines = [json.loads(line) for line in raw.splitlines()]
    assert lines == [
        {"id": "d-1", "phone": "+212612345678", "language": "ar", "text": "تهانينا!"},
        {"id": "d-2", "phone": "+212600000001", "language": "fr", "text": "Bravo !"},
    ]


def test_message_repr_hides_the_address_the_text_and_the_secrets() -> None:
    message = Message(
        id="d-1", to="+212612345678", text="Bonjour Fatima", secrets=("whsec_c2VjcmV0",)
    )
    shown = repr(message)
    assert "+212612345678" not in shown
    assert "Fatima" not in shown
    assert "whsec_" not in shown


def test_no_partner_contract_has_a_field_of_personal_data() -> None:
    personal = {"pii", "learner_id", "guardian", *LearnerPII.model_fields, *Guardian.model_fields}
    partner_types = [spec for spec in registry().values() if spec.context == "partner"]
    assert len(partner_types) == 10
    for spec in partner_types:
        assert personal.isdisjoint(spec.model.model_fields), spec.type
        assert spec.producer == "notify"
