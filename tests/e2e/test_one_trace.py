"""One trace from the HTTP enrollment, through outbox, NATS and every consumer, to the
certificate and the guardian's notification — collected from the four service processes by an
OTLP/HTTP receiver. No personal data in any span attribute."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from fursa.cli.demo import complete_trainings, enrollment_body
from fursa.cli.platform import Platform
from fursa.shared.auth import dev_authorization


class Receiver:
    """The smallest OTLP/HTTP traces endpoint: keeps (service, span name, trace id, attributes)."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                for resource_spans in request.resource_spans:
                    resource = {
                        a.key: a.value.string_value for a in resource_spans.resource.attributes
                    }
                    for scope in resource_spans.scope_spans:
                        for span in scope.spans:
                            receiver.spans.append(
                                {
                                    "service": resource.get("service.name"),
                                    "name": span.name,
                                    "trace_id": span.trace_id.hex(),
                                    "attributes": {
                                        a.key: str(a.value).strip() for a in span.attributes
                                    },
                                }
                            )
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.server.shutdown()


@pytest.fixture
def platform_env(receiver: Receiver) -> dict[str, str]:
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "100"}


@pytest.mark.slow
async def test_enrollment_to_guardian_notification_is_one_trace(
    platform: Platform, receiver: Receiver
) -> None:
    trace_id = secrets.token_hex(16)

    def traced() -> dict[str, str]:
        # The client's own span: the enrolment and, later, the completion belong to it.
        return {
            **dev_authorization(),
            "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01",
        }

    async with httpx.AsyncClient(timeout=30) as http:
        center = (
            await http.get(f"{platform.url('enrollment')}/centers", headers=dev_authorization())
        ).json()[0]
        body = enrollment_body(7, center["id"])
        enrolled = (
            (
                await http.post(
                    f"{platform.url('enrollment')}/enrollments", json=body, headers=traced()
                )
            )
            .raise_for_status()
            .json()
        )
        deadline = time.monotonic() + 30
        trainings: list[dict[str, Any]] = []
        while not trainings and time.monotonic() < deadline:
            trainings = (
                await http.get(
                    f"{platform.url('training')}/trainings",
                    params={"enrollment_id": enrolled["enrollment_id"]},
                    headers=dev_authorization(),
                )
            ).json()
            await asyncio.sleep(0.1)
    async with httpx.AsyncClient(timeout=30, headers=traced()) as http:
        completed = await complete_trainings(http, platform.url("training"), trainings)
    assert completed == 1

    wanted = {
        ("fursa-enrollment", "POST /enrollments"),
        ("fursa-enrollment", "fursa.enrollment.learner-enrolled.v1 publish"),
        ("fursa-training", "fursa.enrollment.learner-enrolled.v1 process"),
        ("fursa-certification", "fursa.enrollment.learner-enrolled.v1 process"),
        ("fursa-notify", "fursa.enrollment.learner-enrolled.v1 process"),
        ("fursa-training", "fursa.training.training-completed.v1 publish"),
        ("fursa-certification", "fursa.training.training-completed.v1 process"),
        ("fursa-certification", "fursa.certification.certificate-issued.v1 publish"),
        ("fursa-notify", "fursa.certification.certificate-issued.v1 process"),
        ("fursa-notify", "fursa.notify.notification-sent.v1 publish"),
    }
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seen = {(s["service"], s["name"]) for s in receiver.spans if s["trace_id"] == trace_id}
        if wanted <= seen:
            break
        await asyncio.sleep(0.2)
    assert wanted - seen == set()

    personal = [
        body["learner"]["first_name_latin"],
        body["learner"]["last_name_latin"],
        body["learner"]["first_name_ar"],
        body["guardian"]["phone"],
        body["learner"]["birth_date"],
    ]
    for span in receiver.spans:
        for value in span["attributes"].values():
            assert not any(item in value for item in personal), span
    # The services' logs are JSON lines (with trace ids: test_observability) and carry no
    # personal data either.
    log_lines = [
        json.loads(line)
        for log in (platform.var_dir / "logs").glob("*.log")
        for line in log.read_text().splitlines()
        if line.startswith("{")
    ]
    assert log_lines, "the services wrote no JSON log line"
    for line in log_lines:
        assert not any(item in json.dumps(line, ensure_ascii=False) for item in personal), line
