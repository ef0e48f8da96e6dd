"""Each service's client as a route receives it: called as the signed-in person, in their
language. Routes declare the ones they use (``enrollment: Enrollment``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request

from fursa.console.pages import PagesDep
from fursa.console.services import (
    CertificationClient,
    EnrollmentClient,
    NotifyClient,
    OperationsClient,
    ServiceClient,
    StatisticsClient,
    TrainingClient,
)
from fursa.console.signin import CurrentPerson

C = TypeVar("C", bound=ServiceClient)


def _client(
    kind: type[C], service: str
) -> Callable[[Request, CurrentPerson, PagesDep], Awaitable[C]]:
    async def client(request: Request, person: CurrentPerson, pages: PagesDep) -> C:
        return kind(
            request.app.state.http,
            request.app.state.settings.service_urls[service],
            person.token,
            pages.language(request),
        )

    return client


Enrollment = Annotated[EnrollmentClient, Depends(_client(EnrollmentClient, "enrollment"))]
Training = Annotated[TrainingClient, Depends(_client(TrainingClient, "training"))]
Certification = Annotated[
    CertificationClient, Depends(_client(CertificationClient, "certification"))
]
Notify = Annotated[NotifyClient, Depends(_client(NotifyClient, "notify"))]
Statistics = Annotated[StatisticsClient, Depends(_client(StatisticsClient, "enrollment"))]


async def operations(
    request: Request, person: CurrentPerson, pages: PagesDep
) -> dict[str, OperationsClient]:
    """Each service's operations (dead letters, audit trail), by the service's name."""
    urls: dict[str, str] = request.app.state.settings.service_urls
    language = pages.language(request)
    return {
        name: OperationsClient(request.app.state.http, url, person.token, language)
        for name, url in urls.items()
    }


Operations = Annotated[dict[str, OperationsClient], Depends(operations)]
