"""The partner event catalog, generated from the partner contracts: an AsyncAPI 3.0 document
and the JSON Schema of each partner event, each with an example, enough for a partner
engineer to subscribe from it alone. Notify serves it (``/partner/...``) and
``python -m fursa.notify.partner_catalog docs/events/partner`` writes it (``--check``: fail
when the committed files differ; ``make generated`` runs the check).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from fursa.shared.contracts import envelope_model
from fursa.shared.contracts.envelope import event_schema
from fursa.shared.contracts.partner import REFERRING_PARTNER_ONLY
from fursa.shared.contracts.registry import Registration, registry
from fursa.shared.messaging.streams import STREAMS

PARTNER_STREAM = next(spec for spec in STREAMS if spec.name == "PARTNER")
ASYNCAPI_FILE = "asyncapi.json"
SCHEMA_DIR = "schemas"
_DEFINITIONS = "#/$defs/"
_COMPONENTS = "#/components/schemas/"
# What makes a schema a document of its own: in the AsyncAPI document its definitions are
# components and its dialect is the document's schema format.
_STANDALONE_ONLY = ("$schema", "$id", "$defs")

_EXAMPLE_ENVELOPE = {
    "specversion": "1.0",
    "id": "0193a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6c",
    "source": "fursa/notify",
    "time": "2026-07-10T09:30:00Z",
    "datacontenttype": "application/json",
    "correlationid": "0193a3c4-5b6d-7e8f-9a0b-000000000001",
    "causationid": "0193a3c4-5b6d-7e8f-9a0b-000000000002",
    "sequence": 1,
}

_SIGNATURE_NOTE = (
    "Webhook calls carry the same JSON as body, signed per the Standard Webhooks "
    "specification: `webhook-id` (the same for every retry and re-delivery of one message), "
    "`webhook-timestamp` (Unix seconds of the attempt) and `webhook-signature` "
    "(`v1,<base64 HMAC-SHA256 of id.timestamp.body>` for each current secret, space-"
    "separated; during a rotation's grace period the old secret signs too). Answer 2xx to "
    "acknowledge; 410 disables the endpoint (until `PATCH .../endpoints/{id}` with "
    '`{"enabled": true}` switches it on again); other answers and timeouts are retried with '
    "exponential backoff."
)


_REFERRING_PARTNER_NOTE = (
    "Webhook only, and only to the partner that made the referral (the agreement names its "
    "`partner_id`): never on the PARTNER stream, which every partner reads whole."
)


def partner_types() -> list[Registration]:
    """The partner event types, sorted."""
    return [spec for t, spec in sorted(registry().items()) if spec.context == "partner"]


def example_event(spec: Registration) -> dict[str, Any]:
    """A whole example event of ``spec`` (validated against its model)."""
    data = spec.model.model_json_schema()["examples"][0]
    subject = (
        data.get("enrollment_id")
        or data.get("certificate_id")
        or data.get("referral_id")
        or data["enrollment_ids"][0]
    )
    example = {
        **_EXAMPLE_ENVELOPE,
        "type": spec.type,
        "subject": subject,
        "dataschema": spec.dataschema,
        "data": data,
    }
    envelope_model(spec.type).model_validate(example)
    return example


@cache
def partner_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of each partner event type (the whole event), with an example."""
    return {
        spec.type: {**event_schema(spec.type, spec.model), "examples": [example_event(spec)]}
        for spec in partner_types()
    }


def _key(event_type: str) -> str:
    return event_type.removeprefix("fursa.partner.").replace(".", "_").replace("-", "_")


def _to_components(schema: Any) -> Any:
    """``schema`` with its references to ``#/$defs/X`` pointing at ``#/components/schemas/X``."""
    if isinstance(schema, dict):
        return {
            key: (
                _COMPONENTS + value.removeprefix(_DEFINITIONS)
                if key == "$ref" and isinstance(value, str) and value.startswith(_DEFINITIONS)
                else _to_components(value)
            )
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_to_components(item) for item in schema]
    return schema


