"""The walking skeleton across four real service processes, a real nats-server and real HTTP."""

from __future__ import annotations

import pytest

from fursa.cli.demo import run_demo
from fursa.cli.platform import SERVICES, Platform


@pytest.mark.slow
async def test_enrolled_learner_reaches_certificate_and_guardian_notification(
    platform: Platform,
) -> None:
    urls = {name: platform.url(name) for name in SERVICES}
    result = await run_demo(urls, learners=10, timeout_s=60)
    assert result.enrolled == 10
    assert result.completed == 10
    assert result.certificates == 10
    # Guardians 4 and 9 declined notifications: eight messages, none to them.
    assert result.expected_notifications == 8
    assert result.notifications == 8
    sink = (platform.var_dir / "notify-sink" / "sms.jsonl").read_text().splitlines()
    assert len(sink) == 8
