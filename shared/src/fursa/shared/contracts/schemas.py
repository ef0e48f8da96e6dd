"""The committed JSON Schemas of all events, one file per type: `schemas/<type>.json`.

Run ``python -m fursa.shared.contracts.schemas`` to regenerate them after changing a contract,
and ``python -m fursa.shared.contracts.schemas --check`` (CI, tests) to verify that the
committed files are exactly what the code generates.
"""

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fursa.shared.contracts import registry
from fursa.shared.contracts.compat import check_stable
from fursa.shared.contracts.envelope import event_schema

SCHEMA_DIR = Path(__file__).parent / "schemas"
"""Where the schemas are committed (inside the package, so they ship with it)."""

REGENERATE = "python -m fursa.shared.contracts.schemas"


class IncompatibleSchemaError(ValueError):
    """A stable type's schema changed incompatibly: it needs a new major version instead."""


def generate_all() -> dict[str, dict[str, Any]]:
    """The JSON Schema of every registered type (the whole event), by type."""
    return {
        event_type: event_schema(event_type, registry.get(event_type).model)
        for event_type in registry.all_types()
    }


def render(schema: Mapping[str, Any]) -> str:
    """A schema as committed: sorted keys, 2-space indent, UTF-8 text, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def check(directory: Path = SCHEMA_DIR) -> list[str]:
    """How the files in `directory` differ from what the code generates (empty: identical):
    missing, stale or orphaned files, and breaking changes to stable types."""
    generated = generate_all()
    committed = _committed_files(directory)
    problems: list[str] = []
    for event_type, schema in generated.items():
        path = directory / registry.get(event_type).schema_file
        if event_type not in committed:
            problems.append(f"{path}: missing; run {REGENERATE}")
        elif path.read_text(encoding="utf-8") != render(schema):
            problems.append(f"{path}: differs from the generated schema; run {REGENERATE}")
    problems.extend(
        f"{path}: no registered event type {event_type}"
        for event_type, path in committed.items()
        if event_type not in generated
    )
    problems.extend(check_stable(directory))
    return problems


def write_all(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Make `directory` match the code: write changed schemas, delete orphaned ones.

    Returns the paths written or deleted. Raises :class:`IncompatibleSchemaError`, writing
    nothing, when :func:`~fursa.shared.contracts.compat.check_stable` finds a problem: a stable
    type's committed file is the baseline it is held to, so it is never overwritten with an
    incompatible schema (nor re-created from the code once lost; restore it from git).
    """
    breaking = check_stable(directory)
    if breaking:
        raise IncompatibleSchemaError(
            "stable event types would change incompatibly (publish a new major version "
            "instead):\n" + "\n".join(breaking)
        )
    generated = generate_all()
    directory.mkdir(parents=True, exist_ok=True)
    changed: list[Path] = []
    for event_type, schema in generated.items():
        path = directory / registry.get(event_type).schema_file
        text = render(schema)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    for event_type, path in _committed_files(directory).items():
        if event_type not in generated:
            path.unlink()
            changed.append(path)
    return changed


def _committed_files(directory: Path) -> dict[str, Path]:
    return {path.name.removesuffix(".json"): path for path in sorted(directory.glob("*.json"))}


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write the schemas, or with ``--check`` verify them (exit status 1)."""
    parser = argparse.ArgumentParser(
        prog=REGENERATE, description="Generate the committed JSON Schemas of Fursa's events."
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; fail if the committed schemas differ from the generated ones",
    )
    args = parser.parse_args(argv)
    if args.check:
        problems = check(SCHEMA_DIR)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    try:
        changed = write_all(SCHEMA_DIR)
    except IncompatibleSchemaError as exc:
        print(exc, file=sys.stderr)
        return 1
    for path in changed:
        print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
