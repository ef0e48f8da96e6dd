"""RFC 9457 problem details for every error, naming the field or rule at fault, in Arabic or
French by ``Accept-Language``; in the service's default language (the ``default_language``
setting, Arabic unless set) when the caller asks for neither.

Services raise :class:`Problem` (or let FastAPI's validation fail); :func:`install` turns every
error — validation, HTTP, domain rule, oversized body, unexpected exception — into
``application/problem+json``. Messages are looked up by a stable ``code`` so that a client can
branch on it whatever the language.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Receive, Scope, Send

MEDIA_TYPE = "application/problem+json"
LANGUAGES = ("fr", "ar")
Language = Literal["ar", "fr"]
DEFAULT_LANGUAGE: Language = "ar"
TYPE_BASE = "urn:fursa:problem:"

# code → language → message; ``{name}`` placeholders are filled from the problem's params.
MESSAGES: dict[str, dict[str, str]] = {
    "validation": {
        "fr": "La requête contient des champs invalides.",
        "ar": "يحتوي الطلب على حقول غير صالحة.",
    },
    "not_found": {"fr": "Ressource introuvable.", "ar": "المورد غير موجود."},
    "unauthorized": {
        "fr": "Authentification requise ou jeton invalide.",
        "ar": "المصادقة مطلوبة أو الرمز غير صالح.",
    },
    "forbidden": {
        "fr": "Le rôle {role} ne permet pas cette opération.",
        "ar": "الدور {role} لا يسمح بهذه العملية.",
    },
    "conflict": {
        "fr": "L'opération est en conflit avec l'état actuel.",
        "ar": "العملية تتعارض مع الحالة الحالية.",
    },
    "payload_too_large": {
        "fr": "Le corps de la requête dépasse {limit} octets.",
        "ar": "يتجاوز حجم الطلب {limit} بايت.",
    },
    "method_not_allowed": {"fr": "Méthode non autorisée.", "ar": "الطريقة غير مسموح بها."},
    "unreadable_body": {
        "fr": "Le corps de la requête est illisible (JSON en UTF-8 attendu).",
        "ar": "تعذرت قراءة محتوى الطلب (يُنتظر JSON بترميز UTF-8).",
    },
    "replay_failed": {
        "fr": "Le rejeu a échoué : l'événement reste en lettre morte.",
        "ar": "فشلت إعادة المعالجة: يبقى الحدث في قائمة الرسائل الميتة.",
    },
    "internal": {
        "fr": "Erreur interne ; rien n'a été enregistré.",
        "ar": "خطأ داخلي؛ لم يتم حفظ أي شيء.",
    },
}

# Per-field validation messages for the rules pydantic reports most.
FIELD_RULES: dict[str, dict[str, str]] = {
    "missing": {"fr": "champ obligatoire", "ar": "حقل إلزامي"},
    "extra_forbidden": {"fr": "champ inconnu", "ar": "حقل غير معروف"},
    "string_pattern_mismatch": {"fr": "format invalide", "ar": "صيغة غير صالحة"},
    "string_too_long": {"fr": "texte trop long", "ar": "النص طويل جدًا"},
    "string_too_short": {"fr": "texte trop court", "ar": "النص قصير جدًا"},
    "date_from_datetime_parsing": {"fr": "date invalide", "ar": "تاريخ غير صالح"},
    "date_parsing": {"fr": "date invalide (AAAA-MM-JJ)", "ar": "تاريخ غير صالح (YYYY-MM-DD)"},
    "enum": {"fr": "valeur non autorisée", "ar": "قيمة غير مسموح بها"},
    "literal_error": {"fr": "valeur non autorisée", "ar": "قيمة غير مسموح بها"},
    "greater_than_equal": {"fr": "valeur trop petite", "ar": "القيمة صغيرة جدًا"},
    "less_than_equal": {"fr": "valeur trop grande", "ar": "القيمة كبيرة جدًا"},
    "greater_than": {"fr": "valeur trop petite", "ar": "القيمة صغيرة جدًا"},
    "less_than": {"fr": "valeur trop grande", "ar": "القيمة كبيرة جدًا"},
    "bool_parsing": {"fr": "booléen attendu", "ar": "قيمة منطقية متوقعة"},
    "bool_type": {"fr": "booléen attendu", "ar": "قيمة منطقية متوقعة"},
    "float_parsing": {"fr": "nombre attendu", "ar": "رقم متوقع"},
    "int_parsing": {"fr": "entier attendu", "ar": "عدد صحيح متوقع"},
    "string_type": {"fr": "texte attendu", "ar": "نص متوقع"},
    "model_attributes_type": {"fr": "objet attendu", "ar": "كائن متوقع"},
    "dict_type": {"fr": "objet attendu", "ar": "كائن متوقع"},
    "list_type": {"fr": "liste attendue", "ar": "قائمة متوقعة"},
    "json_invalid": {"fr": "JSON invalide", "ar": "JSON غير صالح"},
    "value_error": {"fr": "valeur invalide", "ar": "قيمة غير صالحة"},
}


def register_messages(messages: Mapping[str, Mapping[str, str]]) -> None:
    """Add a service's domain rules (code → {fr, ar}) to the catalogue of messages."""
    for code, texts in messages.items():
        missing = set(LANGUAGES) - set(texts)
        if missing:
            raise ValueError(f"message {code!r} lacks {sorted(missing)}")
        MESSAGES[code] = dict(texts)


