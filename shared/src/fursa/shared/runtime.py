"""What every service runs the same way (its "service defaults"): database, NATS connection,
outbox relay, event consumers, health, readiness, metrics and the AsyncAPI document.

A service describes itself — name, settings, metadata, handlers, routers — and gets a FastAPI
application whose lifespan starts and stops all of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.resources
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path as FilePath
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from faststream.nats import JStream, NatsBroker
from faststream.security import SASLPlaintext
from faststream.specification import AsyncAPI
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import MetaData, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fursa.shared import observability, problems
from fursa.shared.audit import AuditTrail, audit_routes
from fursa.shared.auth import CurrentPrincipal, Role, TokenVerifier, allow
from fursa.shared.clock import as_utc, utcnow
from fursa.shared.contracts import CloudEvent
from fursa.shared.contracts.registry import registry as registered_events
from fursa.shared.db import INT64_MAX, Database
from fursa.shared.erasures import ErasureLedger, reapply_erasures
from fursa.shared.messaging.consumer import EventConsumer, Handler
from fursa.shared.messaging.deadletters import (
    DeadLetter,
    discard_dead_letter,
    list_dead_letters,
)
from fursa.shared.messaging.outbox import UnitOfWork
from fursa.shared.messaging.relay import OutboxRelay
from fursa.shared.messaging.streams import consumers_of
from fursa.shared.messaging.tables import KernelTables
from fursa.shared.metrics import DEAD_LETTERS_WAITING, OUTBOX_OLDEST_UNSENT_AGE, OUTBOX_UNSENT
from fursa.shared.migrations import upgrade_async
from fursa.shared.natsauth import inbox_prefix
from fursa.shared.problems import Problem
from fursa.shared.settings import ServiceSettings

log = logging.getLogger(__name__)


# Swagger UI's and ReDoc's JS and CSS, as the fastapi-offline package ships them: served by the
# service itself, so that /docs and /redoc work without internet (no CDN).
DOCS_ASSETS = FilePath(str(importlib.resources.files("fastapi_offline") / "static"))
DOCS_ASSETS_URL = "/docs-assets"


def serve_docs(app: FastAPI) -> None:
    """/docs (Swagger UI) and /redoc (ReDoc) with their assets from the service itself, and an
    OpenAPI document that declares every problem+json answer (:func:`document_problems`)."""
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=DOCS_ASSETS), name="docs-assets")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problems.document_problems(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    oauth2_redirect = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} — Swagger UI",
            oauth2_redirect_url=f"{root}{oauth2_redirect}",
            swagger_js_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png",
        )

    @app.get(oauth2_redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} — ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )


async def _database(request: Request) -> Database:
    db: Database = request.app.state.runtime.db
    return db


DatabaseDep = Annotated[Database, Depends(_database)]
"""A route's access to its service's database (the runtime's)."""


class Worker(Protocol):
    """A service's own background loop (e.g. notify's delivery worker), run beside the relay.

    ``wake`` is called after every commit of the service (new work may be waiting); ``stop``
    asks ``run`` to finish what it holds and return.
    """

    @property
    def name(self) -> str: ...

    async def run(self) -> None: ...

    def wake(self) -> None: ...

    def stop(self) -> None: ...


class ServiceRuntime:
    """One service process: its database, its NATS connection, its relay and its consumers."""

    def __init__(
        self,
        *,
        name: str,
        settings: ServiceSettings,
        metadata: MetaData,
        tables: KernelTables,
        handlers: Mapping[str, Handler],
        migrations: FilePath | None = None,
        erasures: ErasureLedger | None = None,
        audit: AuditTrail | None = None,
    ) -> None:
        """``erasures``: a service that holds personal data names how it re-applies the erasure
        ledger (:mod:`fursa.shared.erasures`), which it then does at every start. ``audit``:
        the service's trail, served as ``GET /audit`` and holding the dead letters replayed."""
        self.name = name
        self.audit = audit
        self.erasures = erasures
        self.migrations = migrations
        self.settings = settings
        self.tables = tables
        self.db = Database(settings.database_url, metadata)
        security = None
        if settings.nats_user:
            password = settings.nats_password.get_secret_value() if settings.nats_password else ""
            security = SASLPlaintext(username=settings.nats_user, password=password)
        self.broker = NatsBroker(
            settings.nats_url,
            name=f"fursa-{name}",
            # Our own inbox prefix: the NATS user of this service may read only its replies.
            inbox_prefix=inbox_prefix(name),
            security=security,
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            logger=log,
        )
        self.relay: OutboxRelay | None = None
        self.workers: list[Worker] = []
        self.uow = UnitOfWork(self.db, tables, source=f"fursa/{name}", on_commit=self.committed)
        self.consumers = [
            EventConsumer(
                db=self.db,
                tables=tables,
                spec=spec,
                handlers={t: handlers[t] for t in spec.subjects if t in handlers},
                source=f"fursa/{name}",
                on_commit=self.committed,
                batch_size=settings.consumer_batch_size,
                fetch_timeout_s=settings.consumer_fetch_timeout_s,
                retry_delays_s=settings.retry_delays_s,
            )
            for spec in consumers_of(name)
        ]
        missing = {t for spec in consumers_of(name) for t in spec.subjects} - set(handlers)
        if missing:
            raise ValueError(f"{name} consumes {sorted(missing)} but has no handler for them")
        self._tasks: list[asyncio.Task[None]] = []
        self._publishers_declared = False

    def _declare_publishers(self) -> None:
        """Publishers declared once as objects, so that the AsyncAPI document describes them.

        The relay, not these objects, sends the events (from the outbox, after commit). They are
        declared when the document is first asked for, not at start: FastStream builds a mock
        call recorder for each, about 14 ms of a service's start that only the document needs.
        """
        if self._publishers_declared:
            return
        self._publishers_declared = True
        for spec in registered_events().values():
            if spec.producer == self.name:
                self.broker.publisher(
                    spec.type,
                    stream=JStream(spec.stream, declare=False),
                    title=spec.type,
                    description=(spec.model.__doc__ or "").strip(),
                    schema=CloudEvent[spec.model],  # type: ignore[name-defined]
                )

    async def migrate(self) -> None:
        """Bring the database to the latest migration before serving (tables, for tests)."""
        if self.migrations is not None:
            await upgrade_async(self.migrations, self.settings.database_url)
        else:
            await self.db.create_all()

    def token_verifier(self) -> TokenVerifier:
        """The identity provider's keys in production, the local development key otherwise."""
        settings = self.settings
        if settings.auth_jwks_url:
            return TokenVerifier(jwks_url=settings.auth_jwks_url, issuer=settings.auth_oidc_issuer)
        if settings.auth_oidc_issuer:
            return TokenVerifier.from_oidc_issuer(settings.auth_oidc_issuer)
        return TokenVerifier(dev_secret=settings.auth_dev_key.get_secret_value())

    def wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wake()

    def committed(self) -> None:
        """After a commit: publish its events, and let the workers look for new work."""
        self.wake_relay()
        for worker in self.workers:
            worker.wake()

    def add_worker(self, worker: Worker) -> None:
        """Run ``worker`` from start to stop, after the consumers (it may use their output)."""
        self.workers.append(worker)

    async def start(self) -> None:
        await self.broker.connect()
        js = self.broker.connection.jetstream()
        if self.erasures is not None:
            # Before anything reads or publishes the database: it may be a restored backup.
            await reapply_erasures(self.uow, js, self.erasures)
        self.relay = OutboxRelay(
            self.db,
            self.tables,
            js,
            name=self.name,
            batch_size=self.settings.relay_batch_size,
        )
        self._tasks = [asyncio.create_task(self.relay.run(), name=f"{self.name}-relay")]
        self._tasks += [
            asyncio.create_task(consumer.run(js), name=consumer.name) for consumer in self.consumers
        ]
        self._tasks += [
            asyncio.create_task(worker.run(), name=worker.name) for worker in self.workers
        ]

    async def stop(self, drain_timeout_s: float = 10.0) -> None:
        """Let consumers and workers finish what they hold, publish what is committed, stop."""
        for consumer in self.consumers:
            consumer.stop()
        for worker in self.workers:
            worker.stop()
        draining = self._tasks[1:]
        if draining:
            _done, pending = await asyncio.wait(draining, timeout=drain_timeout_s)
            for task in pending:
                task.cancel()
        if self.relay is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.relay.drain(), timeout=drain_timeout_s)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.broker.stop()
        await self.db.dispose()

    async def ready(self) -> dict[str, bool]:
        nats_ok = False
        with contextlib.suppress(Exception):
            nats_ok = self.broker.connection.is_connected
        relay_alive = bool(self._tasks) and not self._tasks[0].done()
        return {"database": await self.db.ping(), "nats": nats_ok, "relay": relay_alive}

    async def refresh_gauges(self) -> None:
        outbox, dead = self.tables.outbox, self.tables.dead_letter
        async with self.db.connect() as connection:
            unsent, oldest = (
                await connection.execute(
                    select(func.count(), func.min(outbox.c.created_at)).where(
                        outbox.c.sent_at.is_(None)
                    )
                )
            ).one()
            waiting = (
                await connection.execute(
                    select(func.count()).select_from(dead).where(dead.c.replayed_at.is_(None))
                )
            ).scalar_one()
        OUTBOX_UNSENT.labels(self.name).set(unsent)
        lag = 0.0
        if oldest is not None:
            lag = max((utcnow() - as_utc(oldest)).total_seconds(), 0.0)
        OUTBOX_OLDEST_UNSENT_AGE.labels(self.name).set(lag)
        DEAD_LETTERS_WAITING.labels(self.name).set(waiting)

    def asyncapi(self) -> Any:
        self._declare_publishers()
        return (
            AsyncAPI(
                self.broker,
                title=f"Fursa {self.name}",
                version="1.0.0",
                description=f"Events published by the Fursa {self.name} service.",
            )
            .to_specification()
            .to_jsonable()
        )

    def app(self, routers: Sequence[APIRouter], *, title: str) -> FastAPI:
        """The service's FastAPI application, with health, readiness, metrics and AsyncAPI."""

        @contextlib.asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            app.state.token_verifier = self.token_verifier()
            await self.migrate()
            await self.start()
            try:
                yield
            finally:
                await self.stop()
                observability.shutdown_tracing()

        observability.configure_tracing(self.name, self.settings.traces_sampled())
        app = FastAPI(
            title=title,
            lifespan=lifespan,
            # /docs and /redoc are served below with their assets from the service itself.
            docs_url=None,
            redoc_url=None,
            # The kernel's own middleware traces and counts each request once; FastAPI's would
            # add spans for every dependency and serialisation.
            telemetry={"tracing": False, "metrics": False, "logs": False},
        )
        app.state.runtime = self
        problems.install(app, default_language=self.settings.default_language)
        app.add_middleware(
            observability.RequestMiddleware,
            service=self.name,
            max_body_bytes=self.settings.max_body_bytes,
        )

        @app.get("/healthz", tags=["operations"])
        async def healthz() -> dict[str, str]:
            return {"status": "alive"}

        @app.get(
            "/readyz",
            tags=["operations"],
            responses={503: {"description": "Not ready: the checks say which part is down"}},
        )
        async def readyz() -> JSONResponse:
            checks = await self.ready()
            status = 200 if all(checks.values()) else 503
            return JSONResponse({"ready": status == 200, **checks}, status_code=status)

        @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
        async def metrics() -> Response:
            await self.refresh_gauges()
            return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

        @app.get("/asyncapi", tags=["operations"])
        async def asyncapi() -> Any:
            return self.asyncapi()

        app.include_router(self.dead_letter_routes())
        if self.audit is not None:
            app.include_router(audit_routes(self.audit, self.db))
        for router in routers:
            app.include_router(router)
        serve_docs(app)
        return app

    def dead_letter_routes(self) -> APIRouter:
        """Operators list dead letters, replay them from the stored row, or discard one no replay
        will ever apply (admin only; replays and discards are in the audit trail)."""
        router = APIRouter(
            prefix="/dead-letters", tags=["operations"], dependencies=[Depends(allow(Role.ADMIN))]
        )
        consumers = {consumer.name: consumer for consumer in self.consumers}

        @router.get("")
        async def dead_letters(
            consumer: Annotated[str | None, Query(max_length=100)] = None,
            include_replayed: bool = False,
            limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        ) -> list[DeadLetter]:
            return await list_dead_letters(
                self.db,
                self.tables,
                consumer=consumer,
                include_replayed=include_replayed,
                limit=limit,
            )

        @router.post("/{dead_letter_id}/replay")
        async def replay(
            operator: CurrentPrincipal,
            dead_letter_id: Annotated[int, Path(ge=1, le=INT64_MAX)],
            consumer: Annotated[str, Query(max_length=100)],
        ) -> dict[str, str]:
            if consumer not in consumers:
                raise Problem.not_found()

            def audit(session: AsyncSession, event: CloudEvent[Any]) -> None:
                if self.audit is not None:
                    self.audit.record(
                        session,
                        operator,
                        "dead_letter.replayed",
                        entity="dead_letter",
                        entity_id=str(dead_letter_id),
                        details={"consumer": consumer, "event_id": event.id, "type": event.type},
                    )

            try:
                event = await consumers[consumer].replay(dead_letter_id, audit=audit)
            except LookupError as exc:
                raise Problem.not_found() from exc
            except Exception as exc:
                raise Problem(
                    409, "replay_failed", detail=f"{type(exc).__name__}: the event still fails"
                ) from exc
            return {"replayed": event.id, "type": event.type}

        @router.post("/{dead_letter_id}/discard")
        async def discard(
            operator: CurrentPrincipal,
            dead_letter_id: Annotated[int, Path(ge=1, le=INT64_MAX)],
            consumer: Annotated[str, Query(max_length=100)],
        ) -> DeadLetter:
            """Delete a waiting dead letter and its payload; the trail keeps who discarded which
            event (ids and type only, as every entry)."""
            async with self.db.transaction() as session:
                discarded = await discard_dead_letter(
                    session, self.tables, dead_letter_id=dead_letter_id, consumer=consumer
                )
                if discarded is None:
                    raise Problem.not_found()
                if self.audit is not None:
                    self.audit.record(
                        session,
                        operator,
                        "dead_letter.discarded",
                        entity="dead_letter",
                        entity_id=str(dead_letter_id),
                        details={
                            "consumer": consumer,
                            "event_id": discarded.event_id,
                            "type": discarded.type,
                        },
                    )
            return discarded

        return router
