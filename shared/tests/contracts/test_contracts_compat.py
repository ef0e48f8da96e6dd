"""The compatibility checker, on synthetic models run through the real schema generator."""

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field

from fursa.shared.contracts import EventData
from fursa.shared.contracts.compat import check_compatible
from fursa.shared.contracts.envelope import event_schema

_TYPE = "fursa.enrollment.thing-happened.v1"


def _changes(old: type[EventData], new: type[EventData]) -> list[str]:
    return check_compatible(event_schema(_TYPE, old), event_schema(_TYPE, new))


class Base(EventData):
    thing_id: str
    count: int
    note: str | None = None


def test_an_unchanged_schema_is_compatible() -> None:
    assert _changes(Base, Base) == []


def test_an_added_optional_field_passes() -> None:
    class AddedOptional(Base):
        colour: str | None = None
        tags: list[str] = Field(default_factory=list)

    assert _changes(Base, AddedOptional) == []


def test_a_removed_field_fails() -> None:
    class Removed(EventData):
        thing_id: str
        note: str | None = None

    assert _changes(Base, Removed) == ["data.count: field removed"]


def test_a_removed_optional_field_fails_too() -> None:
    class RemovedOptional(EventData):
        thing_id: str
        count: int

    assert _changes(Base, RemovedOptional) == ["data.note: field removed"]


def test_a_renamed_field_fails() -> None:
    class Renamed(EventData):
        thing_id: str
        quantity: int
        note: str | None = None

    assert _changes(Base, Renamed) == [
        "data.count: field removed",
        "data.quantity: new required field",
    ]


def test_a_changed_type_fails() -> None:
    class ChangedType(EventData):
        thing_id: str
        count: str
        note: str | None = None

    assert _changes(Base, ChangedType) == ["data.count: type changed from integer to string"]


def test_a_new_required_field_fails() -> None:
    class NewRequired(Base):
        colour: str

    assert _changes(Base, NewRequired) == ["data.colour: new required field"]


def test_an_optional_field_becoming_required_fails() -> None:
    class NowRequired(EventData):
        thing_id: str
        count: int
        note: str

    assert _changes(Base, NowRequired) == [
        "data.note: optional field became required",
        "data.note: type changed from null | string to string",
    ]


def test_a_default_added_to_a_required_field_passes() -> None:
    class NowDefaulted(EventData):
        thing_id: str
        count: int = 0
        note: str | None = None

    assert _changes(Base, NowDefaulted) == []


def test_a_field_becoming_nullable_fails() -> None:
    class Nullable(EventData):
        thing_id: str
        count: int | None
        note: str | None = None

    assert _changes(Base, Nullable) == ["data.count: type changed from integer to integer | null"]


class Colour(StrEnum):
    RED = "red"
    GREEN = "green"


class ColourWithBlue(StrEnum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class ColourWithoutGreen(StrEnum):
    RED = "red"


class Painted(EventData):
    colour: Colour


class PaintedWithBlue(EventData):
    colour: ColourWithBlue


class PaintedWithoutGreen(EventData):
    colour: ColourWithoutGreen


def test_an_enum_gaining_a_value_passes() -> None:
    assert _changes(Painted, PaintedWithBlue) == []


def test_an_enum_losing_a_value_fails() -> None:
    assert _changes(Painted, PaintedWithoutGreen) == ["data.colour: enum lost value(s) ['green']"]


def test_a_free_field_restricted_to_an_enum_fails() -> None:
    class FreeColour(EventData):
        colour: str

    assert _changes(FreeColour, Painted) == ["data.colour: now restricted to ['green', 'red']"]


class Inner(BaseModel):
    x: int
    y: int


class InnerWithoutY(BaseModel):
    x: int


class Outer(EventData):
    inner: Inner
    items: list[Inner]
    maybe: Inner | None = None


class OuterChanged(EventData):
    inner: InnerWithoutY
    items: list[InnerWithoutY]
    maybe: InnerWithoutY | None = None


def test_nested_objects_arrays_and_optionals_are_followed() -> None:
    assert _changes(Outer, OuterChanged) == [
        "data.inner.y: field removed",
        "data.items[].y: field removed",
        "data.maybe.y: field removed",
    ]


def test_a_changed_item_type_fails() -> None:
    class Numbers(EventData):
        values: list[int]

    class Words(EventData):
        values: list[str]

    assert _changes(Numbers, Words) == ["data.values[]: type changed from integer to string"]


def test_tightened_constraints_fail_and_loosened_ones_pass() -> None:
    class Loose(EventData):
        code: Annotated[str, Field(max_length=10)]
        rate: Annotated[float, Field(ge=0, le=1)]

    class Tight(EventData):
        code: Annotated[str, Field(max_length=5, pattern="^[A-Z]+$")]
        rate: Annotated[float, Field(ge=0.5, le=1)]

    assert _changes(Loose, Tight) == [
        "data.code: maxLength tightened from 10 to 5",
        "data.code: pattern changed from None to '^[A-Z]+$'",
        "data.rate: minimum tightened from 0 to 0.5",
    ]
    assert _changes(Tight, Loose) == []


class Node(BaseModel):
    label: str
    parent: "Node | None" = None
    children: list["Node"] = Field(default_factory=list)


class Tree(EventData):
    root: Node


class UnlabelledNode(BaseModel):
    parent: "UnlabelledNode | None" = None
    children: list["UnlabelledNode"] = Field(default_factory=list)


class UnlabelledTree(EventData):
    root: UnlabelledNode


def test_recursive_models_terminate() -> None:
    assert _changes(Tree, Tree) == []
    assert _changes(Tree, UnlabelledTree) == ["data.root.label: field removed"]


def test_the_envelope_is_checked_too() -> None:
    old = event_schema(_TYPE, Base)
    new: dict[str, Any] = {**old, "required": [*old["required"], "traceparent"]}
    new["properties"] = {**old["properties"], "traceparent": {"type": "string"}}

    assert check_compatible(old, new) == ["traceparent: new required field"]