def default_language(request: Request) -> str:
    """The language of an answer whose caller asks for neither Arabic nor French: the one
    :func:`install` was given (the service's ``default_language`` setting)."""
    app = request.scope.get("app")
    language = getattr(getattr(app, "state", None), "default_language", DEFAULT_LANGUAGE)
    return str(language)


def language_of(request: Request) -> str:
    """The first of Arabic or French that the caller accepts, by q-value; else the service's
    default language (:func:`default_language`)."""
    header = request.headers.get("accept-language", "")
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else default_language(request)


class Problem(Exception):  # noqa: N818 - the RFC's own word
    """An error answered as problem+json: a status, a stable code, and what is at fault."""

    def __init__(
        self,
        status: int,
        code: str,
        *,
        detail: str | None = None,
        params: Mapping[str, Any] | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or code)
        self.status = status
        self.code = code
        self.detail = detail
        self.params = dict(params or {})
        self.errors = list(errors)
        self.headers = dict(headers or {})

    @classmethod
    def not_found(cls) -> Problem:
        return cls(404, "not_found")

    @classmethod
    def unauthorized(cls, detail: str) -> Problem:
        return cls(401, "unauthorized", detail=detail, headers={"WWW-Authenticate": "Bearer"})

    @classmethod
    def forbidden(cls, role: str, allowed: Sequence[str]) -> Problem:
        return cls(
            403, "forbidden", params={"role": role}, detail=f"allowed roles: {', '.join(allowed)}"
        )

    @classmethod
    def rule(cls, code: str, status: int = 422, **params: Any) -> Problem:
        """A domain rule refused the request; ``code`` names the rule."""
        return cls(status, code, params=params)

    def body(self, language: str) -> dict[str, Any]:
        texts = MESSAGES.get(self.code, {})
        title = texts.get(language) or texts.get("fr") or self.code
        with contextlib.suppress(KeyError, IndexError):
            title = title.format(**self.params)
        body: dict[str, Any] = {
            "type": TYPE_BASE + self.code,
            "title": title,
            "status": self.status,
            "code": self.code,
        }
        if self.detail:
            body["detail"] = self.detail
        if self.params:
            body["params"] = self.params
        if self.errors:
            body["errors"] = self.errors
        return body

    def response(self, request: Request) -> JSONResponse:
        language = language_of(request)
        return JSONResponse(
            self.body(language),
            status_code=self.status,
            media_type=MEDIA_TYPE,
            headers={**self.headers, "Content-Language": language},
        )


def validation_problem(exc: RequestValidationError, language: str) -> Problem:
    errors = []
    for error in exc.errors():
        rule = str(error.get("type", "value_error"))
        # A body that is not JSON at all is located by character offset: name the body instead.
        location = (
            []
            if rule == "json_invalid"
            else [str(part) for part in error.get("loc", ()) if part != "body"]
        )
        message = FIELD_RULES.get(rule, {}).get(language) or str(error.get("msg", rule))
        errors.append({"field": ".".join(location) or "body", "rule": rule, "message": message})
    return Problem(422, "validation", errors=errors)


# FastAPI answers 400 only for a body it cannot decode at all (not UTF-8): a JSON that does not
# parse is a 422 ``json_invalid``.
_STATUS_CODES = {
    400: "unreadable_body",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
}


