"""What a person sees of public verification: one HTML page in Arabic (right to left) or
French, for a certificate found, revoked, unknown, a damaged QR link, a mistyped number or too
many requests. A browser (``Accept: text/html``) never gets raw JSON under ``/verify``; a
machine still gets problem+json from the kernel's handlers.

The page's words live in :data:`TEXT`, one catalogue, never in the template.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from fursa.certification import credentials, domain
from fursa.certification.diploma import long_date
from fursa.certification.domain import Bilingual
from fursa.certification.service import Verification
from fursa.certification.templating import templates
from fursa.shared.problems import LANGUAGES, Problem, language_of

# The emblem slot's neutral placeholder, until `FURSA_CERTIFICATION_EMBLEM_FILE` names the
# issuer's own emblem.
EMBLEM = Path(__file__).with_name("static") / "emblem.svg"
EMBLEM_URL = "/assets/emblem.svg"

NUMBER = re.compile(r"^[A-Z]{2,3}-[0-9]{4}-[0-9]{6,}$")
# What a mistyped number may be echoed back with, at most (the form shows it for correction).
ECHO_CHARS = 40

TEXT: dict[str, Bilingual] = {
    "title": Bilingual("التحقق من شهادة", "Vérifier un certificat"),
    "valid": Bilingual("شهادة صحيحة وسارية المفعول", "Certificat authentique et valide"),
    "valid_hint": Bilingual(
        "هذه الشهادة مسجلة لدى التعاون الوطني ولم تُلغَ.",
        "Ce certificat est inscrit au registre de l'Entraide Nationale et n'a pas été révoqué.",
    ),
    "revoked": Bilingual("هذه الشهادة ملغاة", "Ce certificat a été révoqué"),
    "revoked_hint": Bilingual(
        "لم تعد تشهد بشيء، فلا تُقبل دليلًا على التكوين.",
        "Il n'atteste plus rien : ne l'acceptez pas comme preuve de formation.",
    ),
    "unknown": Bilingual("لا توجد شهادة بهذا الرقم.", "Aucun certificat ne porte ce numéro."),
    "unknown_hint": Bilingual(
        "تأكد من الرقم المطبوع على الوثيقة وأعد كتابته. "
        "إن كان صحيحًا فالوثيقة ليست صادرة عن التعاون الوطني.",
        "Vérifiez le numéro imprimé sur le document et saisissez-le à nouveau. "
        "S'il est exact, le document n'a pas été délivré par l'Entraide Nationale.",
    ),
    "damaged": Bilingual(
        "رابط التحقق هذا تالف أو ناقص", "Ce lien de vérification est abîmé ou incomplet"
    ),
    "damaged_hint": Bilingual(
        "هذا لا يعني أن الشهادة غير موجودة. تحقق منها برقمها المطبوع على الوثيقة.",
        "Cela ne veut pas dire que le certificat n'existe pas. "
        "Vérifiez-le par son numéro, imprimé sur le document.",
    ),
    "bad_number": Bilingual("هذا ليس رقم شهادة", "Ce n'est pas un numéro de certificat"),
    "bad_request": Bilingual(
        "عنوان هذه الصفحة غير صالح", "L'adresse de cette page n'est pas valide"
    ),
    "bad_request_hint": Bilingual(
        "اكتب رقم الشهادة أسفله للتحقق منها.",
        "Saisissez ci-dessous le numéro du certificat pour le vérifier.",
    ),
    "no_page": Bilingual("هذه الصفحة غير موجودة", "Cette page n'existe pas"),
    "rate_limited": Bilingual(
        "طلبات تحقق كثيرة من هذا العنوان", "Trop de vérifications depuis cette adresse"
    ),
    "rate_limited_hint": Bilingual(
        "أعد المحاولة بعد {retry_after} ثانية.", "Réessayez dans {retry_after} s."
    ),
    "form_intro": Bilingual(
        "اكتب الرقم المطبوع على الشهادة لمعرفة ما إذا كانت صحيحة.",
        "Saisissez le numéro imprimé sur le certificat pour savoir s'il est authentique.",
    ),
    "form_label": Bilingual("رقم الشهادة", "Numéro du certificat"),
    "form_hint": Bilingual(
        "حرفان أو ثلاثة، ثم السنة، ثم الرقم التسلسلي، مثلا",
        "Deux ou trois lettres, l'année, puis le numéro d'ordre, par exemple",
    ),
    "form_button": Bilingual("تحقق", "Vérifier"),
    "check_another": Bilingual("التحقق من شهادة أخرى", "Vérifier un autre certificat"),
    "download": Bilingual(
        "تحميل الشهادة الرقمية الموقعة", "Télécharger le certificat numérique signé"
    ),
    "how_title": Bilingual("كيف يتم التحقق؟", "Comment est-ce vérifié ?"),
    "how": Bilingual(
        "تقرأ هذه الصفحة سجل الشهادات لدى التعاون الوطني مباشرة. والشهادة الرقمية موقعة "
        "إلكترونيًا، ويمكن التحقق منها دون اتصال بالمفاتيح العمومية للجهة المُصدِرة.",
        "Cette page lit directement le registre des certificats de l'Entraide Nationale. "
        "Le certificat numérique est signé électroniquement et se vérifie hors ligne avec les "
        "clés publiques de l'émetteur.",
    ),
    "number": Bilingual("الرقم", "Numéro"),
    "document": Bilingual("الوثيقة", "Document"),
    "pathway": Bilingual("المسار", "Filière"),
    "issued_on": Bilingual("تاريخ التسليم", "Délivré le"),
    "revoked_on": Bilingual("تاريخ الإلغاء", "Révoqué le"),
    "replaced_by": Bilingual("عُوِّضت بالشهادة", "Remplacé par"),
    "holder": Bilingual("صاحب الشهادة", "Titulaire"),
    "erased": Bilingual("تم محو الاسم بطلب من صاحبه", "Nom effacé à la demande du titulaire"),
    "center": Bilingual("المركز", "Centre"),
    "region": Bilingual("الجهة", "Région"),
    "emblem": Bilingual("شعار التعاون الوطني", "Emblème de l'Entraide Nationale"),
    "languages": Bilingual("اللغة", "Langue"),
}

# What each state says (its heading) and how it looks (its CSS class and icon).
STATES = {
    "form": "",
    "valid": "valid",
    "revoked": "revoked",
    "unknown": "unknown",
    "damaged": "warning",
    "bad_number": "warning",
    "bad_request": "warning",
    "no_page": "warning",
    "rate_limited": "warning",
}


def prefers_html(request: Request) -> bool:
    """Whether the caller is a person's browser: its ``Accept`` names HTML at least as high as
    any JSON. ``*/*`` alone (curl, HTTP libraries) is a machine's."""
    html = json = 0.0
    for part in request.headers.get("accept", "").split(","):
        media, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.strip().lower()
        if media in ("text/html", "application/xhtml+xml"):
            html = max(html, quality)
        elif media == "application/json" or media.endswith("+json"):
            json = max(json, quality)
    return html > 0 and html >= json


def page_language(request: Request) -> str:
    """``?lang=`` when it names Arabic or French, else the caller's ``Accept-Language``."""
    asked = request.query_params.get("lang")
    return asked if asked in LANGUAGES else language_of(request)


def readable_number(request: Request) -> str | None:
    """The certificate number this request names (in its path or its form), if it is one."""
    raw = request.path_params.get("number") or request.query_params.get("number") or ""
    number = domain.typed_number(str(raw))
    return number if NUMBER.match(number) else None


def render(
    request: Request,
    *,
    state: str,
    status_code: int,
    found: Verification | None = None,
    token: str | None = None,
    typed: str = "",
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The page in the request's language, in one of :data:`STATES`."""
    language = page_language(request)
    ar = language == "ar"

    def text(key: str, **values: Any) -> str:
        words = TEXT[key].ar if ar else TEXT[key].fr
        return words.format(**values) if values else words

    def switch_to(other: str) -> str:
        query = {key: value for key, value in request.query_params.items() if key != "lang"}
        return f"{request.url.path}?{urlencode({**query, 'lang': other})}"

    html = templates.get_template("verify.html").render(
        lang=language,
        ar=ar,
        text=text,
        state=state,
        look=STATES[state],
        params=params or {},
        found=found,
        token=token,
        typed=typed[:ECHO_CHARS],
        switch={"ar": switch_to("ar"), "fr": switch_to("fr")},
        issuer=credentials.ISSUER_NAME,
        programme=domain.PROGRAMME,
        kinds=domain.KINDS,
        pathways=domain.PATHWAYS,
        in_words=lambda day: long_date(day).ar if ar else long_date(day).fr,
        emblem_url=EMBLEM_URL,
    )
    return HTMLResponse(
        html,
        status_code=status_code,
        headers={
            **(headers or {}),
            "Content-Language": language,
            "Vary": "Accept, Accept-Language",
        },
    )


def problem_page(request: Request, problem: Problem) -> HTMLResponse:
    """A problem the verification routes raised, told to a person."""
    number = readable_number(request)
    if problem.status == 429:
        state = "rate_limited"
    elif problem.code == "token_mismatch":
        state = "damaged"
    elif problem.status == 404:
        state = "unknown" if number else "no_page"
    else:
        state = "bad_request"
    return render(
        request,
        state=state,
        status_code=problem.status,
        typed=number or "",
        params=problem.params,
        headers=problem.headers,
    )


def invalid_request_page(request: Request, error: RequestValidationError) -> HTMLResponse:
    """A request the routes' parameters refused, told to a person: a damaged QR link, a
    mistyped number, or an address that is not the page's."""
    fields = {".".join(str(part) for part in e.get("loc", ())) for e in error.errors()}
    number = readable_number(request)
    if "query.token" in fields:
        state, typed = "damaged", number or ""
    elif fields & {"path.number", "query.number"}:
        raw = request.path_params.get("number") or request.query_params.get("number") or ""
        state, typed = "bad_number", str(raw).strip()
    else:
        state, typed = "bad_request", number or ""
    return render(request, state=state, status_code=422, typed=typed)


Handler = Callable[[Request, Exception], Awaitable[Response]]


def answer_people_in_html(app: FastAPI, prefix: str = "/verify") -> None:
    """Under ``prefix``, a browser's 404, 422 and 429 become the page in its language; every
    other caller keeps the kernel's problem+json (the handlers installed before this)."""

    def for_people(exc_class: type[Exception], page: Callable[[Request, Any], Response]) -> None:
        machines = cast(Handler, app.exception_handlers[exc_class])

        async def handler(request: Request, exc: Exception) -> Response:
            status = getattr(exc, "status", getattr(exc, "status_code", 422))
            if (
                request.url.path.startswith(prefix)
                and status in (404, 422, 429)
                and prefers_html(request)
            ):
                return page(request, exc)
            return await machines(request, exc)

        app.add_exception_handler(exc_class, handler)

    for_people(Problem, problem_page)
    for_people(RequestValidationError, invalid_request_page)
    for_people(
        StarletteHTTPException,
        lambda request, _exc: render(request, state="no_page", status_code=404),
    )