def component_schemas(schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The partner events' schemas and the definitions they share (``Pathway``...), each once,
    as AsyncAPI components named by their titles.

    A standalone schema resolves ``#/$defs/...`` against itself; inside an AsyncAPI document
    the standard tools resolve it against the document, so the definitions move to
    ``components/schemas`` and their references follow.
    """
    components: dict[str, Any] = {}
    for schema in schemas.values():
        event = {key: value for key, value in schema.items() if key not in _STANDALONE_ONLY}
        for name, definition in {**schema.get("$defs", {}), schema["title"]: event}.items():
            component = _to_components(definition)
            if components.setdefault(name, component) != component:
                raise ValueError(f"partner schemas define {name} in two different ways")
    return dict(sorted(components.items()))


@cache
def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the partner feed."""
    schemas = partner_schemas()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec in partner_types():
        key = _key(spec.type)
        schema = schemas[spec.type]
        messages[key] = {
            "name": spec.type,
            "title": spec.type,
            "summary": (spec.model.__doc__ or "").strip().split("\n\n")[0],
            "contentType": "application/cloudevents+json",
            "payload": {"$ref": _COMPONENTS + schema["title"]},
            "examples": [{"name": "example", "payload": schema["examples"][0]}],
        }
        description = (spec.model.__doc__ or "").strip()
        if spec.type in REFERRING_PARTNER_ONLY:
            description += " " + _REFERRING_PARTNER_NOTE
        channels[key] = {
            "address": spec.type,
            "title": spec.type,
            "description": description,
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
        }
        operations[f"receive_{key}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{key}"},
            "summary": f"Partners receive {spec.type}.",
            "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Fursa partner event feed",
            "version": "1.0.0",
            "description": (
                "Events of the Second Chance School programme that partner organisations may "
                "know of, without personal data: enrollments are known by their id only. Read "
                f"them from the JetStream stream `{PARTNER_STREAM.name}` (subjects "
                f"`{', '.join(PARTNER_STREAM.subjects)}`, retained "
                f"{PARTNER_STREAM.max_age_s // 86400} days: replay from any point in time with "
                "a consumer of your partner NATS account), or receive them on a webhook "
                "endpoint registered with `POST /partners/{partner_id}/endpoints`. Every "
                "message is a CloudEvents 1.0 structured JSON event; `subject` is the "
                "enrollment, certificate or referral it is about and `sequence` increases per "
                "subject (ignore an event older than one already applied). A referral's status "
                "reaches only its referring partner, by webhook (see its channel). "
                + _SIGNATURE_NOTE
            ),
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": {
            "nats": {
                "host": "nats.fursa.example:4222",
                "protocol": "nats",
                "description": "The platform's NATS, reached with your partner account's "
                "credentials (from `fursa partner add`).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": component_schemas(schemas)},
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def files() -> dict[str, str]:
    """Every file of the catalog, by path relative to its directory."""
    found = {ASYNCAPI_FILE: render(asyncapi_document())}
    for event_type, schema in partner_schemas().items():
        found[f"{SCHEMA_DIR}/{event_type}.json"] = render(schema)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the partner event catalog.")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    directory: Path = args.directory
    expected = files()
    present = (
        {
            str(path.relative_to(directory)): path
            for path in directory.rglob("*.json")
            if path.is_file()
        }
        if directory.exists()
        else {}
    )
    if args.check:
        stale = [
            name
            for name, text in expected.items()
            if name not in present or present[name].read_text(encoding="utf-8") != text
        ]
        stale += [name for name in present if name not in expected]
        for name in stale:
            print(f"{directory / name} is not what the code generates", file=sys.stderr)
        if stale:
            print("run: python -m fursa.notify.partner_catalog " + str(directory), file=sys.stderr)
            return 1
        print(f"{directory} is up to date")
        return 0
    for name, path in present.items():
        if name not in expected:
            path.unlink()
    for name, text in expected.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    print(f"wrote {len(expected)} files to {directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
