"""Personal data travels only in the `pii` block of internal events."""

from collections.abc import Iterator
from typing import Any

import pytest

from fursa.shared.contracts import LearnerEnrolled, LearnerPII, NotificationSent, all_types, get
from fursa.shared.contracts.envelope import event_schema

# Fragments of field names that denote personal data (or a way to reach a person).
_PERSONAL = (
    "name",
    "phone",
    "email",
    "mail",
    "birth",
    "address",
    "guardian",
    "sex",
    "cin",
    "massar",
    "nationality",
)
# Names that match a fragment but name no person: a center's names are printed on diplomas.
_NOT_PERSONAL = {"center_name", "center_name_ar"}


def _field_names(schema: dict[str, Any], node: dict[str, Any], skip: str) -> Iterator[str]:
    """Every property name reachable from `node`, not descending into properties `skip`."""
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].removeprefix("#/$defs/")]
    for branch in node.get("anyOf", []):
        yield from _field_names(schema, branch, skip)
    if "items" in node:
        yield from _field_names(schema, node["items"], skip)
    for name, child in node.get("properties", {}).items():
        yield name
        if name != skip:
            yield from _field_names(schema, child, skip)


def test_learner_enrolled_top_level_fields_carry_no_personal_data() -> None:
    assert set(LearnerEnrolled.model_fields) == {
        "enrollment_id",
        "learner_id",
        "association_id",
        "center_id",
        "region_code",
        "province_code",
        "pathway",
        "school_year",
        "enrolled_on",
        "promoted_from_waitlist",
        "center_name",
        "center_name_ar",
        "pii",
    }


def test_the_pii_block_holds_the_personal_data() -> None:
    assert {
        "first_name_ar",
        "last_name_ar",
        "first_name_latin",
        "last_name_latin",
        "birth_date",
        "birth_place_ar",
        "birth_place_fr",
        "sex",
        "nationality",
        "massar_code",
        "guardian",
        "contact",
        "consent",
    } == set(LearnerPII.model_fields)


@pytest.mark.parametrize("event_type", all_types())
def test_no_personal_field_outside_pii(event_type: str) -> None:
    schema = event_schema(event_type, get(event_type).model)

    outside_pii = set(_field_names(schema, schema["properties"]["data"], skip="pii"))
    outside_pii -= _NOT_PERSONAL

    personal = {name for name in outside_pii if any(part in name for part in _PERSONAL)}
    assert personal == set()


def test_the_check_would_see_personal_data() -> None:
    schema = event_schema(
        "fursa.enrollment.learner-enrolled.v1", get("fursa.enrollment.learner-enrolled.v1").model
    )

    everything = set(_field_names(schema, schema["properties"]["data"], skip=""))

    assert {"first_name_ar", "birth_date", "phone", "email"} <= everything


def test_notification_sent_names_no_address() -> None:
    assert not {"phone", "email", "address", "recipient"} & set(NotificationSent.model_fields)
