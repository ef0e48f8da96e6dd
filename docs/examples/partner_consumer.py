"""Read the Fursa partner feed with nats-py (Python 3.11+, pip install nats-py): a consumer.

    python partner_consumer.py acme.json                      # follow the feed (Ctrl-C stops)
    python partner_consumer.py acme.json --since 2026-11-01T00:00:00+00:00 --idle-exit 5

``acme.json`` is what ``fursa partner add acme --credentials-file acme.json`` wrote. Each event
(a CloudEvent, JSON) is printed as one JSON line, then acknowledged. Your durable consumer (named
after you) keeps your place: after a restart you go on where you stopped. An event you did not
acknowledge in time comes again — handle each ``id`` once.

The server refuses anything else: connect with your inbox prefix ``_INBOX_<you>``, and read
through a pull consumer on the durable named after you (no ordered consumers, no plain
subscriptions).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

SERVER = "nats://127.0.0.1:4223"  # `fursa up`'s; your production address comes with your account


async def consume(
    credentials: dict[str, Any],
    server: str = SERVER,
    since: datetime | None = None,
    idle_exit_s: float | None = None,
) -> None:
    nc = await nats.connect(
        server,
        user=credentials["nats_user"],
        password=credentials["nats_password"],
        inbox_prefix=credentials["inbox_prefix"],  # _INBOX_<you>: the only inbox you may read
        connect_timeout=10,
    )
    js = nc.jetstream()
    stream, durable = credentials["stream"], credentials["durable"]  # "PARTNER", "<you>"
    try:
        await js.consumer_info(stream, durable)  # there already: go on where it stopped
    except NotFoundError:
        await js.add_consumer(
            stream,
            ConsumerConfig(
                durable_name=durable,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=30,  # seconds to acknowledge an event before it comes again
                # From the start of the feed (a year is kept), or from a moment in it.
                deliver_policy=DeliverPolicy.BY_START_TIME if since else DeliverPolicy.ALL,
                opt_start_time=since,
            ),
        )
    feed = await js.pull_subscribe_bind(durable=durable, stream=stream)
    last_event = time.monotonic()
    try:
        while idle_exit_s is None or time.monotonic() - last_event < idle_exit_s:
            try:
                messages = await feed.fetch(batch=100, timeout=2)
            except TimeoutError:  # nothing new yet (nats-py's and asyncio's both)
                continue
            for message in messages:
                event = json.loads(message.data)
                handle(event)
                await message.ack()
            last_event = time.monotonic()
    finally:
        await nc.flush()  # the last acknowledgements reach the server
        await nc.close()


def handle(event: dict[str, Any]) -> None:
    """Your work: store it, keyed by event["id"] (a repeat has the same id)."""
    print(json.dumps({key: event[key] for key in ("id", "type", "subject", "time")}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("credentials", type=Path, help="the file `fursa partner add` wrote")
    parser.add_argument("--server", default=SERVER)
    parser.add_argument("--since", type=datetime.fromisoformat, help="a new durable starts here")
    parser.add_argument("--idle-exit", type=float, help="stop after this many quiet seconds")
    args = parser.parse_args()
    credentials = json.loads(args.credentials.read_text())
    asyncio.run(consume(credentials, args.server, args.since, args.idle_exit))


if __name__ == "__main__":
    main()
