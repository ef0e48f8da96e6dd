"""Who signs a region's diplomas, as printed on them: set by the region's Entraide Nationale
officers (administrators may stand in). The certification service checks the role, the region
and the Arabic text; the form shows its refusals beside the fields."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from fursa.console.clients import Certification
from fursa.console.pages import CheckedForm, PagesDep, Person
from fursa.console.services import CertificationClient, ServiceProblem
from fursa.console.signin import CurrentPerson

router = APIRouter()

FIELDS = ("name_ar", "name_fr", "title_ar", "title_fr")
RegionCode = Annotated[str, Path(pattern=r"^(0[1-9]|1[0-2])$")]


async def _signatories_page(
    request: Request,
    pages: PagesDep,
    person: Person,
    certification: CertificationClient,
    *,
    values: dict[str, dict[str, str]] | None = None,
    errors: dict[str, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    found = {s["region_code"]: s for s in await certification.signatories()}
    region = person.principal.region_code
    if region and region not in found:
        found[region] = {"region_code": region}
    return pages.render(
        request,
        "signatories.html",
        status_code=status_code,
        person=person,
        signatories=[found[code] for code in sorted(found)],
        values=values or {},
        errors=errors or {},
        fields=FIELDS,
        done=request.session.pop("done", None),
    )


@router.get("/signatories")
async def signatories(
    request: Request, person: CurrentPerson, pages: PagesDep, certification: Certification
) -> Response:
    return await _signatories_page(request, pages, person, certification)


@router.post("/signatories/{region_code}")
async def set_signatory(
    request: Request,
    region_code: RegionCode,
    person: CurrentPerson,
    pages: PagesDep,
    certification: Certification,
    form: CheckedForm,
) -> Response:
    body = {name: str(form.get(name) or "").strip() for name in FIELDS}
    try:
        await certification.set_signatory(region_code, body)
    except ServiceProblem as refusal:
        if refusal.status != 422:
            raise
        errors = {name.split(".")[-1]: text for name, text in refusal.field_errors().items()}
        return await _signatories_page(
            request,
            pages,
            person,
            certification,
            values={region_code: body},
            errors={region_code: errors},
            status_code=422,
        )
    request.session["done"] = region_code
    return RedirectResponse("/signatories", status_code=303)
