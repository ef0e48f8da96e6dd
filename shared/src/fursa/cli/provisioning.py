"""``fursa provision``: create or update every stream, durable consumer and the partner feed's
mirror on a deployed NATS, with the two admin users (the deployment's provisioning Job)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import nats
import typer

from fursa.shared.messaging.streams import Topology, provision, provision_partner_feed
from fursa.shared.natsauth import ADMIN, PARTNER_ADMIN


async def provision_all(
    url: str, admin_password: str, partner_admin_password: str, replicas: int
) -> None:
    """Streams and durables in account FURSA, then the feed's mirror in account PARTNER."""
    nc = await nats.connect(url, user=ADMIN, password=admin_password)
    try:
        await provision(nc.jetstream(), Topology(replicas=replicas))
    finally:
        await nc.close()
    nc = await nats.connect(
        url, user=PARTNER_ADMIN, password=partner_admin_password, connect_timeout=10
    )
    try:
        await provision_partner_feed(nc.jetstream(), replicas)
    finally:
        await nc.close()


def provision_command(
    nats_url: Annotated[str, typer.Option(envvar="FURSA_NATS_URL")] = "nats://127.0.0.1:4222",
    admin_password: Annotated[
        str, typer.Option(envvar="FURSA_ADMIN_NATS_PASSWORD", show_default=False)
    ] = "",
    partner_admin_password: Annotated[
        str, typer.Option(envvar="FURSA_PARTNER_ADMIN_NATS_PASSWORD", show_default=False)
    ] = "",
    replicas: Annotated[int, typer.Option(help="Stream replicas: 3 on a 3-node cluster.")] = 1,
) -> None:
    """Provision JetStream (idempotent): run at every deployment, before the services."""
    if not admin_password or not partner_admin_password:
        raise typer.BadParameter(
            "set FURSA_ADMIN_NATS_PASSWORD and FURSA_PARTNER_ADMIN_NATS_PASSWORD"
        )
    asyncio.run(provision_all(nats_url, admin_password, partner_admin_password, replicas))
    print(f"provisioned streams, durable consumers and the partner feed (R{replicas})")
