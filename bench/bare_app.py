"""The baseline for the HTTP benchmarks: a bare ASGI application, no framework, answering the
same routes as the services (same method, path, status and a body of the same size) without
validation, authentication or a database. Run by bench/api.py under the same uvicorn flags."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ENROLLED = json.dumps(
    {
        "enrollment_id": "0192f6b1-0000-7000-8000-000000000000",
        "learner_id": "0192f6b1-0000-7000-8000-000000000001",
        "status": "enrolled",
        "center_id": "7c1e9a4b-3d2f-4b8e-a6c5-0e9d8f7a6b52",
        "association_id": "2f6b1d0e-8a3c-4c57-9e21-5d7a0b4c3e91",
        "pathway": "vocational_training",
        "school_year": "2025/2026",
    }
).encode()
CERTIFICATE = json.dumps(
    {
        "number": "MS-2026-000001",
        "enrollment_id": "0192f6b1-0000-7000-8000-000000000000",
        "learner_id": "0192f6b1-0000-7000-8000-000000000001",
        "status": "active",
        "issued_on": "2026-11-29",
        "verification_url": "http://127.0.0.1/certificates/MS-2026-000001",
    }
).encode()


# GET /enrollments/{id} answers the body the enrollment service gave bench/api.py for the same
# enrollment, byte for byte (the file it names).
_ENROLLMENT_FILE = os.environ.get("FURSA_BENCH_ENROLLMENT_JSON")
ENROLLMENT = Path(_ENROLLMENT_FILE).read_bytes() if _ENROLLMENT_FILE else b"{}"


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:  # read the whole body, as the services do
        message = await receive()
        more = message.get("more_body", False)
    if scope["method"] == "POST" and scope["path"] == "/enrollments":
        status, body = 201, ENROLLED
    elif scope["method"] == "GET" and scope["path"].startswith("/enrollments/"):
        status, body = 200, ENROLLMENT
    elif scope["method"] == "GET" and scope["path"].startswith("/certificates/"):
        status, body = 200, CERTIFICATE
    else:
        status, body = 404, b"{}"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})
