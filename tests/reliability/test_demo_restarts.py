"""``fursa demo`` rides out services restarting under it, and repeats nothing it should not.

The first test runs the real command against a running platform and kills training, then
notify, while the demo needs them; it must wait for them, exit 0 and print exact counts. The
second loses the answer of the first call of every kind of write the demo makes (the request
reaches the service and commits; the client sees a broken connection): each is tried again,
and the platform ends with each learner once — one enrollment, one training, one certificate.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from fursa.cli.demo import consents, run_demo
from fursa.cli.platform import SERVICES, Platform
from tests.reliability.flow import admin_client, journey_of

LEARNERS = 40
FURSA = Path(sys.executable).parent / "fursa"


async def _restart(
    platform: Platform, service: str, noticed: Callable[[], bool] | None = None
) -> None:
    """kill -9 ``service`` and start it again — once ``noticed()`` holds, when given: a
    service comes back in a fraction of a second, quicker than a client may call it."""
    platform.kill(service)
    if noticed is not None:
        await asyncio.wait_for(_until(noticed), 300)
    platform.start_service(service)
    await asyncio.to_thread(platform.wait_ready, 180, [service])


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.05)


async def _lines(stream: asyncio.StreamReader, into: list[str]) -> None:
    while line := await stream.readline():
        into.append(line.decode())


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_demo_waits_for_restarted_services_and_prints_exact_counts(
    platform: Platform,
) -> None:
    ports = [f"--{name}-port={platform.ports[name]}" for name in SERVICES]
    demo = await asyncio.create_subprocess_exec(
        str(FURSA),
        "demo",
        f"--learners={LEARNERS}",
        # Patient: a service restarting on a loaded machine takes a while to import.
        "--timeout=300",
        *ports,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert demo.stdout is not None
    assert demo.stderr is not None
    said: list[str] = []
    reading = asyncio.create_task(_lines(demo.stderr, said))
    printed = asyncio.create_task(demo.stdout.read())
    try:
        async with admin_client() as http:
            journey = journey_of(platform, http)

            async def trainings_opened() -> bool:
                summary = await journey.get("training", "/trainings/summary")
                return sum(summary.values()) > 0

            async def certificate_issued() -> bool:
                summary = await journey.get("certification", "/certificates/summary")
                return int(summary["issued"]) > 0

            async def demo_running_until(check: Callable[[], Awaitable[bool]]) -> bool:
                """Whether ``check`` came to hold while the demo ran (not if it stopped)."""
                while demo.returncode is None:
                    if await check():
                        return True
                    await asyncio.sleep(0.05)
                return False

            # Training is killed as soon as it opens the first record, and stays down until the
            # demo has found it gone: the demo still has to wait for every other record and
            # take the class through its sessions there.
            gone = f"{platform.url('training')} does not answer"
            if await asyncio.wait_for(demo_running_until(trainings_opened), 300):
                await _restart(platform, "training", lambda: any(gone in line for line in said))
            # notify while the demo waits for certificates and reads deliveries.
            if await asyncio.wait_for(demo_running_until(certificate_issued), 300):
                await _restart(platform, "notify")
        await asyncio.wait_for(demo.wait(), timeout=700)
        await reading
        output = (await printed).decode()
    finally:
        if demo.returncode is None:
            demo.kill()
            await demo.wait()
    errors = "".join(said)
    assert demo.returncode == 0, output + errors
    assert "Traceback" not in errors
    # The demo saw training go away and come back (the restart did land on its calls).
    assert f"{platform.url('training')} does not answer" in errors, errors
    assert f"{platform.url('training')} answers again" in errors, errors
    counts = json.loads(output.strip().splitlines()[-1])
    notified = sum(consents(n) for n in range(LEARNERS))
    assert {key: value for key, value in counts.items() if key != "seconds"} == {
        "enrolled": LEARNERS,
        "completed": LEARNERS,
        "certificates": LEARNERS,
        "notifications": notified,
        "association_notices": LEARNERS,
    }


class LosingAnswers(httpx.AsyncBaseTransport):
    """The real network, except that the first request of each write kind gets through to the
    service and its answer is lost: the client sees the connection break."""

    def __init__(self, lose: Callable[[httpx.Request], str | None]) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.lose = lose
        self.lost: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        kind = self.lose(request)
        if kind is None or kind in self.lost:
            return response
        await response.aread()  # it was answered: the write committed
        await response.aclose()
        self.lost.append(kind)
        raise httpx.ReadError("connection reset (answer lost on purpose)", request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _write_kind(request: httpx.Request) -> str | None:
    if request.method == "GET":
        return None
    path = request.url.path
    return "completion" if path.endswith("/completion") else path


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_demo_repeats_a_write_whose_answer_was_lost_without_doing_it_twice(
    platform: Platform,
) -> None:
    transport = LosingAnswers(_write_kind)
    urls = {name: platform.url(name) for name in SERVICES}
    result = await run_demo(urls, LEARNERS, timeout_s=300, transport=transport)

    assert set(transport.lost) >= {
        "/imports/learners",
        "/sessions",
        "/assessments",
        "completion",
    }, transport.lost
    assert (result.enrolled, result.completed, result.certificates) == (LEARNERS,) * 3
    assert result.notifications == result.expected_notifications
    assert result.association_notices == LEARNERS
    async with admin_client() as http:
        journey = journey_of(platform, http)
        get: Callable[[str, str], Awaitable[dict[str, int]]] = journey.get
        enrolled = await get("enrollment", "/enrollments/summary")
        trained = await get("training", "/trainings/summary")
        issued = await get("certification", "/certificates/summary")
    # Each learner once: the lost import did not enroll anyone twice.
    assert enrolled["total"] == LEARNERS
    assert sum(trained.values()) == LEARNERS
    assert trained["completed"] == LEARNERS
    assert issued["issued"] == LEARNERS
