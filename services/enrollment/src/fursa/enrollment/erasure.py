"""Forgetting an erased learner's person: at the erasure request (``LearnerRecords.erase``),
and again when the erasure ledger finds the learner back in a restored backup
(:func:`erase_again`, see :mod:`fursa.shared.erasures`).

Both go through :func:`forget_person`, so that a place of personal data added to one is
forgotten by the other too.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlmodel import col

from fursa.enrollment import audit
from fursa.enrollment.models import ActiveIdentity, Enrollment, Learner, Referral
from fursa.shared.clock import utcnow
from fursa.shared.contracts import CloudEvent, LearnerErased
from fursa.shared.erasures import ErasureLedger
from fursa.shared.messaging.consumer import Unprocessable
from fursa.shared.messaging.outbox import Transaction

log = logging.getLogger(__name__)

# The learner's columns that hold personal data: emptied by an erasure.
PERSONAL = (
    "first_name_ar",
    "last_name_ar",
    "first_name_latin",
    "last_name_latin",
    "birth_date",
    "birth_place_ar",
    "birth_place_fr",
    "massar_code",
    "special_needs",
    "guardian_name",
    "guardian_phone",
    "guardian_email",
    "phone",
    "email",
    "search_key",
)


async def forget_person(
    tx: Transaction,
    learner: Learner,
    enrollment_ids: list[str],
    *,
    erased_at: datetime,
    published: bool,
) -> None:
    """Empty the learner's personal data, the referral references of their enrollments, the
    details of their audit entries and the ``pii`` of their events in the outbox, and keep
    the tombstone (``erased_at``).

    At the request, events not yet published keep their ``pii`` (consumers need it, and
    learner-erased follows them on the same stream). Once the erasure was ``published`` (the
    ledger holds it), so were the events before it: one the outbox of a restored backup still
    holds as unsent loses its ``pii`` and is marked sent, rather than going out again."""
    session = tx.session
    for column in PERSONAL:
        setattr(learner, column, None)
    learner.erased_at = erased_at
    learner.version += 1
    session.add(learner)
    await session.execute(
        update(Referral).where(col(Referral.enrollment_id).in_(enrollment_ids)).values(reference="")
    )
    await audit.forget_details(session, learner.id)
    await _forget_events_pii(tx, [learner.id, *enrollment_ids], published=published)


async def erase_again(tx: Transaction, event: CloudEvent[Any]) -> None:
    """The ledger's erase function: the learner is back in a restored backup from before
    their erasure. Forgotten again as at the request, without publishing learner-erased a
    second time (every service re-applies the ledger itself); their active enrollments, if
    the backup had any, release the identity keys they held (digests of the person)."""
    if not isinstance(event.data, LearnerErased):
        raise Unprocessable(f"{event.type} is not an erasure")
    erased = event.data
    learner = await tx.session.get(Learner, erased.learner_id)
    if learner is None or learner.erased_at is not None:
        return  # recorded after the backup (the restore lost it), or erased in it already
    enrollments = select(col(Enrollment.id)).where(col(Enrollment.learner_id) == learner.id)
    ids = list((await tx.session.execute(enrollments)).scalars())
    await tx.session.execute(
        delete(ActiveIdentity).where(col(ActiveIdentity.enrollment_id).in_(ids))
    )
    await forget_person(tx, learner, ids, erased_at=erased.erased_at, published=True)
    log.info("learner %s erased again (a restored backup predated the erasure)", learner.id)


LEDGER = ErasureLedger(
    erased=select(col(Learner.id)).where(col(Learner.erased_at).is_not(None)),
    forget=erase_again,
)
"""How enrollment re-applies the erasure ledger: its tombstones are the learners' ``erased_at``."""


async def _forget_events_pii(tx: Transaction, subjects: list[str], *, published: bool) -> None:
    """Empty the ``pii`` block of the outbox's events about these aggregates (see
    :func:`forget_person` for ``published``)."""
    outbox = tx.tables.outbox
    query = select(outbox.c.position, outbox.c.payload).where(outbox.c.subject.in_(subjects))
    if not published:
        query = query.where(outbox.c.sent_at.is_not(None))
    for position, payload in (await tx.session.execute(query)).all():
        event = json.loads(payload)
        if event.get("data", {}).get("pii") is not None:
            event["data"]["pii"] = None
            await tx.session.execute(
                outbox.update()
                .where(outbox.c.position == position)
                .values(
                    payload=json.dumps(event, ensure_ascii=False).encode(),
                    sent_at=func.coalesce(outbox.c.sent_at, utcnow()),
                )
            )
