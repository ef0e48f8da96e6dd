"""The four services as the console calls them: over HTTP, with the signed-in person's token.

The console decides nothing a service decides: scoping, validation, eligibility and audit stay
in the services, and their answers (problem+json in the person's language) are what the pages
show. One client per service, each method one API call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from fursa.console.i18n import Language

IMPORT_TIMEOUT_S = 120.0
"""A file of learners is enrolled row by row: far longer than a page's calls."""


@dataclass
class ServiceProblem(Exception):  # noqa: N818 - the service's answer, not the console's error
    """A service refused the call: its status and its problem+json (messages already in the
    person's language, with the fields at fault)."""

    status: int
    problem: dict[str, Any] = field(default_factory=dict)

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail") or self.problem.get("title") or "")

    @property
    def code(self) -> str | None:
        code = self.problem.get("code")
        return str(code) if code else None

    def field_errors(self) -> dict[str, str]:
        """Field → message, fields named as in the request body (``learner.birth_date``)."""
        errors: dict[str, str] = {}
        for error in self.problem.get("errors") or []:
            name = str(error.get("field", ""))
            errors.setdefault(name.removeprefix("body."), str(error.get("message", "")))
        return errors


class ServiceClient:
    """One service's API, called as one person in one language."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, token: str, language: Language):
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}", "Accept-Language": language}

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._http.request(
            method, self._base_url + path, headers=self._headers, **kwargs
        )
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"detail": response.text[:200]}
            raise ServiceProblem(response.status_code, problem if isinstance(problem, dict) else {})
        return response.json()

    async def document(self, path: str, **params: str) -> bytes:
        """A file the service renders (a PDF, a spreadsheet), as bytes."""
        response = await self._http.get(
            self._base_url + path,
            headers=self._headers,
            params={name: value for name, value in params.items() if value},
        )
        if response.status_code >= 400:
            raise ServiceProblem(response.status_code, {"detail": response.reason_phrase})
        return response.content


class EnrollmentClient(ServiceClient):
    """Learners, enrolments and the reference data of the enrollment service."""

    async def find_learners(self, **criteria: str | int | None) -> dict[str, Any]:
        params = {name: value for name, value in criteria.items() if value not in (None, "")}
        found: dict[str, Any] = await self.call("GET", "/learners", params=params)
        return found

    async def learner(self, learner_id: str) -> dict[str, Any]:
        learner: dict[str, Any] = await self.call("GET", f"/learners/{learner_id}")
        return learner

    async def enrollments_of(self, learner_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call(
            "GET", "/enrollments", params={"learner_id": learner_id}
        )
        return found

    async def enrollment(self, enrollment_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.call("GET", f"/enrollments/{enrollment_id}")
        return found

    async def enroll(self, body: dict[str, Any]) -> dict[str, Any]:
        enrolled: dict[str, Any] = await self.call("POST", "/enrollments", json=body)
        return enrolled

    async def centers(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call("GET", "/centers")
        return found

    async def associations(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call("GET", "/associations")
        return found

    async def school_years(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call("GET", "/school-years")
        return found

    async def pathways(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call("GET", "/pathways")
        return found

    async def audit_of(self, learner_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call(
            "GET", "/audit", params={"learner_id": learner_id, "limit": 200}
        )
        return found

    async def correct(self, learner_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        corrected: dict[str, Any] = await self.call(
            "PATCH", f"/learners/{learner_id}", json=changes
        )
        return corrected

    async def erase(self, learner_id: str) -> dict[str, Any]:
        erased: dict[str, Any] = await self.call("POST", f"/learners/{learner_id}/erasure")
        return erased

    async def transfer(self, enrollment_id: str, to_center_id: str) -> dict[str, Any]:
        moved: dict[str, Any] = await self.call(
            "POST", f"/enrollments/{enrollment_id}/transfer", json={"to_center_id": to_center_id}
        )
        return moved

    async def withdraw(self, enrollment_id: str, reason: str) -> dict[str, Any]:
        withdrawn: dict[str, Any] = await self.call(
            "POST", f"/enrollments/{enrollment_id}/withdrawal", json={"reason": reason}
        )
        return withdrawn

    async def places_nearby(self, enrollment_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.call(
            "GET", f"/enrollments/{enrollment_id}/places-nearby"
        )
        return found

    async def place_elsewhere(self, enrollment_id: str, center_id: str) -> dict[str, Any]:
        placed: dict[str, Any] = await self.call(
            "POST", f"/enrollments/{enrollment_id}/place-elsewhere", json={"center_id": center_id}
        )
        return placed

    async def possible_duplicates(self, limit: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call(
            "GET", "/learners/duplicates", params={"limit": limit}
        )
        return found

    async def decide_duplicate(
        self, learner_id: str, earlier_learner_id: str, *, same_person: bool
    ) -> dict[str, Any]:
        decided: dict[str, Any] = await self.call(
            "POST",
            f"/learners/{learner_id}/duplicates/{earlier_learner_id}",
            json={"same_person": same_person},
        )
        return decided

    async def import_learners(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each row's outcome (``line``, ``key``, ``cells`` in; see docs/import.md)."""
        answered: dict[str, list[dict[str, Any]]] = await self.call(
            "POST", "/imports/learners", json={"rows": rows}, timeout=IMPORT_TIMEOUT_S
        )
        return answered["rows"]

    async def agreements(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call("GET", "/agreements")
        return found

    async def referrals_of(self, agreement_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call(
            "GET", f"/agreements/{agreement_id}/referrals"
        )
        return found

    async def receive_referral(self, agreement_id: str, body: dict[str, Any]) -> dict[str, Any]:
        received: dict[str, Any] = await self.call(
            "POST", f"/agreements/{agreement_id}/referrals", json=body
        )
        return received

    async def referrals_by_id(self, referral_ids: set[str]) -> dict[str, dict[str, Any]]:
        """These referrals, each with its agreement's ``partner_name`` (none: no call)."""
        if not referral_ids:
            return {}
        found = {}
        for agreement in await self.agreements():
            for referral in await self.referrals_of(agreement["id"]):
                if referral["id"] in referral_ids:
                    found[referral["id"]] = referral | {"partner_name": agreement["partner_name"]}
        return found

    async def accept_referral(self, referral_id: str) -> dict[str, Any]:
        accepted: dict[str, Any] = await self.call("POST", f"/referrals/{referral_id}/accept")
        return accepted

    async def close_referral(self, referral_id: str, reason: str) -> dict[str, Any]:
        closed: dict[str, Any] = await self.call(
            "POST", f"/referrals/{referral_id}/close", json={"reason": reason}
        )
        return closed

    async def set_referral_sharing(self, referral_id: str, body: dict[str, Any]) -> dict[str, Any]:
        consented: dict[str, Any] = await self.call(
            "PUT", f"/referrals/{referral_id}/sharing", json=body
        )
        return consented


class StatisticsClient(ServiceClient):
    """The enrollment service's figures for the directorate, within the caller's scope."""

    async def statistics(self, **query: str | bool | None) -> dict[str, Any]:
        found: dict[str, Any] = await self.call("GET", "/statistics", params=_query(query))
        return found

    async def demand(self, **query: str | bool | None) -> dict[str, Any]:
        found: dict[str, Any] = await self.call("GET", "/statistics/demand", params=_query(query))
        return found

    async def indicators(self, **query: str | bool | None) -> dict[str, Any]:
        found: dict[str, Any] = await self.call("GET", "/indicators", params=_query(query))
        return found

    async def indicators_table(self, format: str, **query: str | bool | None) -> bytes:
        """The indicators as the service exports them (CSV or XLSX, names in ``lang``)."""
        params = {name: str(value).lower() for name, value in _query(query).items()}
        return await self.document("/indicators", format=format, **params)


def _query(query: dict[str, str | bool | None]) -> dict[str, str | bool]:
    return {name: value for name, value in query.items() if value not in (None, "")}


class TrainingClient(ServiceClient):
    """Trainings, classes, sessions and their attendance in the training service."""

    async def indicators(self, **query: str | bool | None) -> list[dict[str, Any]]:
        """Attendance, at-risk and completion figures per group (``by``)."""
        found: list[dict[str, Any]] = await self.call("GET", "/indicators", params=_query(query))
        return found

    async def trainings_of(self, enrollment_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call(
            "GET", "/trainings", params={"enrollment_id": enrollment_id}
        )
        return found

    async def corrections_of(self, training_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call(
            "GET", f"/trainings/{training_id}/corrections"
        )
        return found

    async def classes(self, center_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call("GET", f"/centers/{center_id}/classes")
        return found

    async def roster(self, center_id: str, class_name: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call(
            "GET", f"/centers/{center_id}/classes/{class_name}"
        )
        return found

    async def curriculum(self) -> dict[str, Any]:
        found: dict[str, Any] = await self.call("GET", "/curriculum")
        return found

    async def record_session(self, body: dict[str, Any]) -> dict[str, Any]:
        recorded: dict[str, Any] = await self.call("POST", "/sessions", json=body)
        return recorded

    async def session(self, session_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.call("GET", f"/sessions/{session_id}")
        return found

    async def correct_mark(
        self, session_id: str, training_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        corrected: dict[str, Any] = await self.call(
            "PUT", f"/sessions/{session_id}/attendance/{training_id}", json=body
        )
        return corrected

    async def class_sessions(self, center_id: str, class_name: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call(
            "GET", f"/centers/{center_id}/classes/{class_name}/sessions"
        )
        return found

    async def record_assessments(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        recorded: list[dict[str, Any]] = await self.call("POST", "/assessments", json=body)
        return recorded

    async def assessments_of(self, training_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call(
            "GET", f"/trainings/{training_id}/assessments"
        )
        return found

    async def correct_score(self, assessment_id: str, body: dict[str, Any]) -> dict[str, Any]:
        corrected: dict[str, Any] = await self.call(
            "PUT", f"/assessments/{assessment_id}", json=body
        )
        return corrected

    async def progress(self, training_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.call("GET", f"/trainings/{training_id}/progress")
        return found

    async def complete(self, training_id: str) -> dict[str, Any]:
        completed: dict[str, Any] = await self.call(
            "POST", f"/trainings/{training_id}/completion", json={"result": "passed"}
        )
        return completed

    async def follow_ups_due(self, center_id: str) -> Any:
        return await self.call("GET", "/follow-ups/due", params={"center_id": center_id})

    async def training(self, training_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.call("GET", f"/trainings/{training_id}")
        return found

    async def record_outcome(self, training_id: str, body: dict[str, Any]) -> dict[str, Any]:
        recorded: dict[str, Any] = await self.call(
            "POST", f"/trainings/{training_id}/outcomes", json=body
        )
        return recorded

    async def correct_outcome(
        self, training_id: str, months_after: int, body: dict[str, Any]
    ) -> dict[str, Any]:
        corrected: dict[str, Any] = await self.call(
            "PUT", f"/trainings/{training_id}/outcomes/{months_after}", json=body
        )
        return corrected


class CertificationClient(ServiceClient):
    """Certificates as the certification service shows them, and the officers' acts on them."""

    async def certificates_of(self, enrollment_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call(
            "GET", "/certificates", params={"enrollment_id": enrollment_id}
        )
        return found

    async def certificate(self, number: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.call("GET", f"/certificates/{number}")
        return found

    async def summary(self, school_year: str | None = None) -> dict[str, int]:
        """Certificates issued and still active; with ``school_year``, that year's cohort's."""
        params = {"school_year": school_year} if school_year else {}
        found: dict[str, int] = await self.call("GET", "/certificates/summary", params=params)
        return found

    async def pending_approvals(self, center_id: str | None = None) -> list[dict[str, Any]]:
        params = {"center_id": center_id} if center_id else {}
        found: list[dict[str, Any]] = await self.call("GET", "/approvals", params=params)
        return found

    async def approve(self, enrollment_id: str) -> dict[str, Any]:
        issued: dict[str, Any] = await self.call("POST", f"/approvals/{enrollment_id}")
        return issued

    async def hold(self, enrollment_id: str, reason: str) -> dict[str, Any]:
        held: dict[str, Any] = await self.call(
            "POST", f"/approvals/{enrollment_id}/hold", json={"reason": reason}
        )
        return held

    async def release(self, enrollment_id: str) -> dict[str, Any]:
        released: dict[str, Any] = await self.call("DELETE", f"/approvals/{enrollment_id}/hold")
        return released

    async def preview(self, enrollment_id: str) -> bytes:
        return await self.document(f"/approvals/{enrollment_id}/preview.pdf")

    async def approve_cohort(self, center_id: str, school_year: str) -> list[dict[str, Any]]:
        issued: list[dict[str, Any]] = await self.call(
            "POST", "/approvals/cohort", json={"center_id": center_id, "school_year": school_year}
        )
        return issued

    async def revoke(self, number: str, reason: str) -> dict[str, Any]:
        revoked: dict[str, Any] = await self.call(
            "POST", f"/certificates/{number}/revocation", json={"reason": reason}
        )
        return revoked

    async def reissue(self, number: str) -> dict[str, Any]:
        issued: dict[str, Any] = await self.call("POST", f"/certificates/{number}/reissue")
        return issued

    async def diploma(self, number: str) -> bytes:
        return await self.document(f"/certificates/{number}/diploma.pdf")

    async def cohort_diplomas(self, center_id: str, school_year: str) -> bytes:
        return await self.document(f"/cohorts/{center_id}/diplomas.pdf", school_year=school_year)

    async def signatories(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call("GET", "/signatories")
        return found

    async def set_signatory(self, region_code: str, body: dict[str, str]) -> dict[str, Any]:
        saved: dict[str, Any] = await self.call("PUT", f"/signatories/{region_code}", json=body)
        return saved


class OperationsClient(ServiceClient):
    """What every service offers its administrators: dead letters and the audit trail."""

    async def dead_letters(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call("GET", "/dead-letters")
        return found

    async def replay(self, dead_letter_id: int, consumer: str) -> dict[str, Any]:
        replayed: dict[str, Any] = await self.call(
            "POST", f"/dead-letters/{dead_letter_id}/replay", params={"consumer": consumer}
        )
        return replayed

    async def discard(self, dead_letter_id: int, consumer: str) -> dict[str, Any]:
        discarded: dict[str, Any] = await self.call(
            "POST", f"/dead-letters/{dead_letter_id}/discard", params={"consumer": consumer}
        )
        return discarded

    async def audit(self, action: str, limit: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call(
            "GET", "/audit", params={"action": action, "limit": limit}
        )
        return found


class NotifyClient(ServiceClient):
    """Messages the notify service sent about learners, and the partners it sends events to."""

    async def deliveries_to(self, learner_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call(
            "GET", "/deliveries", params={"learner_id": learner_id}
        )
        return found

    async def partners(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call("GET", "/partners")
        return found

    async def partner_event_types(self) -> list[str]:
        catalog: dict[str, Any] = await self.call("GET", "/partner/asyncapi.json")
        return sorted(channel["address"] for channel in catalog["channels"].values())

    async def onboard(self, name: str, url: str, event_types: list[str]) -> dict[str, Any]:
        body = {"name": name, "webhook": {"url": url, "event_types": event_types}}
        onboarded: dict[str, Any] = await self.call("POST", "/partners/onboarding", json=body)
        return onboarded

    async def partner(self, partner_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.call("GET", f"/partners/{partner_id}")
        return found

    async def endpoints(self, partner_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call("GET", f"/partners/{partner_id}/endpoints")
        return found

    async def webhook_deliveries(
        self, partner_id: str, endpoint_id: str, limit: int
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call(
            "GET",
            f"/partners/{partner_id}/endpoints/{endpoint_id}/deliveries",
            params={"limit": limit},
        )
        return found

    async def rotate_secret(self, partner_id: str, endpoint_id: str) -> dict[str, Any]:
        rotated: dict[str, Any] = await self.call(
            "POST", f"/partners/{partner_id}/endpoints/{endpoint_id}/secret"
        )
        return rotated

    async def redeliver(
        self, partner_id: str, endpoint_id: str, delivery_id: str
    ) -> dict[str, Any]:
        path = f"/partners/{partner_id}/endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver"
        delivery: dict[str, Any] = await self.call("POST", path)
        return delivery
