"""RFC 9457 problem details for every error, naming the field or rule at fault, in Arabic or
French by ``Accept-Language`` (French when the caller asks for neither).

Services raise :class:`Problem` (or let FastAPI's validation fail); :func:`install` turns every
error — validation, HTTP, domain rule, oversized body, unexpected exception — into
``application/problem+json``. Messages are looked up by a stable ``code`` so that a client can
branch on it whatever the language.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MEDIA_TYPE = "application/problem+json"
LANGUAGES = ("fr", "ar")
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


def language_of(request: Request) -> str:
    """The first of Arabic or French that the caller accepts, by q-value; French by default."""
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
    return min(ranked)[2] if ranked else "fr"


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


_STATUS_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


def install(app: FastAPI, *, max_body_bytes: int = 1_048_576) -> None:
    """Answer every error of ``app`` as problem+json and refuse bodies over ``max_body_bytes``."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return exc.response(request)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return validation_problem(exc, language_of(request)).response(request)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
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
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)


class BodyLimit:
    """Refuse request bodies over a limit with 413, whether announced or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise Problem(413, "payload_too_large", params={"limit": self.max_bytes})
            return message

        await self.app(scope, limited_receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = Problem(413, "payload_too_large", params={"limit": self.max_bytes})
        response = problem.response(Request(scope, receive))
        await response(scope, receive, send)
