"""The CloudEvents envelope: construction, serialisation, tolerant parsing and its errors."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from fursa.shared.contracts import (
    CloudEvent,
    EventData,
    InvalidEvent,
    LearnerEnrolled,
    envelope_model,
    new_event,
    parse_event,
    to_json_bytes,
)


def _wire(data: EventData, **overrides: Any) -> dict[str, Any]:
    """A published event as a JSON object, to be altered by a test."""
    event = new_event(data, subject="aggregate-1", sequence=3)
    wire: dict[str, Any] = json.loads(to_json_bytes(event))
    wire.update(overrides)
    return wire


def _raw(wire: dict[str, Any]) -> bytes:
    return json.dumps(wire, ensure_ascii=False).encode()


def test_new_event_fills_the_envelope(enrolled: LearnerEnrolled) -> None:
    before = datetime.now(UTC)

    event = new_event(enrolled, subject=enrolled.learner_id, sequence=1)

    assert event.specversion == "1.0"
    assert uuid.UUID(event.id).version == 7
    assert event.source == "fursa/enrollment"
    assert event.type == "fursa.enrollment.learner-enrolled.v1"
    assert event.dataschema == "urn:fursa:schema:fursa.enrollment.learner-enrolled.v1"
    assert event.datacontenttype == "application/json"
    assert event.time.utcoffset() == timedelta(0)
    assert before <= event.time <= datetime.now(UTC)
    assert event.subject == enrolled.learner_id
    assert event.sequence == 1
    assert event.correlationid == event.id  # a new chain starts here
    assert event.causationid is None
    assert event.data is enrolled


def test_new_event_keeps_the_chain_it_is_given(enrolled: LearnerEnrolled) -> None:
    event = new_event(
        enrolled,
        source="fursa/enrollment",
        subject=enrolled.learner_id,
        sequence=2,
        correlationid="req-42",
        causationid="0192f0c4-5b1e-7c3a-9d2e-000000000001",
    )

    assert (event.correlationid, event.causationid) == (
        "req-42",
        "0192f0c4-5b1e-7c3a-9d2e-000000000001",
    )


def test_event_ids_are_unique_and_time_ordered(enrolled: LearnerEnrolled) -> None:
    ids = [new_event(enrolled, subject="s", sequence=1).id for _ in range(50)]

    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)


def test_new_event_refuses_another_services_source(enrolled: LearnerEnrolled) -> None:
    with pytest.raises(ValueError, match="published by fursa/enrollment"):
        new_event(enrolled, source="fursa/training", subject="s", sequence=1)


def test_new_event_refuses_an_unregistered_model() -> None:
    class Unregistered(EventData):
        pass

    with pytest.raises(KeyError, match="Unregistered"):
        new_event(Unregistered(), subject="s", sequence=1)


def test_sequence_starts_at_one(enrolled: LearnerEnrolled) -> None:
    with pytest.raises(ValidationError, match="sequence"):
        new_event(enrolled, subject="s", sequence=0)


def test_every_event_type_round_trips(sample: EventData) -> None:
    event = new_event(sample, subject="aggregate-1", sequence=7, causationid="cause-1")

    parsed = parse_event(to_json_bytes(event))

    assert parsed == event
    assert type(parsed) is envelope_model(event.type)
    assert to_json_bytes(parsed) == to_json_bytes(event)


def test_wire_format_is_structured_cloudevents(enrolled: LearnerEnrolled) -> None:
    wire = _wire(enrolled)

    assert set(wire) == {
        "specversion",
        "id",
        "source",
        "type",
        "time",
        "subject",
        "datacontenttype",
        "dataschema",
        "correlationid",
        "causationid",
        "sequence",
        "data",
    }
    assert wire["time"].endswith("Z")
    assert wire["data"]["enrolled_on"] == "2024-09-16"
    assert wire["data"]["pii"]["first_name_ar"] == "عبد الله"


def test_an_envelope_built_by_hand_serialises_its_whole_data(enrolled: LearnerEnrolled) -> None:
    event = new_event(enrolled, subject="s", sequence=1)
    fields = {name: getattr(event, name) for name in CloudEvent.model_fields}
    by_hand: CloudEvent[LearnerEnrolled] = CloudEvent(**fields)

    assert to_json_bytes(by_hand) == to_json_bytes(event)


def test_time_with_an_offset_is_normalised_to_utc(enrolled: LearnerEnrolled) -> None:
    event = parse_event(_raw(_wire(enrolled, time="2024-09-16T10:30:00+01:00")))

    assert event.time == datetime(2024, 9, 16, 9, 30, tzinfo=UTC)
    assert event.time.utcoffset() == timedelta(0)


def test_unknown_fields_are_ignored(enrolled: LearnerEnrolled) -> None:
    wire = _wire(enrolled, traceparent="00-abc-def-01", partitionkey="x")
    wire["data"]["added_in_v1_1"] = {"anything": [1, 2]}
    wire["data"]["pii"]["nickname"] = "Abdou"
    wire["data"]["pii"]["guardian"]["relationship"] = "mother"

    event = parse_event(_raw(wire))

    assert event.data == enrolled
    assert "added_in_v1_1" not in json.loads(to_json_bytes(event))["data"]


def test_optional_fields_may_be_absent(enrolled: LearnerEnrolled) -> None:
    wire = _wire(enrolled)
    for optional in ("causationid", "datacontenttype"):
        del wire[optional]
    del wire["data"]["promoted_from_waitlist"]
    del wire["data"]["pii"]["guardian"]["email"]

    event = parse_event(_raw(wire))

    assert event.causationid is None
    assert event.data.promoted_from_waitlist is False


@pytest.mark.parametrize(
    ("alter", "reason", "field"),
    [
        pytest.param(lambda w: b"{not json", "not_json", None, id="not-json"),
        pytest.param(lambda w: b"", "not_json", None, id="empty"),
        pytest.param(lambda w: b"[1, 2]", "invalid_envelope", "(message)", id="not-an-object"),
        pytest.param(lambda w: _raw({**w, "type": None}), "invalid_envelope", "type", id="no-type"),
        pytest.param(
            lambda w: _raw({**w, "type": "fursa.enrollment.learner-teleported.v1"}),
            "unknown_type",
            "type",
            id="unknown-type",
        ),
        pytest.param(
            lambda w: _raw({**w, "specversion": "0.3"}),
            "invalid_envelope",
            "specversion",
            id="spec-version",
        ),
        pytest.param(
            lambda w: _raw({**w, "sequence": 0}), "invalid_envelope", "sequence", id="sequence"
        ),
        pytest.param(
            lambda w: _raw({**w, "id": str(uuid.uuid4())}), "invalid_envelope", "id", id="not-v7"
        ),
        pytest.param(
            lambda w: _raw({**w, "time": "2024-09-16T10:30:00"}),
            "invalid_envelope",
            "time",
            id="naive-time",
        ),
        pytest.param(
            lambda w: _raw({**w, "data": {**w["data"], "learner_id": "42"}}),
            "invalid_data",
            "data.learner_id",
            id="bad-id",
        ),
        pytest.param(
            lambda w: _raw({**w, "data": {**w["data"], "pathway": "astronaut"}}),
            "invalid_data",
            "data.pathway",
            id="bad-enum",
        ),
        pytest.param(
            lambda w: _raw({**w, "data": {**w["data"], "school_year": "2024/2026"}}),
            "invalid_data",
            "data.school_year",
            id="bad-school-year",
        ),
        pytest.param(
            lambda w: _raw({**w, "data": {k: v for k, v in w["data"].items() if k != "pii"}}),
            "invalid_data",
            "data.pii",
            id="missing-pii",
        ),
    ],
)
def test_parse_event_rejects_with_the_field_at_fault(
    enrolled: LearnerEnrolled, alter: Any, reason: str, field: str | None
) -> None:
    raw = alter(_wire(enrolled))

    with pytest.raises(InvalidEvent) as caught:
        parse_event(raw)

    assert caught.value.reason == reason
    assert caught.value.field == field
    if field is not None:
        assert field in str(caught.value)


def test_invalid_nested_personal_data_is_located(enrolled: LearnerEnrolled) -> None:
    wire = _wire(enrolled)
    wire["data"]["pii"]["guardian"]["phone"] = "0612345678"
    wire["data"]["pii"]["first_name_ar"] = "Abdellah"  # Latin script in the Arabic field

    with pytest.raises(InvalidEvent) as caught:
        parse_event(_raw(wire))

    assert caught.value.reason == "invalid_data"
    assert caught.value.field == "data.pii.first_name_ar"
    assert "data.pii.guardian.phone" in str(caught.value)


def test_errors_never_echo_the_input(enrolled: LearnerEnrolled) -> None:
    wire = _wire(enrolled)
    wire["data"]["pii"]["guardian"]["phone"] = "Fatima +212 6 12 34 56 78"

    with pytest.raises(InvalidEvent) as caught:
        parse_event(_raw(wire))

    assert "Fatima" not in str(caught.value)
    assert "12 34" not in str(caught.value)
    # Nor through a chained pydantic error, whose text shows the input.
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_invalid_event_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not JSON"):
        parse_event(b"\xff")
