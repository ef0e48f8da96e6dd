"""``fursa provision`` (the deployment's provisioning Job) against the generated configuration."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from typer.testing import CliRunner

from fursa.cli.main import app
from fursa.shared.messaging.streams import CONSUMERS, ERASURE_LEDGER, STREAMS
from fursa.shared.natsauth import ADMIN, DEV_CONFIG_NAME, PARTNER_ADMIN, USERS, write_dev_config
from fursa.shared.natsserver import NatsServer

PASSWORDS = {user: f"{user}-secret" for user in USERS}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[NatsServer]:
    write_dev_config(tmp_path / "nats", PASSWORDS)
    running = NatsServer(tmp_path / "nats", include=f"include ./{DEV_CONFIG_NAME}").start()
    try:
        yield running
    finally:
        running.stop()


def test_provision_creates_streams_durables_and_the_feed_mirror_idempotently(
    server: NatsServer,
) -> None:
    env = {
        "FURSA_NATS_URL": server.url,
        "FURSA_ADMIN_NATS_PASSWORD": PASSWORDS[ADMIN],
        "FURSA_PARTNER_ADMIN_NATS_PASSWORD": PASSWORDS[PARTNER_ADMIN],
    }
    runner = CliRunner()
    for _ in range(2):  # every deployment runs it again
        result = runner.invoke(app, ["provision"], env=env)
        assert result.exit_code == 0, result.output
    asyncio.run(_check_provisioned(server.url))


async def _check_provisioned(url: str) -> None:
    admin = await nats.connect(url, user=ADMIN, password=PASSWORDS[ADMIN])
    partner_admin = await nats.connect(url, user=PARTNER_ADMIN, password=PASSWORDS[PARTNER_ADMIN])
    try:
        js = admin.jetstream()
        provisioned = {info.config.name for info in await js.streams_info()}
        assert provisioned == {s.name for s in STREAMS} | {ERASURE_LEDGER}
        for spec in CONSUMERS:
            assert (await js.consumer_info(spec.stream, spec.durable)).name == spec.durable
        [mirror] = await partner_admin.jetstream().streams_info()
        assert mirror.config.mirror is not None
        assert mirror.config.mirror.name == "PARTNER"
    finally:
        await admin.close()
        await partner_admin.close()


def test_provision_refuses_to_run_without_the_admin_passwords() -> None:
    result = CliRunner().invoke(app, ["provision"], env={"FURSA_ADMIN_NATS_PASSWORD": ""})
    assert result.exit_code == 2
    assert "FURSA_PARTNER_ADMIN_NATS_PASSWORD" in result.output
