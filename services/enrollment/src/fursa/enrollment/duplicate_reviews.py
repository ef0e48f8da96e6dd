"""The possible-duplicate review queue: finding pairs at enrolment and import, and staff's
decision on each.

A new learner's record is scored at enrolment and import
(``service.find_possible_duplicates``) against the records of the same association born
within the tolerance; each pair at or above the threshold is warned about in the answer and
queued here. Pairs stay within an association: another association's learner is
never named to staff who cannot see them (exact duplicates are refused across associations
by the identity keys, as before).

Staff decide:

- *different*: the pair is closed and never found again;
- *same person*: the later record merges into the earlier one. Its enrolments (with their
  transfers, history and events) move to the earlier learner, who keeps their own record;
  the later record's personal data is emptied and it points to the earlier one
  (``merged_into``). Refused while both learners hold an active enrolment (withdraw one
  first). Events already published keep the learner id they carried; nothing new is
  published: enrolments keep their ids, which is what the other services follow.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, exists, select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.enrollment import audit
from fursa.enrollment.domain import ACTIVE, Refused
from fursa.enrollment.models import (
    Center,
    DuplicateDecision,
    DuplicateReview,
    Enrollment,
    Learner,
)
from fursa.enrollment.service import hold_identity, release_identity, visible_enrollments
from fursa.shared.auth import Principal
from fursa.shared.clock import utcnow
from fursa.shared.messaging.outbox import UnitOfWork

log = logging.getLogger(__name__)

# Emptied on the later record of a merge: the earlier record is the learner's.
_PERSONAL = (
    "first_name_ar",
    "last_name_ar",
    "first_name_latin",
    "last_name_latin",
    "birth_date",
    "massar_code",
    "special_needs",
    "guardian_name",
    "guardian_phone",
    "guardian_email",
    "phone",
    "email",
    "search_key",
)


class ReviewNotFound(LookupError):  # noqa: N818 - reads as what happened
    pass


class AlreadyDecided(Refused):
    rule = "duplicate_already_decided"
    conflict = True


class TwoActiveEnrollments(Refused):
    rule = "merge_needs_one_active_enrollment"
    conflict = True


def _sees(scope: Principal, learner_id: Any) -> ColumnElement[bool]:
    """Whether ``scope`` sees one of the enrolments of the learner ``learner_id`` (a column)."""
    seen = (
        select(col(Enrollment.id))
        .join(Center, col(Center.id) == col(Enrollment.center_id))
        .where(col(Enrollment.learner_id) == learner_id, visible_enrollments(scope))
    )
    return exists(seen)


class DuplicateReviews:
    """The review queue, within the caller's scope: a pair is visible to whoever sees both
    learners."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def open(self, *, scope: Principal, limit: int, offset: int) -> Sequence[DuplicateReview]:
        """The pairs waiting for a decision, best score first."""
        query = (
            select(DuplicateReview)
            .where(
                col(DuplicateReview.decision).is_(None),
                _sees(scope, col(DuplicateReview.learner_id)),
                _sees(scope, col(DuplicateReview.earlier_learner_id)),
            )
            .order_by(col(DuplicateReview.score).desc(), col(DuplicateReview.found_at))
            .limit(limit)
            .offset(offset)
        )
        async with self.uow.read() as session:
            return (await session.execute(query)).scalars().all()

    async def decide(
        self, learner_id: str, earlier_learner_id: str, *, same_person: bool, scope: Principal
    ) -> DuplicateReview:
        """Record staff's decision on a pair; *same person* merges (see the module)."""
        async with self.uow.begin() as tx:
            session = tx.session
            review = await session.get(
                DuplicateReview, (learner_id, earlier_learner_id), with_for_update=True
            )
            if review is None:
                raise ReviewNotFound(learner_id)
            both_seen = select(
                _sees(scope, col(DuplicateReview.learner_id))
                & _sees(scope, col(DuplicateReview.earlier_learner_id))
            ).where(
                col(DuplicateReview.learner_id) == learner_id,
                col(DuplicateReview.earlier_learner_id) == earlier_learner_id,
            )
            if not (await session.execute(both_seen)).scalar():
                raise ReviewNotFound(learner_id)
            if review.decision is not None:
                raise AlreadyDecided(decision=str(review.decision))
            if same_person:
                await self._merge(session, learner_id, into=earlier_learner_id)
            review.decision = (
                DuplicateDecision.SAME_PERSON if same_person else DuplicateDecision.DIFFERENT
            )
            review.decided_by = scope.subject
            review.decided_at = utcnow()
            session.add(review)
            audit.record(
                session,
                scope,
                "learner.merged" if same_person else "learner.not_a_duplicate",
                entity="learner",
                entity_id=learner_id,
                learner_id=learner_id,
                details={"earlier_learner_id": earlier_learner_id, "score": review.score},
            )
        log.info("possible duplicate %s / %s: %s", learner_id, earlier_learner_id, review.decision)
        return review

    async def _merge(self, session: AsyncSession, learner_id: str, *, into: str) -> None:
        later = await session.get(Learner, learner_id, with_for_update=True)
        earlier = await session.get(Learner, into, with_for_update=True)
        assert later is not None
        assert earlier is not None
        enrollments = (
            (
                await session.execute(
                    select(Enrollment).where(col(Enrollment.learner_id).in_([learner_id, into]))
                )
            )
            .scalars()
            .all()
        )
        active = [e for e in enrollments if e.status in ACTIVE]
        if len({e.learner_id for e in active}) > 1:
            raise TwoActiveEnrollments(enrollment_ids=[e.id for e in active])
        moving = [e.id for e in active if e.learner_id == learner_id]
        await session.execute(
            update(Enrollment)
            .where(col(Enrollment.learner_id) == learner_id)
            .values(learner_id=into)
        )
        for column in _PERSONAL:
            setattr(later, column, None)
        later.merged_into = into
        session.add(later)
        await session.flush()
        for enrollment_id in moving:
            # The active enrolment is now known under the earlier record's keys.
            await release_identity(session, enrollment_id)
            await hold_identity(session, earlier, enrollment_id)
