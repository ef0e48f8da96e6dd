"""The event catalog in docs/events/, generated from the code (never written by hand).

One page: every event type with its producer, stream, consumers (from the topology), meaning
(the data model's docstring), fields and a link to its committed JSON Schema.

``python -m fursa.shared.catalog docs/events`` writes it; ``--check`` fails when the committed
page differs from what the code generates (``make test`` runs the check).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fursa.shared import contracts
from fursa.shared.contracts.registry import get, registry
from fursa.shared.messaging.streams import CONSUMERS

# The committed schemas (contracts/schemas/); named here because mypy takes the folder of the
# same name for the module fursa.shared.contracts.schemas.
SCHEMA_DIR = Path(contracts.__file__).with_name("schemas")

PAGE = "README.md"


def _type_of(schema: Mapping[str, Any], definitions: Mapping[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(_type_of(option, definitions) for option in schema["anyOf"])
    if "enum" in schema:
        return " \\| ".join(f"`{value}`" for value in schema["enum"])
    if schema.get("type") == "array":
        return f"list of {_type_of(schema.get('items', {}), definitions)}"
    kind = str(schema.get("type", "any"))
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def _fields(model_schema: Mapping[str, Any], definitions: Mapping[str, Any]) -> list[str]:
    required = set(model_schema.get("required", ()))
    rows = ["| field | type | required | description |", "|---|---|---|---|"]
    for name, field in model_schema.get("properties", {}).items():
        description = str(field.get("description", "")).replace("\n", " ")
        rows.append(
            f"| `{name}` | {_type_of(field, definitions)} | "
            f"{'yes' if name in required else 'no'} | {description} |"
        )
    return rows


def render(schema_link: str) -> str:
    """The catalog page; ``schema_link`` is the path from the page to the schema directory."""
    lines = [
        "# Event catalog",
        "",
        "Generated from the code by `python -m fursa.shared.catalog docs/events`; do not edit.",
        "Every event is a CloudEvents 1.0 structured JSON message whose `type` is also its NATS",
        "subject; `subject` is the aggregate's id and `sequence` increases per aggregate. Personal",
        "data travels only in a `pii` block of internal events.",
        "",
        "| type | producer | stream | consumed by | schema |",
        "|---|---|---|---|---|",
    ]
    for event_type in sorted(registry()):
        spec = get(event_type)
        consumers = sorted({c.service for c in CONSUMERS if event_type in c.subjects})
        lines.append(
            f"| [`{event_type}`](#{event_type.replace('.', '')}) | {spec.producer} | "
            f"{spec.stream} | {', '.join(consumers) or '—'} | "
            f"[JSON Schema]({schema_link}/{spec.schema_file}) |"
        )
    for event_type in sorted(registry()):
        spec = get(event_type)
        model_schema = spec.model.model_json_schema()
        definitions = model_schema.get("$defs", {})
        lines += ["", f"## {event_type}", "", (spec.model.__doc__ or "").strip(), ""]
        lines += _fields(model_schema, definitions)
        for name, definition in sorted(definitions.items()):
            if definition.get("type") == "object":
                lines += ["", f"`{name}`: {str(definition.get('description', '')).strip()}", ""]
                lines += _fields(definition, definitions)
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    directory: Path = args.directory
    page = directory / PAGE
    text = render(os.path.relpath(SCHEMA_DIR.resolve(), directory.resolve()))
    if args.check:
        if not page.exists() or page.read_text() != text:
            print(f"{page} is not what the code generates: run python -m fursa.shared.catalog")
            return 1
        print(f"{page} is up to date")
        return 0
    directory.mkdir(parents=True, exist_ok=True)
    page.write_text(text)
    print(f"wrote {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
