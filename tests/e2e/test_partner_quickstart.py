"""The partner quickstart (docs/partners.md) works as written, against a real platform.

The examples the document shows are the files under docs/examples, included verbatim (checked
here). A partner is onboarded with ``fursa partner add`` (NATS user and webhook endpoint),
learners go through the platform, and then, as a partner would run them:

* ``partner_webhook.py`` receives the signed webhooks and verifies every signature (a forged
  one is refused with 401);
* ``partner_consumer.py`` reads the partner feed through its durable with its inbox prefix, and
  a second run goes on where the first stopped (no event twice).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from fursa.cli.demo import run_demo
from fursa.cli.main import app
from fursa.cli.platform import SERVICES, Platform
from fursa.shared.natsserver import free_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
QUICKSTART = ROOT / "docs" / "partners.md"
LEARNERS = 2
EVENTS = [
    "fursa.partner.learner-enrolled.v1",
    "fursa.partner.training-completed.v1",
    "fursa.partner.certificate-issued.v1",
]


def test_the_quickstart_shows_the_tested_examples_verbatim() -> None:
    text = QUICKSTART.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    for example in ("partner_consumer.py", "partner_webhook.py"):
        assert (EXAMPLES / example).read_text() in blocks, example
    # And the document names the rules the server enforces.
    assert "_INBOX_" in text
    assert "pull" in text


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_partner_follows_the_quickstart(platform: Platform, tmp_path: Path) -> None:
    assert platform.nats is not None
    hook_port = free_port()
    credentials = tmp_path / "acme.json"
    added = CliRunner().invoke(
        app,
        [
            "partner",
            "add",
            "acme",
            "--nats-dir",
            str(platform.var_dir / "nats"),
            "--notify-url",
            platform.url("notify"),
            "--webhook-url",
            f"http://127.0.0.1:{hook_port}/fursa",
            *(option for event in EVENTS for option in ("--events", event)),
            "--credentials-file",
            str(credentials),
        ],
    )
    assert added.exit_code == 0, added.output
    secret = json.loads(credentials.read_text())["webhook_secret"]

    received = tmp_path / "webhooks.jsonl"
    with received.open("wb") as out:
        receiver = subprocess.Popen(
            [sys.executable, str(EXAMPLES / "partner_webhook.py"), f"--port={hook_port}"],
            stdout=out,
            env={**os.environ, "FURSA_WEBHOOK_SECRET": secret},
        )
    try:
        # A forged request is refused and not handled.
        deadline = time.monotonic() + 30
        while True:
            try:
                forged = httpx.post(
                    f"http://127.0.0.1:{hook_port}/fursa",
                    content=b'{"id": "forged"}',
                    headers={
                        "webhook-id": "msg_forged",
                        "webhook-timestamp": str(int(time.time())),
                        "webhook-signature": "v1,bm90IGEgc2lnbmF0dXJl",
                    },
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert forged.status_code == 401

        urls = {name: platform.url(name) for name in SERVICES}
        result = asyncio.run(run_demo(urls, LEARNERS, 60))
        assert result.certificates == LEARNERS

        def certificates_in(lines: list[dict[str, Any]]) -> int:
            return sum(line["type"] == EVENTS[2] for line in lines)

        deadline = time.monotonic() + 120
        while certificates_in(_lines(received)) < LEARNERS:
            assert time.monotonic() < deadline, received.read_text()
            time.sleep(0.2)
    finally:
        receiver.terminate()
        receiver.wait(10)
    hooks = _lines(received)
    assert {line["type"] for line in hooks} == set(EVENTS)
    assert "forged" not in {line["id"] for line in hooks}

    # The feed, read with the consumer of the quickstart; a second run resumes its durable.
    read: list[dict[str, Any]] = []
    runs = 0
    deadline = time.monotonic() + 120
    while certificates_in(read) < LEARNERS:
        assert time.monotonic() < deadline, read
        consumer = subprocess.run(
            [
                sys.executable,
                str(EXAMPLES / "partner_consumer.py"),
                str(credentials),
                f"--server={platform.nats.url}",
                "--idle-exit=3",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert consumer.returncode == 0, consumer.stderr
        read += [json.loads(line) for line in consumer.stdout.splitlines()]
        runs += 1
    ids = [event["id"] for event in read]
    assert len(ids) == len(set(ids)), "an event was read twice"
    assert {event["type"] for event in read} >= set(EVENTS)
    # The same events as the webhooks carried (the feed holds every partner event).
    assert {hook["id"] for hook in hooks} <= set(ids)
    again = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "partner_consumer.py"),
            str(credentials),
            f"--server={platform.nats.url}",
            "--idle-exit=2",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout == "", "the durable went on where it stopped: nothing new"
