"""A 3-node NATS cluster on loopback with R3 streams; the node the services are connected to is
killed mid-flow. The clients move to the surviving nodes, the streams elect new leaders, and
every count is exact."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from fursa.cli.platform import Platform
from fursa.shared.messaging.streams import Topology, provision
from fursa.shared.natsauth import (
    PARTNER_ADMIN,
    USERS,
    hash_password,
    render_authorization,
    write_partners_config,
)
from fursa.shared.natsserver import NatsServer, free_port
from tests.reliability.flow import (
    Journey,
    Ledger,
    admin_client,
    journey_of,
    ledger,
    notifications_sent,
    settled,
    wait_for,
)

LEARNERS = int(os.environ.get("FURSA_RELIABILITY_LEARNERS", "400")) // 2
NODES = 3


@dataclasses.dataclass
class ClusterPlatform(Platform):
    """The platform on a 3-node JetStream cluster; ``nats`` is the node clients are given."""

    nodes: list[NatsServer] = dataclasses.field(default_factory=list)

    def start_nats(self) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.passwords = {name: secrets.token_urlsafe(18) for name in USERS}
        routes = [free_port() for _ in range(NODES)]
        accounts = render_authorization(self.passwords)
        for i in range(NODES):
            others = ", ".join(f"nats-route://127.0.0.1:{port}" for port in routes)
            cluster = (
                f"server_name: n{i}\n"
                f"cluster {{\n  name: fursa\n  listen: 127.0.0.1:{routes[i]}\n"
                f"  routes: [{others}]\n}}\n"
            )
            # Each node's configuration includes the partner account's roster beside it.
            workdir = self.var_dir / f"nats-{i}"
            write_partners_config(workdir, hash_password(self.passwords[PARTNER_ADMIN]))
            self.nodes.append(NatsServer(workdir, include=cluster + accounts))
        for node in self.nodes:
            assert node.process is None
            node.workdir.mkdir(parents=True, exist_ok=True)
        # Started together: each waits for the others to form the JetStream meta group.
        for node in self.nodes:
            node.start(timeout_s=60)
        self.nats = self.nodes[0]

    async def provision(self) -> None:
        assert self.nats is not None
        nc = await nats.connect(self.nats.url, user="admin", password=self.passwords["admin"])
        try:
            for _ in range(300):
                try:
                    await provision(nc.jetstream(), Topology(replicas=NODES))
                    return
                except Exception:  # no meta leader elected yet
                    await asyncio.sleep(0.2)
            raise TimeoutError("the cluster never accepted the streams")
        finally:
            await nc.close()

    def stop(self) -> None:
        super().stop()
        for node in self.nodes:
            node.stop()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[ClusterPlatform]:
    running = ClusterPlatform.on_free_ports(tmp_path / "var")
    try:
        running.start(timeout_s=180)
        yield running
    finally:
        running.stop()


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_node_killed_mid_flow_in_a_three_node_cluster_loses_and_repeats_nothing(
    cluster: ClusterPlatform,
) -> None:
    assert cluster.nats is not None
    nc = await nats.connect(cluster.nats.url, user="admin", password=cluster.passwords["admin"])
    try:
        info = await nc.jetstream().stream_info("CERTIFICATION")
        assert info.config.num_replicas == NODES
    finally:
        await nc.close()
    async with admin_client() as http:
        journey = journey_of(cluster, http)
        enrollments = await journey.enroll(range(LEARNERS))
        flow = asyncio.create_task(journey.complete_all(enrollments))
        await wait_for(lambda: _issued_at_least(journey, 10), "the first certificates")
        killed = cluster.nodes[0]
        killed.kill()
        # The test's own admin reads go to a survivor from now on.
        cluster.nats = cluster.nodes[1]
        # Too late would be a flow with nothing left to cross the cluster: the guardians all
        # told already (see notifications_sent).
        expected = Ledger.expected(LEARNERS)
        assert await notifications_sent(journey) < expected.notifications_sent, (
            "the node died too late"
        )
        await flow
        final = await settled(cluster, lambda: ledger(journey, cluster, enrollments), expected)
    assert final == expected
    assert all(process.poll() is None for process in cluster.processes.values())


async def _issued_at_least(journey: Journey, count: int) -> bool:
    issued = await journey.get("certification", "/certificates/summary")
    return int(issued["issued"]) >= count
