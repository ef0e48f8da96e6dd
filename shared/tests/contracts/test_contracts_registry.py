"""The registry: names, streams and the rules a registration must follow."""

import pytest

from fursa.shared.contracts import (
    EventData,
    LearnerEnrolled,
    all_types,
    for_model,
    get,
    register,
    stream_for,
    stream_subject,
)
from fursa.shared.contracts.registry import registry


def test_importing_the_package_registers_every_service_event() -> None:
    assert all_types() == [
        "fursa.certification.certificate-issued.v1",
        "fursa.certification.certificate-revoked.v1",
        "fursa.enrollment.exit-outcome-recorded.v1",
        "fursa.enrollment.learner-enrolled.v1",
        "fursa.enrollment.learner-erased.v1",
        "fursa.enrollment.learner-transferred.v1",
        "fursa.enrollment.learner-updated.v1",
        "fursa.enrollment.learner-waitlisted.v1",
        "fursa.enrollment.learner-withdrawn.v1",
        "fursa.enrollment.referral-status-changed.v1",
        "fursa.notify.notification-failed.v1",
        "fursa.notify.notification-sent.v1",
        "fursa.partner.certificate-issued.v1",
        "fursa.partner.certificate-revoked.v1",
        "fursa.partner.enrollments-erased.v1",
        "fursa.partner.learner-enrolled.v1",
        "fursa.partner.learner-outcome-recorded.v1",
        "fursa.partner.learner-transferred.v1",
        "fursa.partner.learner-waitlisted.v1",
        "fursa.partner.learner-withdrawn.v1",
        "fursa.partner.referral-status-changed.v1",
        "fursa.partner.training-completed.v1",
        "fursa.training.follow-up-due.v1",
        "fursa.training.learner-at-risk.v1",
        "fursa.training.learner-outcome-recorded.v1",
        "fursa.training.training-completed.v1",
    ]


@pytest.mark.parametrize(
    ("event_type", "stream", "event"),
    [
        ("fursa.enrollment.learner-enrolled.v1", "ENROLLMENT", "learner-enrolled"),
        ("fursa.training.training-completed.v1", "TRAINING", "training-completed"),
        ("fursa.certification.certificate-issued.v1", "CERTIFICATION", "certificate-issued"),
        ("fursa.notify.notification-sent.v1", "NOTIFY", "notification-sent"),
    ],
)
def test_a_registration_knows_its_names(event_type: str, stream: str, event: str) -> None:
    registration = get(event_type)
    context = stream.lower()  # each walking-skeleton event is produced by its own context

    assert registration.type == registration.subject == event_type
    assert (registration.context, registration.event, registration.major) == (context, event, 1)
    assert registration.stream == stream
    assert registration.producer == context
    assert registration.source == f"fursa/{context}"
    assert registration.dataschema == f"urn:fursa:schema:{event_type}"
    assert registration.schema_file == f"{event_type}.json"
    assert registration.stable is True
    assert for_model(registration.model) is registration


def test_streams_are_contexts_upper_cased() -> None:
    assert stream_for("enrollment") == "ENROLLMENT"
    assert stream_for("partner") == "PARTNER"
    assert stream_subject("enrollment") == "fursa.enrollment.>"


def test_unknown_context_has_no_stream() -> None:
    with pytest.raises(ValueError, match="unknown context 'payroll'"):
        stream_for("payroll")
    with pytest.raises(ValueError, match="unknown context"):
        stream_subject("payroll")


def test_unknown_type_is_a_key_error() -> None:
    with pytest.raises(KeyError, match=r"fursa\.enrollment\.nope\.v1"):
        get("fursa.enrollment.nope.v1")


def test_the_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        registry()["fursa.x.y.v1"] = get("fursa.enrollment.learner-enrolled.v1")  # type: ignore[index]


@pytest.mark.parametrize(
    "event_type",
    [
        "fursa.enrollment.LearnerEnrolled.v1",
        "fursa.enrollment.learner_enrolled.v1",
        "fursa.enrollment.learner-enrolled",
        "fursa.enrollment.learner-enrolled.v0",
        "fursa.enrollment.learner-enrolled.1",
        "fursa.enrollment.learner.enrolled.v1",
        "other.enrollment.learner-enrolled.v1",
        "fursa.enrollment.learner-enrolled.v1.",
        "fursa.enrollment.*.v1",
    ],
)
def test_malformed_types_are_refused(event_type: str) -> None:
    with pytest.raises(ValueError, match="does not follow"):
        register(event_type, producer="enrollment", stable=False)


def test_unknown_context_or_producer_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown context"):
        register("fursa.payroll.salary-paid.v1", producer="enrollment", stable=False)
    with pytest.raises(ValueError, match="unknown producer"):
        register("fursa.enrollment.learner-moved.v1", producer="payroll", stable=False)


def test_a_type_or_model_is_registered_once() -> None:
    before = dict(registry())

    class Impostor(EventData):
        pass

    with pytest.raises(ValueError, match="already registered"):
        register("fursa.enrollment.learner-enrolled.v1", producer="enrollment", stable=False)(
            Impostor
        )
    with pytest.raises(ValueError, match="already registered"):
        register("fursa.enrollment.learner-enrolled.v2", producer="enrollment", stable=False)(
            LearnerEnrolled
        )
    assert dict(registry()) == before


def test_only_event_data_can_be_registered() -> None:
    class NotEventData:
        pass

    with pytest.raises(TypeError, match="must subclass EventData"):
        register("fursa.enrollment.thing-happened.v1", producer="enrollment", stable=False)(
            NotEventData  # type: ignore[type-var]
        )


def test_every_event_type_is_stable_so_its_schema_only_changes_compatibly() -> None:
    assert [t for t in all_types() if not get(t).stable] == []
