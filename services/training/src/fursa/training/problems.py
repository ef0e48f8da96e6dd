"""HTTP errors as RFC 9457 problem details (``application/problem+json``).

Nothing here knows about trainings, so the module can move to ``shared/`` as it is: a
service declares which of its exceptions are which problem, and :func:`install_problem_handlers`
turns them, request validation errors and HTTP errors into problem responses. Bodies never
echo the request's input: it may be a learner's personal data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:fursa:problem:"


@dataclass(frozen=True)
class ProblemType:
    """A kind of problem: its HTTP status, a short human title and a stable identifier."""

    status: int
    title: str
    slug: str

    @property
    def uri(self) -> str:
        return PROBLEM_TYPE_PREFIX + self.slug


INVALID_REQUEST = ProblemType(422, "Invalid request", "invalid-request")


def problem_response(
    request: Request,
    *,
    status: int,
    title: str,
    problem_type: str = "about:blank",
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type,
        "title": title,
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    body.update(extensions)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI, problems: Mapping[type[Exception], ProblemType]) -> None:
    """Answer every error of ``app`` with a problem; ``problems`` maps service exceptions
    (and their subclasses) to a problem type, whose detail is the exception's message."""

    async def service_error(request: Request, exc: Exception) -> JSONResponse:
        problem = next(p for cls, p in problems.items() if isinstance(exc, cls))
        return problem_response(
            request,
            status=problem.status,
            title=problem.title,
            problem_type=problem.uri,
            detail=str(exc),
        )

    for exception in problems:
        app.add_exception_handler(exception, service_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _server_error)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    title = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    return problem_response(
        request, status=exc.status_code, title=title, detail=detail, headers=exc.headers
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [field_error(error) for error in exc.errors()]
    fields = sorted({error["field"] for error in errors})
    return problem_response(
        request,
        status=INVALID_REQUEST.status,
        title=INVALID_REQUEST.title,
        problem_type=INVALID_REQUEST.uri,
        detail=f"Invalid value for {', '.join(fields)}.",
        errors=errors,
    )


async def _server_error(request: Request, _exc: Exception) -> JSONResponse:
    return problem_response(request, status=500, title=HTTPStatus(500).phrase)


def field_error(error: Mapping[str, Any]) -> dict[str, str]:
    """One validation error: the field at fault (dotted, and as a JSON pointer into the
    body), where it was (body, query, path, header) and what is wrong with it."""
    where, *path = error["loc"]
    if error["type"] == "json_invalid":
        path = []  # the location is a character offset, not a field
    entry = {
        "field": ".".join(str(part) for part in path) or str(where),
        "in": str(where),
        "detail": _message(error),
        "type": str(error["type"]),
    }
    if where == "body":
        entry["pointer"] = _json_pointer(path)
    return entry


def _message(error: Mapping[str, Any]) -> str:
    if error["type"] == "string_pattern_mismatch":
        return "Value does not have the expected format"
    return str(error["msg"])


def _json_pointer(path: Sequence[Any]) -> str:
    escaped = (str(part).replace("~", "~0").replace("/", "~1") for part in path)
    return "#/" + "/".join(escaped)
