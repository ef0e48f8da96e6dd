"""The learner's association hears of them: its staff give notify one e-mail address and a
language, and from then on each enrollment, place on the waiting list, learner at risk,
completion, certificate issued or revoked reaches it, naming the learner in its language —
whatever the guardian's consent to messages, which is the guardian's own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from fursa.notify import associations
from fursa.shared.auth import Principal, Role
from fursa.shared.contracts import Language
from fursa.shared.testing.builders import uuid_of
from fursa.shared.testing.kernel import wait_until

Notify = Any  # the conftest's harness
Publish = Callable[[Any], Any]
AuthHeaders = Callable[..., dict[str, str]]

ASSOCIATION = uuid_of("association", 1)  # every test learner's association
OTHER_ASSOCIATION = uuid_of("association", 2)
ADDRESS = "suivi@association-amal.ma"


def staff(association_id: str) -> Principal:
    return Principal("staff-1", Role.ASSOCIATION_STAFF, association_id=association_id)


async def reachable(notify: Notify, language: Language = Language.FR) -> None:
    await associations.set_contact(
        notify.uow,
        association_id=ASSOCIATION,
        email=ADDRESS,
        language=language,
        by=staff(ASSOCIATION),
    )


def to_association(found: list[Any]) -> list[Any]:
    return [delivery for delivery in found if delivery.recipient_kind == "association"]


@pytest.mark.parametrize(
    ("event", "template", "says"),
    [
        ("enrolled", "association.learner-enrolled.fr", "Salma Benali est inscrit(e)"),
        ("waitlisted", "association.learner-waitlisted.fr", "au rang 2"),
        ("at_risk", "association.learner-at-risk.fr", "Salma Benali n'a assisté qu'à 42 %"),
        ("completed", "association.training-completed.fr", "Salma Benali a terminé"),
        ("issued", "association.certificate-issued.fr", "/verify/MS-2026-000001"),
        ("revoked", "association.certificate-revoked.fr", "MS-2026-000001 de Salma Benali"),
    ],
)
async def test_the_association_hears_of_each_thing_naming_the_learner(
    notify: Notify, journey: Any, event: str, template: str, says: str
) -> None:
    await reachable(notify)
    if event not in ("enrolled", "waitlisted"):
        await notify.hear(journey.enrolled(1))
    await notify.hear(getattr(journey, event)(1))

    told = [d for d in to_association(await notify.deliveries(1)) if d.template == template]
    assert len(told) == 1
    [notice] = told
    assert (notice.channel, notice.recipient, notice.status) == ("email", ASSOCIATION, "pending")
    assert says in notice.body


async def test_the_association_reads_in_its_own_language_with_the_arabic_name(
    notify: Notify, journey: Any
) -> None:
    await reachable(notify, Language.AR)
    await notify.hear(journey.enrolled(3))  # a French-speaking guardian

    [notice] = to_association(await notify.deliveries(3))
    assert notice.template == "association.learner-enrolled.ar"
    assert "سلمى بنعلي" in notice.body
    assert notice.title == "تأكيد التسجيل: سلمى بنعلي – مدرسة الفرصة الثانية"
    guardian = [d for d in await notify.deliveries(3) if d.recipient_kind == "guardian"]
    assert [d.template for d in guardian] == ["learner-enrolled.fr"]


async def test_an_association_without_an_address_is_not_written_to(
    notify: Notify, journey: Any
) -> None:
    await notify.hear(journey.enrolled(1))
    await notify.hear(journey.at_risk(1))

    assert to_association(await notify.deliveries(1)) == []
    assert len(await notify.deliveries(1)) == 2  # the guardian's SMS


async def test_the_association_hears_even_when_the_guardian_refused_messages(
    notify: Notify, journey: Any
) -> None:
    await reachable(notify)
    await notify.hear(journey.enrolled(1, notifications=False))
    await notify.hear(journey.at_risk(1))
    await notify.hear(journey.updated(1, notifications=False, sequence=3))

    found = await notify.deliveries(1)
    assert [(d.recipient_kind, d.status) for d in found] == [
        ("association", "pending"),
        ("association", "pending"),
    ]


async def test_a_transferred_learner_is_told_of_to_the_new_association(
    notify: Notify, journey: Any
) -> None:
    await reachable(notify)
    await associations.set_contact(
        notify.uow,
        association_id=OTHER_ASSOCIATION,
        email="contact@association-nour.ma",
        language=Language.FR,
        by=staff(OTHER_ASSOCIATION),
    )
    await notify.hear(journey.enrolled(1))
    await notify.hear(journey.transferred(1))  # to association 2
    await notify.hear(journey.at_risk(1))

    notices = to_association(await notify.deliveries(1))
    assert [(d.template, d.recipient) for d in notices] == [
        ("association.learner-enrolled.fr", ASSOCIATION),
        ("association.learner-at-risk.fr", OTHER_ASSOCIATION),
    ]


async def test_erasure_forgets_the_associations_notices_too(notify: Notify, journey: Any) -> None:
    await reachable(notify)
    await notify.hear(journey.enrolled(1))
    await notify.hear(journey.erased(1))

    assert await notify.deliveries(1) == []


async def test_removing_the_address_cancels_the_notices_not_yet_sent(
    notify: Notify, journey: Any
) -> None:
    await reachable(notify)
    await notify.hear(journey.enrolled(1))

    by = staff(ASSOCIATION)
    assert await associations.remove_contact(notify.uow, association_id=ASSOCIATION, by=by)
    assert not await associations.remove_contact(notify.uow, association_id=ASSOCIATION, by=by)
    [notice] = to_association(await notify.deliveries(1))
    assert (notice.status, notice.last_error) == ("cancelled", "address_removed")
    await notify.hear(journey.at_risk(1))
    assert len(to_association(await notify.deliveries(1))) == 1


# ---- over HTTP and SMTP, with the service running ------------------------------------------


async def test_the_associations_staff_set_its_address_and_it_gets_real_email(
    client: httpx.AsyncClient,
    headers_for: AuthHeaders,
    smtp_server: Any,
    journey: Any,
    publish_event: Publish,
) -> None:
    own = headers_for(Role.ASSOCIATION_STAFF, association_id=ASSOCIATION)
    path = f"/associations/{ASSOCIATION}/contact"
    assert (await client.get(path, headers=own)).status_code == 404
    response = await client.put(
        path, json={"email": ADDRESS, "preferred_language": "fr"}, headers=own
    )
    assert response.status_code == 200
    assert response.json()["email"] == ADDRESS
    assert (await client.get(path, headers=own)).json() == response.json()

    await publish_event(journey.enrolled(1))
    await publish_event(journey.at_risk(1))

    async def association_sent() -> bool:
        summary = await client.get(
            "/deliveries/summary", params={"recipient_kind": "association"}, headers=own
        )
        return bool(summary.json()["sent"] == 2)

    await wait_until(association_sent)
    mails = [m for m in smtp_server.mailbox.messages if m["To"] == ADDRESS]
    assert sorted(m["Subject"] for m in mails) == [
        "Inscription confirmée : Salma Benali – École de la Deuxième Chance",
        "Risque de décrochage : Salma Benali – École de la Deuxième Chance",
    ]
    guardians = (await client.get("/deliveries/summary", headers=own)).json()
    assert guardians["sent"] == 2  # the guardian's two SMS, counted apart

    assert (await client.delete(path, headers=own)).status_code == 204
    assert (await client.get(path, headers=own)).status_code == 404
    assert (await client.delete(path, headers=own)).status_code == 404


async def test_only_the_associations_own_staff_and_admins_reach_its_address(
    client: httpx.AsyncClient, headers_for: AuthHeaders
) -> None:
    path = f"/associations/{ASSOCIATION}/contact"
    body = {"email": ADDRESS, "preferred_language": "ar"}
    assert (await client.put(path, json=body)).status_code == 200  # an admin

    other_staff = headers_for(Role.ASSOCIATION_STAFF, association_id=OTHER_ASSOCIATION)
    for method in ("GET", "PUT", "DELETE"):
        response = await client.request(method, path, json=body, headers=other_staff)
        assert response.status_code == 404, method
    for role, binding in [
        (Role.EDUCATOR, {"center_id": uuid_of("center", 1)}),
        (Role.DIRECTORATE, {"region_code": "07"}),
        (Role.PARTNER, {"partner_id": uuid_of("partner", 1)}),
    ]:
        response = await client.get(path, headers=headers_for(role, **binding))
        assert response.status_code == 403, role
    assert (await client.get(path)).json()["preferred_language"] == "ar"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-address", "preferred_language": "fr"}, "email"),
        ({"email": ADDRESS, "preferred_language": "en"}, "preferred_language"),
        ({"email": ADDRESS}, "preferred_language"),
        ({"email": ADDRESS, "preferred_language": "fr", "phone": "+212600000000"}, "phone"),
    ],
)
async def test_a_bad_address_is_refused_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await client.put(f"/associations/{ASSOCIATION}/contact", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_an_association_id_that_is_not_a_uuid_is_refused(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/associations/not-a-uuid/contact")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path.association_id"
