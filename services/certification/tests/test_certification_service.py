"""The certification service layer against a real database: the learner copy, numbering
and the one-active-certificate rule.

Gap-freedom under concurrency is proven on PostgreSQL only: SQLite serialises its writers, so
it could not show a race even if there were one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from fursa.certification import service
from fursa.certification.credentials import IssuerKeys
from fursa.certification.domain import Bilingual, IssuancePolicy
from fursa.certification.models import KERNEL, Base, Certificate, LearnerCopy
from fursa.certification.service import Issuer
from fursa.shared.contracts import (
    LearnerErased,
    LearnerUpdated,
    Pathway,
    TrainingCompleted,
    TrainingResult,
    new_event,
    to_json_bytes,
)
from fursa.shared.db import Database
from fursa.shared.messaging.outbox import UnitOfWork
from fursa.shared.testing.builders import learner_enrolled, learner_pii, uuid_of

ISSUER = Issuer(
    keys=IssuerKeys.generate(),
    public_base_url="https://verify.fursa.test",
    signatory_name=Bilingual("محمد العلوي", "Mohamed Alaoui"),
    signatory_title=Bilingual("المنسق الجهوي", "Coordinateur régional"),
)
END_OF_YEAR = date(2026, 6, 30)


@dataclass
class Certification:
    db: Database
    uow: UnitOfWork

    async def enroll(self, *learners: int) -> None:
        async with self.uow.begin() as tx:
            for n in learners:
                await service.learner_enrolled(tx, enrolled=learner_enrolled(n))

    async def issue(self, n: int, *, issued_on: date = END_OF_YEAR) -> Certificate | None:
        async with self.uow.begin() as tx:
            return await service.issue_certificate(
                tx,
                enrollment_id=uuid_of("enrollment", n),
                pathway=Pathway.VOCATIONAL_TRAINING,
                issuer=ISSUER,
                issued_on=issued_on,
            )

    async def outbox_rows(self) -> int:
        async with self.db.connect() as connection:
            count = select(func.count()).select_from(KERNEL.outbox)
            return int((await connection.execute(count)).scalar_one())


async def _certification(url: str) -> AsyncIterator[Certification]:
    db = Database(url, Base.metadata)
    await db.create_all()
    try:
        yield Certification(db, UnitOfWork(db, KERNEL, source="fursa/certification"))
    finally:
        await db.dispose()


@pytest.fixture
async def certification(database_url: str) -> AsyncIterator[Certification]:
    async for value in _certification(database_url):
        yield value


@pytest.fixture
async def certification_pg(postgres_url: str) -> AsyncIterator[Certification]:
    async for value in _certification(postgres_url):
        yield value


async def test_learner_copy_follows_the_latest_enrollment_event(
    certification: Certification,
) -> None:
    enrolled = learner_enrolled(1)
    corrected = enrolled.model_copy(
        update={"pii": enrolled.pii.model_copy(update={"first_name_latin": "Salima"})}
    )
    async with certification.uow.begin() as tx:
        await service.learner_enrolled(tx, enrolled=enrolled)
    async with certification.uow.begin() as tx:
        await service.learner_enrolled(tx, enrolled=corrected)

    async with certification.db.transaction() as session:
        copy = await session.get(LearnerCopy, enrolled.enrollment_id)
    assert copy is not None
    assert (copy.first_name_latin, copy.last_name_latin) == ("Salima", "Benali")
    assert copy.first_name_ar == "سلمى"
    assert (copy.association_id, copy.center_id) == (
        uuid_of("association", 1),
        uuid_of("center", 1),
    )
    assert (copy.region_code, copy.province_code) == ("07", "071")


async def test_each_region_and_year_has_its_own_series(certification: Certification) -> None:
    await certification.enroll(1, 2, 3)
    issued = [
        await certification.issue(1),
        await certification.issue(2),
        await certification.issue(3, issued_on=date(2027, 1, 4)),
    ]
    assert [certificate.number if certificate else None for certificate in issued] == [
        "MS-2026-000001",
        "MS-2026-000002",
        "MS-2027-000001",
    ]


async def test_certificate_of_another_region_is_numbered_and_announced(
    certification: Certification,
) -> None:
    async with certification.uow.begin() as tx:
        rabat = learner_enrolled(1).model_copy(update={"region_code": "04", "province_code": "041"})
        await service.learner_enrolled(tx, enrolled=rabat)
    issued = await certification.issue(1)
    assert issued is not None
    assert issued.number == "RSK-2026-000001"
    assert issued.placement() == {
        "association_id": uuid_of("association", 1),
        "center_id": uuid_of("center", 1),
        "region_code": "04",
        "province_code": "041",
    }
    assert await certification.outbox_rows() == 1


async def test_enrollment_with_an_active_certificate_gets_no_second_one(
    certification: Certification,
) -> None:
    await certification.enroll(1)
    assert await certification.issue(1) is not None
    assert await certification.issue(1) is None
    assert await certification.outbox_rows() == 1


async def test_completion_of_an_unknown_learner_waits_for_the_enrollment(
    certification: Certification,
) -> None:
    with pytest.raises(service.LearnerNotYetKnownError):
        await certification.issue(1)
    await certification.enroll(1)
    issued = await certification.issue(1)
    assert issued is not None
    assert issued.number == "MS-2026-000001"


async def test_database_refuses_a_second_active_certificate(
    certification: Certification,
) -> None:
    await certification.enroll(1)
    first = await certification.issue(1)
    assert first is not None

    def copy(number: str, status: str) -> Certificate:
        return Certificate(
            **first.model_dump(
                exclude={"id", "number", "status", "verification_token", "status_index"}
            ),
            id=uuid_of("certificate", int(number[-3:])),
            number=number,
            verification_token=f"token-{number}",
            status=status,
        )

    with pytest.raises(IntegrityError):
        async with certification.db.transaction() as session:
            session.add(copy("MS-2026-000900", "active"))
    async with certification.db.transaction() as session:
        session.add(copy("MS-2026-000901", "revoked"))


async def test_numbers_and_status_indexes_have_no_gap_when_issued_concurrently(
    certification_pg: Certification,
) -> None:
    learners = range(1, 21)
    await certification_pg.enroll(*learners)
    everyone_in_a_transaction = asyncio.Barrier(len(learners))

    async def issue(n: int) -> tuple[str, int | None]:
        async with certification_pg.uow.begin() as tx:
            await tx.session.execute(select(1))
            await everyone_in_a_transaction.wait()
            certificate = await service.issue_certificate(
                tx,
                enrollment_id=uuid_of("enrollment", n),
                pathway=Pathway.VOCATIONAL_TRAINING,
                issuer=ISSUER,
                issued_on=END_OF_YEAR,
            )
            assert certificate is not None
            return certificate.number, certificate.status_index

    issued = await asyncio.gather(*(issue(n) for n in learners))
    assert sorted(number for number, _ in issued) == [
        f"MS-2026-{serial:06d}" for serial in range(1, 21)
    ]
    # Each certificate has its own bit in the revocation status list.
    assert sorted(index for _, index in issued if index is not None) == list(range(20))
    assert await certification_pg.outbox_rows() == 20


async def test_rolled_back_certificate_gives_its_number_back(
    certification_pg: Certification,
) -> None:
    learners = range(1, 21)
    await certification_pg.enroll(*learners)
    everyone_in_a_transaction = asyncio.Barrier(len(learners))

    class CrashBeforeCommitError(Exception):
        pass

    async def issue(n: int) -> str | None:
        try:
            async with certification_pg.uow.begin() as tx:
                await tx.session.execute(select(1))
                await everyone_in_a_transaction.wait()
                certificate = await service.issue_certificate(
                    tx,
                    enrollment_id=uuid_of("enrollment", n),
                    pathway=Pathway.VOCATIONAL_TRAINING,
                    issuer=ISSUER,
                    issued_on=END_OF_YEAR,
                )
                assert certificate is not None
                if n % 5 == 0:
                    raise CrashBeforeCommitError
                return certificate.number
        except CrashBeforeCommitError:
            return None

    numbers = [number for number in await asyncio.gather(*map(issue, learners)) if number]
    assert sorted(numbers) == [f"MS-2026-{serial:06d}" for serial in range(1, 17)]
    assert await certification_pg.outbox_rows() == 16


def passed(n: int, training: int) -> TrainingCompleted:
    return TrainingCompleted(
        training_id=uuid_of("training", n * 1000 + training),
        enrollment_id=uuid_of("enrollment", n),
        learner_id=uuid_of("learner", n),
        center_id=uuid_of("center", 1),
        pathway=Pathway.VOCATIONAL_TRAINING,
        workshops=["tailoring"],
        hours_attended=300,
        attendance_rate=0.9,
        result=TrainingResult.PASSED,
        completed_on=END_OF_YEAR,
    )


async def certificate_numbers(certification: Certification) -> list[str]:
    async with certification.db.read() as session:
        numbers = select(col(Certificate.number)).order_by(col(Certificate.number))
        return list((await session.execute(numbers)).scalars().all())


async def test_two_consumers_completing_one_enrollment_at_once_issue_one_certificate(
    certification_pg: Certification,
) -> None:
    await certification_pg.enroll(1)
    both_in_a_transaction = asyncio.Barrier(2)

    async def complete(training: int) -> Certificate | None:
        async with certification_pg.uow.begin() as tx:
            await tx.session.execute(select(1))
            await both_in_a_transaction.wait()
            return await service.training_completed(
                tx, completion=passed(1, training), policy=IssuancePolicy.AUTOMATIC, issuer=ISSUER
            )

    results = await asyncio.gather(complete(1), complete(2))
    assert sum(result is not None for result in results) == 1
    assert await certificate_numbers(certification_pg) == ["MS-2026-000001"]
    assert await certification_pg.outbox_rows() == 1


async def test_database_refuses_the_second_of_two_racing_issuances_and_keeps_no_gap(
    certification_pg: Certification,
) -> None:
    await certification_pg.enroll(1, 2)
    both_in_a_transaction = asyncio.Barrier(2)

    async def issue() -> str:
        async with certification_pg.uow.begin() as tx:
            await tx.session.execute(select(1))
            await both_in_a_transaction.wait()
            certificate = await service.issue_certificate(
                tx,
                enrollment_id=uuid_of("enrollment", 1),
                pathway=Pathway.VOCATIONAL_TRAINING,
                issuer=ISSUER,
                issued_on=END_OF_YEAR,
            )
            assert certificate is not None
            return certificate.number

    outcomes = await asyncio.gather(issue(), issue(), return_exceptions=True)
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["IntegrityError", "str"]
    # The loser's serial was rolled back with it: the next certificate takes number 2.
    assert await certification_pg.issue(2) is not None
    assert await certificate_numbers(certification_pg) == ["MS-2026-000001", "MS-2026-000002"]


async def test_erasure_scrubs_dead_letters_and_later_corrections_stay_forgotten(
    certification: Certification,
) -> None:
    await certification.enroll(1, 2)
    enrolled = new_event(learner_enrolled(1), subject=uuid_of("enrollment", 1), sequence=1)
    other = new_event(learner_enrolled(2), subject=uuid_of("enrollment", 2), sequence=1)
    async with certification.db.transaction() as session:
        for event in (enrolled, other):
            await session.execute(
                KERNEL.dead_letter.insert().values(
                    consumer="certification-enrollment",
                    event_id=event.id,
                    type=event.type,
                    nats_subject=event.type,
                    headers="{}",
                    payload=to_json_bytes(event),
                    error="failed",
                    deliveries=8,
                    failed_at=datetime(2026, 7, 1, tzinfo=UTC),
                )
            )
    erased = LearnerErased(
        learner_id=uuid_of("learner", 1),
        enrollment_ids=[uuid_of("enrollment", 1)],
        erased_at=datetime(2026, 7, 1, tzinfo=UTC),
    )
    async with certification.uow.begin() as tx:
        await service.learner_erased(tx, erased=erased, tables=KERNEL)
    correction = LearnerUpdated(
        learner_id=uuid_of("learner", 1),
        association_id=uuid_of("association", 1),
        changed=["first_name_latin"],
        updated_at=datetime(2026, 7, 2, tzinfo=UTC),
        pii=learner_pii(1),
    )
    async with certification.uow.begin() as tx:
        await service.learner_updated(tx, updated=correction)

    async with certification.db.read() as session:
        forgotten = await session.get(LearnerCopy, uuid_of("enrollment", 1))
        kept = await session.get(LearnerCopy, uuid_of("enrollment", 2))
        payloads = dict(
            (
                await session.execute(
                    select(KERNEL.dead_letter.c.event_id, KERNEL.dead_letter.c.payload)
                )
            ).all()
        )
    assert forgotten is not None
    assert kept is not None
    assert (forgotten.first_name_ar, forgotten.last_name_latin) == (None, None)
    assert (kept.first_name_ar, kept.last_name_latin) == ("سلمى", "Benali")
    assert payloads[enrolled.id] == b""
    assert b"Benali" in payloads[other.id]