def install(app: FastAPI, *, default_language: Language = DEFAULT_LANGUAGE) -> None:
    """Answer every error of ``app`` as problem+json, in ``default_language`` when the caller's
    ``Accept-Language`` names neither language. Oversized bodies are refused by the kernel's
    request middleware (:func:`limited_body`, :func:`refuse_body`)."""
    if default_language not in LANGUAGES:
        raise ValueError(f"default_language must be one of {LANGUAGES}, not {default_language!r}")
    app.state.default_language = default_language

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return exc.response(request)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return validation_problem(exc, language_of(request)).response(request)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if isinstance(exc.__cause__, Problem):
            # FastAPI answers 400 for any error while it reads a body, a streamed body passing
            # the limit (:func:`limited_body`) included: answer the problem that stopped it.
            return exc.__cause__.response(request)
        code = _STATUS_CODES.get(exc.status_code, "conflict" if exc.status_code == 409 else "")
        problem = Problem(
            exc.status_code,
            code or f"http_{exc.status_code}",
            detail=None if code else str(exc.detail),
            headers=dict(exc.headers or {}),
        )
        return problem.response(request)

    async def on_unexpected(request: Request, _exc: Exception) -> JSONResponse:
        return Problem(500, "internal").response(request)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


def payload_too_large(max_bytes: int) -> Problem:
    return Problem(413, "payload_too_large", params={"limit": max_bytes})


async def refuse_body(scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
    """Answer 413 to a request whose announced ``Content-Length`` exceeds ``max_bytes``."""
    response = payload_too_large(max_bytes).response(Request(scope, receive))
    await response(scope, receive, send)


def limited_body(receive: Receive, max_bytes: int) -> Receive:
    """``receive`` that raises 413 (answered as problem+json by :func:`install`'s handlers) once
    a streamed body passes ``max_bytes``."""
    received = 0

    async def limited_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise payload_too_large(max_bytes)
        return message

    return limited_receive


# ---- the problems in the OpenAPI document ----------------------------------------------------

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `code` is stable, `title` in the caller's language.",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "description": "`urn:fursa:problem:<code>`"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "params": {"type": "object", "additionalProperties": True},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "rule", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "rule": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}

_WRITES = frozenset({"post", "put", "patch", "delete"})
# Why a status may answer, for the operations it applies to (see `document_problems`).
_WHY = {
    400: "The request body cannot be read (JSON in UTF-8 is expected).",
    401: "No valid bearer token.",
    403: "The caller's role does not serve this operation.",
    404: "Unknown, or outside the caller's scope (the same answer, so ids cannot be probed).",
    409: "The operation conflicts with the current state; `code` names the rule.",
    413: "The request body exceeds the service's limit.",
    422: "A field or a rule refuses the request; `errors` names the fields.",
}


def document_problems(openapi: dict[str, Any]) -> dict[str, Any]:
    """Declare in ``openapi`` (in place, and returned) the problem+json answers each operation
    gives, with the problem's schema, as :func:`install` answers them:

    - 401 and 403 where a bearer token is required, 404 where a path names an object;
    - 404 and 409 for authenticated writes (a referenced object or a domain rule);
    - 400 (a body that cannot be decoded) and 413 where there is a body, 422 wherever there is
      any input to refuse.

    FastAPI's own 422 (``HTTPValidationError`` as ``application/json``) is replaced: errors are
    problem+json. A status a route declares itself is kept, its problem+json schema filled in.
    """
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    problem = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in openapi.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "put", "post", "delete", "options", "head", "patch"):
                continue
            parameters = operation.get("parameters", [])
            statuses: set[int] = set()
            secured = bool(operation.get("security"))
            if secured:
                statuses |= {401, 403}
            if any(parameter.get("in") == "path" for parameter in parameters):
                statuses.add(404)
            if secured and method in _WRITES:
                statuses |= {404, 409}
            if "requestBody" in operation:
                statuses |= {400, 413}
            if parameters or "requestBody" in operation:
                statuses.add(422)
            responses = operation.setdefault("responses", {})
            for status in statuses:
                responses.setdefault(str(status), {"description": _WHY[status]})
            for status, response in responses.items():
                if not status.startswith("4"):
                    continue
                content = response.setdefault("content", {})
                if status == "422":
                    content.pop("application/json", None)
                if not content or MEDIA_TYPE in content:
                    content.update(problem)
                if response.get("description") in ("Validation Error", "", None):
                    response["description"] = _WHY.get(int(status), "")
    if "HTTPValidationError" not in json.dumps(openapi.get("paths", {})):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return openapi
