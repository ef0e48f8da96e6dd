"""Who approved, revoked, re-issued, named a signatory or erased: certification's audit trail,
and who may read it (each reader within their own scope). On SQLite and on PostgreSQL,
against the running service, with the programme's default policy (diplomas await approval).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext

from fursa.certification import service
from fursa.certification.settings import CertificationSettings
from fursa.shared.auth import Role
from fursa.shared.contracts import (
    CloudEvent,
    LearnerErased,
    Pathway,
    TrainingCompleted,
    TrainingResult,
    new_event,
    to_json_bytes,
)
from fursa.shared.messaging.deadletters import DeadLetter, list_dead_letters
from fursa.shared.testing.builders import PLACEMENTS, learner_enrolled, uuid_of
from fursa.shared.testing.kernel import wait_until

AuthHeaders = Callable[..., dict[str, str]]


@pytest.fixture
def settings(settings: CertificationSettings) -> CertificationSettings:
    """The programme's default policy: nothing configured."""
    return settings.model_copy(update={"issuance_policy": {}})


async def complete(app: FastAPI, n: int, *, pathway: Pathway = Pathway.VOCATIONAL_TRAINING) -> None:
    """Learner n (placed as the builders' PLACEMENTS say) enrolled, then passed."""
    runtime, settings = app.state.runtime, app.state.runtime.settings
    enrolled = learner_enrolled(n).model_copy(update={**PLACEMENTS[n], "pathway": pathway})
    async with runtime.uow.begin() as tx:
        await service.learner_enrolled(tx, enrolled=enrolled)
    async with runtime.uow.begin() as tx:
        await service.training_completed(
            tx,
            completion=TrainingCompleted(
                training_id=uuid_of("training", n),
                enrollment_id=enrolled.enrollment_id,
                learner_id=enrolled.learner_id,
                center_id=enrolled.center_id,
                pathway=pathway,
                workshops=["tailoring"],
                hours_attended=300,
                attendance_rate=0.9,
                result=TrainingResult.PASSED,
                completed_on=date(2026, 6, 30),
            ),
            policy=settings.policy_for(pathway),
            issuer=app.state.issuer,
        )


