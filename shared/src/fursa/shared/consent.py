"""What each of a learner's consents allows, in plain code: the one reading that enrollment
(which records consent), notify (which messages and feeds partners) and every other service
apply.

Running the learner's own enrolment needs no consent beyond the enrolment itself: the record,
the training and its attendance, the certificate, the association's notices about its own
learners. Neither do the programme's statistics: they are counts without names, published
with small cells suppressed, which the programme owes the ministry for every learner it serves
(counting out those who refused would bias the reintegration and placement rates the
directorate reports, and make a refusal visible as the difference between two tables).

Beyond that, each use needs its consent, given by the guardian (or by the learner from 18):

- ``data_use``: the learner's data serves beyond running their own enrolment. Sharing with a
  partner is such a use, so it needs ``data_use`` as well as its own consent;
- ``notifications``: messages about the learner to their contact (the guardian, or the adult
  learner) by SMS and e-mail;
- ``partner_sharing``: the learner's enrolment, transfers, exit, completion, outcomes and
  certificates reach the programme's partners (the partner feed and their webhooks). Those
  events carry no personal data, but they are about one child, whom a referring partner knows.

A consent withdrawn takes effect from the moment each service hears of it (learner-updated):
nothing more is sent or shared; what was already sent cannot be called back.
"""

from __future__ import annotations

from enum import StrEnum

from fursa.shared.contracts import Consent


class Use(StrEnum):
    """What the programme may do with a learner's data."""

    ENROLMENT = "enrolment"
    STATISTICS = "statistics"
    MESSAGES = "messages"
    PARTNER_SHARING = "partner_sharing"


def allows(consent: Consent, use: Use) -> bool:
    """Whether ``consent`` allows ``use`` of the learner's data."""
    match use:
        case Use.ENROLMENT | Use.STATISTICS:
            return True
        case Use.MESSAGES:
            return consent.notifications
        case Use.PARTNER_SHARING:
            return consent.data_use and consent.partner_sharing
