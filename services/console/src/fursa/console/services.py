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

    async def school_years(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call("GET", "/school-years")
        return found

    async def pathways(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.call("GET", "/pathways")
        return found