async def trail(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> Any:
    response = await client.get("/audit", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_approval_revocation_and_reissue_say_who_and_why(
    app: FastAPI, client: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    await complete(app, 1)
    officer = headers_for(Role.ENTRAIDE_OFFICER, region_code="07")
    approved = await client.post(f"/approvals/{uuid_of('enrollment', 1)}", headers=officer)
    number = approved.json()["number"]
    revoked = await client.post(
        f"/certificates/{number}/revocation", json={"reason": "data_correction"}, headers=officer
    )
    assert revoked.status_code == 200
    reissued = await client.post(f"/certificates/{number}/reissue", headers=officer)
    assert reissued.status_code == 201

    entries = await trail(client, officer)

    assert [(e["action"], e["reason"]) for e in entries] == [
        ("certificate.approved", None),
        ("certificate.revoked", "data_correction"),
        ("certificate.reissued", None),
    ]
    for entry in entries:
        assert entry["actor"] == "dev-entraide_officer"
        assert entry["role"] == "entraide_officer"
        assert entry["learner_id"] == uuid_of("learner", 1)
        assert entry["region_code"] == "07"
        assert entry["province_code"] == "071"
    assert entries[0]["entity_id"] == approved.json()["id"]
    assert entries[0]["details"] == {
        "number": number,
        "enrollment_id": uuid_of("enrollment", 1),
        "cohort": False,
    }
    assert entries[2]["details"]["replaces"] == number
    # Ids, numbers and codes only: no name of the learner anywhere in the trail.
    enrolled = learner_enrolled(1).pii
    assert enrolled.first_name_latin not in str(entries)
    assert enrolled.first_name_ar not in str(entries)


async def test_an_officer_of_another_region_reads_nothing(
    app: FastAPI, client: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    await complete(app, 1)
    officer_07 = headers_for(Role.ENTRAIDE_OFFICER, region_code="07")
    assert (
        await client.post(f"/approvals/{uuid_of('enrollment', 1)}", headers=officer_07)
    ).status_code == 201

    assert len(await trail(client, officer_07)) == 1
    assert await trail(client, headers_for(Role.ENTRAIDE_OFFICER, region_code="04")) == []
    assert await trail(client, headers_for(Role.DIRECTORATE, region_code="04")) == []


async def test_the_directorate_and_associations_read_their_own_territory(
    app: FastAPI, client: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    for n in (1, 2, 3):
        await complete(app, n)
    admin = headers_for(Role.ADMIN)
    response = await client.post(
        "/approvals/cohort", json={"center_id": PLACEMENTS[1]["center_id"]}, headers=admin
    )
    assert response.status_code == 200
    for n in (2, 3):
        approved = await client.post(f"/approvals/{uuid_of('enrollment', n)}", headers=admin)
        assert approved.status_code == 201

    def learners(entries: list[dict[str, Any]]) -> list[str]:
        return [entry["learner_id"] for entry in entries]

    province_071 = headers_for(Role.DIRECTORATE, province_code="071")
    region_07 = headers_for(Role.DIRECTORATE, region_code="07")
    association_b = headers_for(
        Role.ASSOCIATION_STAFF, association_id=PLACEMENTS[2]["association_id"]
    )
    assert learners(await trail(client, province_071)) == [uuid_of("learner", 1)]
    assert learners(await trail(client, region_07)) == [uuid_of("learner", n) for n in (1, 2)]
    assert learners(await trail(client, association_b)) == [uuid_of("learner", 2)]
    assert len(await trail(client, admin)) == 3
    [cohort] = await trail(client, admin, learner_id=uuid_of("learner", 1))
    assert cohort["details"]["cohort"] is True
    assert cohort["role"] == "admin"


async def test_educators_and_partners_do_not_read_the_trail(
    client: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    educator = headers_for(Role.EDUCATOR, center_id=PLACEMENTS[1]["center_id"])
    partner = headers_for(Role.PARTNER, partner_id=uuid_of("partner", 1))
    assert (await client.get("/audit", headers=educator)).status_code == 403
    assert (await client.get("/audit", headers=partner)).status_code == 403


async def test_automatic_issuance_and_erasure_are_the_service_s_own_acts(
    app: FastAPI, client: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    await complete(app, 1, pathway=Pathway.SCHOOL_REINTEGRATION)
    async with app.state.runtime.uow.begin() as tx:
        await service.learner_erased(
            tx,
            erased=LearnerErased(
                learner_id=uuid_of("learner", 1),
                enrollment_ids=[uuid_of("enrollment", 1)],
                erased_at=datetime(2026, 7, 1, tzinfo=UTC),
            ),
            tables=app.state.runtime.tables,
        )

    entries = await trail(client, headers_for(Role.ENTRAIDE_OFFICER, region_code="07"))

    assert [(e["action"], e["actor"], e["role"], e["reason"]) for e in entries] == [
        ("certificate.issued", "fursa/certification", "system", "automatic"),
        ("learner.erased", "fursa/certification", "system", None),
    ]


async def test_naming_a_regions_signatory_is_in_that_regions_trail(
    client: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    officer = headers_for(Role.ENTRAIDE_OFFICER, region_code="07")
    body = {
        "name_ar": "محمد العلوي",
        "name_fr": "Mohamed Alaoui",
        "title_ar": "المنسق الجهوي للتعاون الوطني",
        "title_fr": "Coordinateur régional de l'Entraide Nationale",
    }
    assert (await client.put("/signatories/07", json=body, headers=officer)).status_code == 200

    [entry] = await trail(client, officer)
    assert (entry["action"], entry["entity"], entry["entity_id"]) == (
        "signatory.set",
        "signatory",
        "07",
    )
    assert entry["details"] is None
    assert await trail(client, headers_for(Role.ENTRAIDE_OFFICER, region_code="04")) == []


async def test_paging_refuses_an_id_beyond_the_trail(client: httpx.AsyncClient) -> None:
    response = await client.get("/audit", params={"after_id": 2**31})
    assert response.status_code == 422
    assert "after_id" in response.text


async def dead_letter_a_completion_before_its_learner(
    app: FastAPI, js: JetStreamContext, n: int
) -> tuple[CloudEvent[TrainingCompleted], DeadLetter]:
    """Publish learner n's completion while certification does not know the learner: after its
    retries the consumer dead-letters it. Returns the event and its dead letter."""
    runtime = app.state.runtime
    completion = TrainingCompleted(
        training_id=uuid_of("training", n),
        enrollment_id=uuid_of("enrollment", n),
        learner_id=uuid_of("learner", n),
        center_id=PLACEMENTS[n]["center_id"],
        pathway=Pathway.SCHOOL_REINTEGRATION,
        workshops=[],
        hours_attended=300,
        attendance_rate=0.9,
        result=TrainingResult.PASSED,
        completed_on=date(2026, 6, 30),
    )
    event = new_event(completion, subject=completion.training_id, sequence=1)
    await js.publish(event.type, to_json_bytes(event), headers={"Nats-Msg-Id": event.id})

    async def dead_lettered() -> bool:
        return bool(await list_dead_letters(runtime.db, runtime.tables))

    await wait_until(dead_lettered)
    [dead] = await list_dead_letters(runtime.db, runtime.tables)
    return event, dead


async def test_a_dead_letter_replayed_says_who_replayed_it(
    app: FastAPI, client: httpx.AsyncClient, headers_for: AuthHeaders, js: JetStreamContext
) -> None:
    """A completion that came before its learner is dead-lettered after its retries; once the
    learner is known, an administrator replays it: the trail holds the replay (read by
    administrators only: a dead letter belongs to no territory) and the issuance it caused."""
    runtime = app.state.runtime
    event, dead = await dead_letter_a_completion_before_its_learner(app, js, 1)
    enrolled = learner_enrolled(1).model_copy(
        update={**PLACEMENTS[1], "pathway": Pathway.SCHOOL_REINTEGRATION}
    )
    async with runtime.uow.begin() as tx:
        await service.learner_enrolled(tx, enrolled=enrolled)

    replayed = await client.post(
        f"/dead-letters/{dead.id}/replay",
        params={"consumer": dead.consumer},
        headers=headers_for(Role.ADMIN),
    )
    assert replayed.status_code == 200

    entries = await trail(client, headers_for(Role.ADMIN))
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("certificate.issued", "fursa/certification"),
        ("dead_letter.replayed", "dev-admin"),
    ]
    assert entries[1]["details"] == {
        "consumer": dead.consumer,
        "event_id": event.id,
        "type": event.type,
    }
    officer = await trail(client, headers_for(Role.ENTRAIDE_OFFICER, region_code="07"))
    assert [e["action"] for e in officer] == ["certificate.issued"]


async def test_a_dead_letter_discarded_is_gone_and_the_trail_says_who_discarded_it(
    app: FastAPI, client: httpx.AsyncClient, headers_for: AuthHeaders, js: JetStreamContext
) -> None:
    """A completion of a learner never enrolled is dead-lettered; an administrator discards
    it: it no longer waits, a second discard finds nothing, and the trail names the event."""
    event, dead = await dead_letter_a_completion_before_its_learner(app, js, 2)
    admin = headers_for(Role.ADMIN)

    officer = headers_for(Role.ENTRAIDE_OFFICER, region_code="07")
    refused = await client.post(
        f"/dead-letters/{dead.id}/discard", params={"consumer": dead.consumer}, headers=officer
    )
    assert refused.status_code == 403
    discarded = await client.post(
        f"/dead-letters/{dead.id}/discard", params={"consumer": dead.consumer}, headers=admin
    )
    assert discarded.status_code == 200, discarded.text
    assert (discarded.json()["event_id"], discarded.json()["type"]) == (event.id, event.type)
    assert "payload" not in discarded.json()

    assert (await client.get("/dead-letters", headers=admin)).json() == []
    assert (
        await client.get("/dead-letters", params={"include_replayed": True}, headers=admin)
    ).json() == []
    again = await client.post(
        f"/dead-letters/{dead.id}/discard", params={"consumer": dead.consumer}, headers=admin
    )
    assert again.status_code == 404
    [entry] = await trail(client, admin)
    assert (entry["action"], entry["actor"], entry["entity_id"]) == (
        "dead_letter.discarded",
        "dev-admin",
        str(dead.id),
    )
    assert entry["details"] == {
        "consumer": dead.consumer,
        "event_id": event.id,
        "type": event.type,
    }
