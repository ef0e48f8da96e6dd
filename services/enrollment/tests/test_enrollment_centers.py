"""Development mode seeds one demo center, once; production seeds nothing."""

from __future__ import annotations

import httpx
from nats.js import JetStreamContext

from fursa.enrollment.app import create_app
from fursa.enrollment.demo import DEMO_ASSOCIATION_ID, DEMO_CENTER_ID
from fursa.enrollment.settings import EnrollmentSettings
from fursa.shared.auth import Role, mint_dev_token
from fursa.shared.settings import DEV_TOKEN_KEY

ADMIN = {"Authorization": f"Bearer {mint_dev_token(DEV_TOKEN_KEY, role=Role.ADMIN)}"}


async def centers(settings: EnrollmentSettings) -> list[dict[str, str]]:
    """Start the service on ``settings``, list its centers, stop it."""
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://e", headers=ADMIN
        ) as client,
    ):
        response = await client.get("/centers")
    assert response.status_code == 200
    listed: list[dict[str, str]] = response.json()
    return listed


async def test_development_seeds_the_demo_center_once(
    settings: EnrollmentSettings, js: JetStreamContext
) -> None:
    await centers(settings)

    listed = await centers(settings)  # a restart finds it and adds no second one

    assert listed == [
        {
            "id": DEMO_CENTER_ID,
            "name": "Centre Al-Nasr",
            "name_ar": "مركز النصر",
            "commune": "Gueliz",
            "province_code": "071",
            "region_code": "07",
            "association_id": DEMO_ASSOCIATION_ID,
            "latitude": 31.6346,
            "longitude": -8.0103,
        }
    ]


async def test_production_seeds_no_center(
    settings: EnrollmentSettings, js: JetStreamContext
) -> None:
    production = settings.model_copy(update={"mode": "production"})

    assert await centers(production) == []
