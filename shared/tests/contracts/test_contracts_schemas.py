"""The committed JSON Schemas: generation, the --check logic and the stability guard."""

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from fursa.shared.contracts import all_types, get
from fursa.shared.contracts import registry as registry_module
from fursa.shared.contracts import schemas as schemas_module
from fursa.shared.contracts.compat import check_stable
from fursa.shared.contracts.schemas import (
    REGENERATE,
    SCHEMA_DIR,
    IncompatibleSchemaError,
    check,
    generate_all,
    main,
    render,
    write_all,
)

_ENROLLED = "fursa.enrollment.learner-enrolled.v1"


def test_committed_schemas_are_what_the_code_generates() -> None:
    assert check(SCHEMA_DIR) == []


def test_the_check_command_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check"]) == 0
    assert capsys.readouterr().err == ""


def test_the_command_writes_and_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(schemas_module, "SCHEMA_DIR", tmp_path)

    assert main(["--check"]) == 1
    assert capsys.readouterr().err.count(": missing; run") == len(all_types())
    assert main([]) == 0
    assert capsys.readouterr().out.count("updated ") == len(all_types())
    assert main(["--check"]) == 0


def test_one_schema_per_registered_type() -> None:
    schemas = generate_all()

    assert list(schemas) == all_types()
    for event_type, schema in schemas.items():
        assert schema["$id"] == get(event_type).dataschema
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["properties"]["type"]["const"] == event_type
        assert "data" in schema["required"]


def test_rendering_is_deterministic() -> None:
    schema = generate_all()[_ENROLLED]

    text = render(schema)

    assert text == render(generate_all()[_ENROLLED])
    assert text.endswith("}\n")
    assert text.startswith('{\n  "$defs": {\n')  # sorted keys, two-space indent
    assert json.loads(text) == schema
    assert "عبد" not in text  # no example data leaks into a schema


def test_write_all_writes_then_finds_nothing_to_do(tmp_path: Path) -> None:
    written = write_all(tmp_path)

    assert sorted(path.name for path in written) == [f"{t}.json" for t in all_types()]
    assert check(tmp_path) == []
    assert write_all(tmp_path) == []


def _committed_copy(tmp_path: Path) -> Path:
    directory = tmp_path / "schemas"
    shutil.copytree(SCHEMA_DIR, directory)
    return directory


def test_check_reports_missing_stale_and_orphaned_files(tmp_path: Path) -> None:
    directory = _committed_copy(tmp_path)
    (directory / "fursa.training.training-completed.v1.json").unlink()
    stale = directory / f"{_ENROLLED}.json"
    stale.write_text(stale.read_text(encoding="utf-8").replace("Region", "Area"), "utf-8")
    (directory / "fursa.enrollment.learner-vanished.v1.json").write_text("{}\n", "utf-8")

    problems = check(directory)

    assert len(problems) == 3
    assert "fursa.training.training-completed.v1.json: missing" in problems[1]
    assert f"{_ENROLLED}.json: differs" in problems[0]
    assert "learner-vanished.v1.json: no registered event type" in problems[2]


def test_write_all_repairs_and_removes_orphans(tmp_path: Path) -> None:
    directory = _committed_copy(tmp_path)
    (directory / "fursa.training.training-completed.v1.json").unlink()
    orphan = directory / "fursa.enrollment.learner-vanished.v1.json"
    orphan.write_text("{}\n", "utf-8")

    write_all(directory)

    assert not orphan.exists()
    assert check(directory) == []


@pytest.fixture(autouse=True)
def every_type_is_unstable(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests exercise generation on scratch copies (emptied, edited): every type starts
    unstable here, and the stability tests mark learner-enrolled stable themselves."""
    for event_type in all_types():
        registration = dataclasses.replace(get(event_type), stable=False)
        monkeypatch.setitem(registry_module._by_type, event_type, registration)


@pytest.fixture
def enrolled_is_stable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mark learner-enrolled stable for one test."""
    registration = dataclasses.replace(get(_ENROLLED), stable=True)
    # The registry offers no way to change a registration, by design; tests reach inside.
    monkeypatch.setitem(registry_module._by_type, _ENROLLED, registration)


def _edit_committed(directory: Path, edit: Any) -> Path:
    path = directory / f"{_ENROLLED}.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    edit(schema["$defs"]["LearnerEnrolled"])
    path.write_text(render(schema), encoding="utf-8")
    return path


@pytest.mark.usefixtures("enrolled_is_stable")
def test_a_stable_schema_that_is_unchanged_passes(tmp_path: Path) -> None:
    assert check_stable(_committed_copy(tmp_path)) == []


@pytest.mark.usefixtures("enrolled_is_stable")
def test_a_stable_schema_may_change_compatibly_and_is_regenerated(tmp_path: Path) -> None:
    directory = _committed_copy(tmp_path)

    # The committed baseline predates the optional `promoted_from_waitlist`.
    def drop_optional_field(definition: dict[str, Any]) -> None:
        del definition["properties"]["promoted_from_waitlist"]

    path = _edit_committed(directory, drop_optional_field)

    assert check_stable(directory) == []
    assert check(directory) == [f"{path}: differs from the generated schema; run {REGENERATE}"]
    assert write_all(directory) == [path]
    assert check(directory) == []


@pytest.mark.usefixtures("enrolled_is_stable")
def test_an_incompatible_change_to_a_stable_schema_fails(tmp_path: Path) -> None:
    directory = _committed_copy(tmp_path)

    # The committed baseline had a required field that the code no longer has.
    def add_required_field(definition: dict[str, Any]) -> None:
        definition["properties"]["cohort"] = {"type": "string"}
        definition["required"].append("cohort")

    path = _edit_committed(directory, add_required_field)
    baseline = path.read_text(encoding="utf-8")

    assert check_stable(directory) == [f"{_ENROLLED}: data.cohort: field removed"]
    assert f"{_ENROLLED}: data.cohort: field removed" in check(directory)
    with pytest.raises(IncompatibleSchemaError, match=r"data\.cohort: field removed"):
        write_all(directory)
    assert path.read_text(encoding="utf-8") == baseline  # the baseline is kept


@pytest.mark.usefixtures("enrolled_is_stable")
def test_a_stable_schema_needs_its_committed_baseline(tmp_path: Path) -> None:
    directory = _committed_copy(tmp_path)
    (directory / f"{_ENROLLED}.json").unlink()

    assert check_stable(directory) == [
        f"{_ENROLLED}: stable, but {directory / _ENROLLED}.json is missing"
    ]
    with pytest.raises(IncompatibleSchemaError):
        write_all(directory)


@pytest.mark.usefixtures("enrolled_is_stable")
def test_a_corrupt_stable_baseline_is_reported(tmp_path: Path) -> None:
    directory = _committed_copy(tmp_path)
    (directory / f"{_ENROLLED}.json").write_text("{oops", encoding="utf-8")

    assert "is not valid JSON" in check_stable(directory)[0]
    with pytest.raises(IncompatibleSchemaError):
        write_all(directory)


def test_unstable_schemas_may_change_freely(tmp_path: Path) -> None:
    directory = _committed_copy(tmp_path)

    def add_required_field(definition: dict[str, Any]) -> None:
        definition["properties"]["cohort"] = {"type": "string"}
        definition["required"].append("cohort")

    _edit_committed(directory, add_required_field)

    assert check_stable(directory) == []
    assert write_all(directory) == [directory / f"{_ENROLLED}.json"]
