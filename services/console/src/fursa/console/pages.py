"""Rendering a page: the person's language and direction, their identity, the CSRF token.

One Jinja2 environment per language, each with its gettext catalogue installed, so a template
never holds a literal a person reads: ``{{ _("Learners") }}``. Routes call :meth:`Pages.render`
and nothing else to make HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData, QueryParams

from fursa.console.i18n import (
    DIRECTION,
    ENDONYMS,
    LANGUAGES,
    Language,
    language_of,
    load_translations,
    local_date,
    local_number,
)
from fursa.console.sessions import CSRF_FIELD, CSRF_HEADER, csrf_token, csrf_valid
from fursa.console.settings import ConsoleSettings
from fursa.console.territories import province_name, region_name
from fursa.shared.auth import Principal, Role

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Person:
    """Who is signed in: their name, and the principal their token proves to the services."""

    name: str
    principal: Principal
    token: str

    @property
    def role(self) -> Role:
        return self.principal.role

    @property
    def enrols(self) -> bool:
        """Whether the services let this person enrol learners (association staff, admin)."""
        return self.role in (Role.ASSOCIATION_STAFF, Role.ADMIN)

    @property
    def teaches(self) -> bool:
        """Whether classes and attendance are this person's work (association staff,
        educators, admin)."""
        return self.role in (Role.ASSOCIATION_STAFF, Role.EDUCATOR, Role.ADMIN)

    @property
    def approves(self) -> bool:
        """Whether the certification service lets this person approve and revoke diplomas and
        name a region's signatory (Entraide Nationale officers, admin)."""
        return self.role in (Role.ENTRAIDE_OFFICER, Role.ADMIN)

    @property
    def steers(self) -> bool:
        """Whether the programme's dashboard is this person's work (the directorate, Entraide
        Nationale officers, admin); the services scope its figures to their territory."""
        return self.role in (Role.DIRECTORATE, Role.ENTRAIDE_OFFICER, Role.ADMIN)

    @property
    def administers(self) -> bool:
        """Whether partners and the services' dead letters are this person's work (admin)."""
        return self.role is Role.ADMIN

    @property
    def home(self) -> str:
        """The page a person starts from: their own work."""
        if self.role is Role.ENTRAIDE_OFFICER:
            return "/approvals"
        if self.role is Role.DIRECTORATE:
            return "/dashboard"
        return "/learners"


class Pages:
    """The console's templates, in each language."""

    def __init__(self, settings: ConsoleSettings) -> None:
        self.settings = settings
        self._translations = {language: load_translations(language) for language in LANGUAGES}
        self._environments = {language: self._environment(language) for language in LANGUAGES}

    def _environment(self, language: Language) -> Environment:
        environment = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        environment.install_gettext_translations(  # type: ignore[attr-defined]
            self._translations[language], newstyle=True
        )
        environment.filters["date"] = lambda value: local_date(value, language)
        environment.filters["number"] = lambda value: local_number(value, language)
        gettext = self._translations[language].gettext
        environment.filters["region"] = lambda code: region_name(code, language, gettext)
        environment.filters["province"] = lambda code: province_name(code, language, gettext)
        environment.filters["urlencode_except"] = _urlencode_except
        return environment

    def language(self, request: Request) -> Language:
        return language_of(request, self.settings.default_language)

    def gettext(self, request: Request, message: str) -> str:
        """One message in the person's language (for text built outside a template)."""
        return self.translate(self.language(request), message)

    def translate(self, language: Language, message: str) -> str:
        """One message in ``language`` (a document asked for in a language of its own)."""
        return self._translations[language].gettext(message)

    def document(self, language: Language, template: str, **context: Any) -> str:
        """A template rendered in ``language`` outside a page (a PDF's HTML)."""
        page = self._environments[language].get_template(template)
        return page.render(language=language, direction=DIRECTION[language], **context)

    def render(
        self, request: Request, template: str, *, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        language = self.language(request)
        page = self._environments[language].get_template(template)
        html = page.render(
            request=request,
            language=language,
            direction=DIRECTION[language],
            other_language="fr" if language == "ar" else "ar",
            csrf_field=CSRF_FIELD,
            csrf_token=csrf_token(request),
            development_sign_in=self.settings.development_sign_in,
            endonyms=ENDONYMS,
            **context,
        )
        return HTMLResponse(html, status_code=status_code)


def _urlencode_except(params: QueryParams, left_out: str) -> str:
    """A page's query string without one parameter (the pages' links set it themselves)."""
    return urlencode([(name, value) for name, value in params.multi_items() if name != left_out])


async def pages_of(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


PagesDep = Annotated[Pages, Depends(pages_of)]


async def checked_form(request: Request) -> FormData:
    """The submitted form, once its CSRF token proved it comes from one of our pages."""
    form = await request.form()
    submitted = form.get(CSRF_FIELD)
    token = submitted if isinstance(submitted, str) else request.headers.get(CSRF_HEADER)
    if not csrf_valid(request, token):
        raise HTTPException(403, "csrf")
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]
