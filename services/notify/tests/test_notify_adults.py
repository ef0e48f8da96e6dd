"""Adult learners are their own contact: from 18 (on the day of the message) messages go to
the learner's own phone and e-mail, in words addressed to them; a minor's go to the guardian;
a learner who came of age without their own phone recorded is still reached through the
guardian. Against a real database; the address is the one the delivery worker sends to."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fursa.notify import deliveries
from fursa.shared.clock import local_today
from fursa.shared.contracts import Language, LearnerContact, LearnerPII
from fursa.shared.testing.builders import learner_pii

Notify = Any  # the conftest's harness
OWN = LearnerContact(
    phone="+212677001122", email="amine@example.ma", preferred_language=Language.FR
)


def born_years_ago(years: int, *, days_later: int = 0) -> date:
    today = local_today()
    try:
        birthday = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        birthday = date(today.year - years, 2, 28)
    return birthday + timedelta(days=days_later)


def pii(n: int, born: date, contact: LearnerContact | None = OWN) -> LearnerPII:
    return learner_pii(n).model_copy(update={"birth_date": born, "contact": contact})


async def addresses(notify: Notify) -> set[str]:
    claims = (await deliveries.claim(notify.uow, lease=timedelta(minutes=1), limit=10)).claims
    return {claim.message.to for claim in claims}


async def test_an_adult_learner_is_told_in_their_own_words_at_their_own_phone_and_email(
    notify: Notify, journey: Any
) -> None:
    await notify.hear(journey.enrolled(1, pii=pii(1, born_years_ago(18))))
    await notify.hear(journey.issued(1))

    told = await notify.deliveries(1)
    assert {(d.recipient_kind, d.template) for d in told} == {
        ("learner", "learner.learner-enrolled.fr"),
        ("learner", "learner.certificate-issued.fr"),
    }
    assert not any("votre enfant" in d.body for d in told)
    assert all("Vous avez obtenu" in d.body for d in told if "certificate" in d.template)
    assert await addresses(notify) == {OWN.phone, OWN.email}


async def test_a_minor_with_a_phone_of_their_own_is_still_reached_through_the_guardian(
    notify: Notify, journey: Any
) -> None:
    await notify.hear(journey.enrolled(1, pii=pii(1, born_years_ago(18, days_later=1))))

    [sms] = await notify.deliveries(1)
    assert (sms.recipient_kind, sms.template) == ("guardian", "learner-enrolled.ar")
    assert "طفلكم" in sms.body
    assert await addresses(notify) == {learner_pii(1).guardian.phone}


async def test_arabic_messages_to_an_adult_do_not_speak_of_their_child(
    notify: Notify, journey: Any
) -> None:
    arabic = OWN.model_copy(update={"preferred_language": Language.AR, "email": None})
    await notify.hear(journey.enrolled(2, pii=pii(2, born_years_ago(19), arabic)))
    await notify.hear(journey.completed(2))

    told = await notify.deliveries(2)
    assert [d.template for d in told] == [
        "learner.learner-enrolled.ar",
        "learner.training-completed.ar",
    ]
    assert all("طفلكم" not in d.body for d in told)


async def test_a_learner_of_age_without_their_own_phone_is_reached_through_the_guardian(
    notify: Notify, journey: Any
) -> None:
    await notify.hear(journey.enrolled(1, pii=pii(1, born_years_ago(18), contact=None)))

    [sms] = await notify.deliveries(1)
    assert sms.recipient_kind == "guardian"
    assert await addresses(notify) == {learner_pii(1).guardian.phone}


async def test_an_adult_who_withdraws_consent_to_messages_is_told_nothing_more(
    notify: Notify, journey: Any
) -> None:
    adult = pii(1, born_years_ago(20))
    await notify.hear(journey.enrolled(1, pii=adult))
    refused = adult.model_copy(
        update={"consent": adult.consent.model_copy(update={"notifications": False})}
    )
    await notify.hear(
        journey.updated(1).model_copy(
            update={"data": journey.updated(1).data.model_copy(update={"pii": refused})}
        )
    )

    assert {d.status for d in await notify.deliveries(1)} == {"cancelled"}
