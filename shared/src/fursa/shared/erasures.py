"""The erasure ledger: a restored backup must not bring an erased learner's personal data back.

A backup taken before an erasure still holds the learner's names, birth data, phones and
addresses. So every erasure is also written where no restore of a service's database reaches:
stream ``ERASURES`` on the broker (:func:`~fursa.shared.messaging.streams.erasure_ledger`),
which JetStream fills itself with every learner-erased of stream ``ENROLLMENT`` and keeps
without an age limit. It holds ids and instants only (learner, enrollments, when): the events'
contract carries no personal data. It is written by the same outbox row as the event (so an
erasure that committed reaches it) and by no service, and it outlives the 30 days of
``ENROLLMENT``, a service's database and every replica of a service.

At start, before its relay, its consumers or its HTTP API run (uvicorn answers nothing, so
not ``/readyz`` either, until the lifespan's startup is done), a service that holds personal
data re-applies the ledger: every erasure its database does not show (a backup from before
it was restored) goes through the service's own erase function again. A service names that
function and how its database shows an erased learner (:class:`ErasureLedger`); the kernel
does the rest once for all of them, whether the database is SQLite or PostgreSQL.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import Select

from fursa.shared.contracts import CloudEvent, LearnerErased, parse_event
from fursa.shared.messaging.consumer import Handler
from fursa.shared.messaging.outbox import UnitOfWork
from fursa.shared.messaging.streams import ERASURE_LEDGER, LEARNER_ERASED

log = logging.getLogger(__name__)


class ErasureLedgerUnavailable(RuntimeError):  # noqa: N818 - reads as what it says
    """The ledger cannot be read: a service must not serve personal data it may have erased."""


@dataclass(frozen=True)
class ErasureLedger:
    """How one service re-applies the ledger.

    ``erased``: the query of the learner ids its database shows as erased (its tombstones).
    ``forget``: its erase function, given the ledger's learner-erased event; it must also do
    the right thing for a learner the database never knew (a tombstone, or nothing)."""

    erased: Select[tuple[str]]
    forget: Handler


async def read_ledger(js: JetStreamContext) -> list[CloudEvent[Any]]:
    """Every learner-erased of the ledger, oldest first (direct gets: read-only)."""
    erasures: list[CloudEvent[Any]] = []
    sequence = 1
    while True:
        try:
            message = await js.get_msg(
                ERASURE_LEDGER, seq=sequence, subject=LEARNER_ERASED, next=True, direct=True
            )
        except NotFoundError:
            return erasures
        except NatsError as exc:
            raise ErasureLedgerUnavailable(
                f"stream {ERASURE_LEDGER} cannot be read ({type(exc).__name__}): provision it "
                "(fursa provision) and let this service's NATS user read it"
            ) from exc
        erasures.append(parse_event(message.data or b""))
        sequence = int(message.seq or sequence) + 1


async def reapply_erasures(
    uow: UnitOfWork, js: JetStreamContext, ledger: ErasureLedger
) -> list[str]:
    """Erase again every learner of the ledger that the database does not show as erased;
    returns their ids. One transaction per learner: an interrupted start resumes where it
    stopped."""
    erasures = await read_ledger(js)
    async with uow.read() as session:
        shown = set((await session.execute(ledger.erased)).scalars())
    again: list[str] = []
    for event in erasures:
        erased: LearnerErased = event.data
        if erased.learner_id in shown:
            continue
        async with uow.begin(cause=event) as tx:
            await ledger.forget(tx, event)
        shown.add(erased.learner_id)
        again.append(erased.learner_id)
    log.info(
        "erasure ledger: %d erasures, %d applied again (a restored backup predated them)",
        len(erasures),
        len(again),
    )
    return again
