"""What each consent allows (fursa.shared.consent): the one reading every service applies."""

from __future__ import annotations

import pytest

from fursa.shared.consent import Use, allows
from fursa.shared.contracts import Consent

NOTHING = Consent(data_use=False, notifications=False, partner_sharing=False)
EVERYTHING = Consent(data_use=True, notifications=True, partner_sharing=True)


@pytest.mark.parametrize("use", [Use.ENROLMENT, Use.STATISTICS])
def test_the_enrolment_and_anonymous_statistics_need_no_further_consent(use: Use) -> None:
    assert allows(NOTHING, use)


def test_messages_need_the_consent_to_messages_and_only_it() -> None:
    assert allows(Consent(data_use=False, notifications=True), Use.MESSAGES)
    assert not allows(EVERYTHING.model_copy(update={"notifications": False}), Use.MESSAGES)


def test_sharing_with_partners_needs_its_own_consent_and_the_consent_to_data_use() -> None:
    assert allows(EVERYTHING, Use.PARTNER_SHARING)
    assert not allows(EVERYTHING.model_copy(update={"partner_sharing": False}), Use.PARTNER_SHARING)
    assert not allows(EVERYTHING.model_copy(update={"data_use": False}), Use.PARTNER_SHARING)


def test_a_consent_recorded_before_sharing_was_asked_does_not_allow_it() -> None:
    recorded_before = Consent.model_validate({"data_use": True, "notifications": True})

    assert not allows(recorded_before, Use.PARTNER_SHARING)
