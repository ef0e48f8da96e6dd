"""The notify service's application.

Run with `uvicorn --factory fursa.notify.app:create_app`.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from fursa.notify import api, partner_admin
from fursa.notify.channels import (
    Channel,
    HttpSmsGateway,
    LocalSmsSink,
    PartnerWebhook,
    SmtpEmail,
    SmtpServer,
)
from fursa.notify.consumers import handlers
from fursa.notify.domain import RetryPolicy
from fursa.notify.models import AUDIT, KERNEL, Base, ErasedLearner
from fursa.notify.settings import NotifySettings
from fursa.notify.smpp import SmppAccount, SmppSms
from fursa.notify.worker import DeliveryWorker
from fursa.shared.erasures import ErasureLedger
from fursa.shared.messaging.outbox import UnitOfWork
from fursa.shared.messaging.streams import LEARNER_ERASED
from fursa.shared.runtime import ServiceRuntime

# The service's Alembic history, run to head at every start.
MIGRATIONS = Path(__file__).with_name("migrations")

NAME = "notify"


def channels(settings: NotifySettings, http: httpx.AsyncClient) -> list[Channel]:
    """SMS (the SMPP account, the HTTP gateway, or the local sink), e-mail over SMTP, partner
    webhooks."""
    token = settings.sms_gateway_token
    sms: Channel
    if settings.smpp_host:
        sms = SmppSms(smpp_account(settings))
    elif settings.sms_gateway_url:
        sms = HttpSmsGateway(
            http, settings.sms_gateway_url, token.get_secret_value() if token else None
        )
    else:
        sms = LocalSmsSink(settings.sink_dir)
    password = settings.smtp_password
    email = SmtpEmail(
        SmtpServer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            username=settings.smtp_username,
            password=password.get_secret_value() if password else None,
            start_tls=settings.smtp_start_tls,
            timeout_s=settings.delivery_send_timeout_s,
        ),
        # One kept connection per lane sending e-mail side by side.
        keep=settings.delivery_lanes_per_channel,
    )
    return [sms, email, PartnerWebhook(http, timeout_s=settings.webhook_timeout_s)]


def smpp_account(settings: NotifySettings) -> SmppAccount:
    """The SMPP account the settings describe (``smpp_host`` set)."""
    assert settings.smpp_host is not None
    password = settings.smpp_password
    return SmppAccount(
        host=settings.smpp_host,
        port=settings.smpp_port,
        system_id=settings.smpp_system_id or "",
        password=password.get_secret_value() if password else "",
        system_type=settings.smpp_system_type,
        source_address=settings.smpp_source_address,
        throughput_per_s=settings.smpp_throughput_per_s,
        window=settings.smpp_window,
        enquire_link_s=settings.smpp_enquire_link_s,
        response_timeout_s=settings.delivery_send_timeout_s,
    )


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    """Wire the notify service; nothing connects until the app's lifespan starts."""
    settings = settings or NotifySettings()
    consumed = handlers()
    runtime = ServiceRuntime(
        name=NAME,
        settings=settings,
        metadata=Base.metadata,
        tables=KERNEL,
        handlers=consumed,
        migrations=MIGRATIONS,
        erasures=ErasureLedger(
            erased=select(col(ErasedLearner.learner_id)), forget=consumed[LEARNER_ERASED]
        ),
        audit=AUDIT,
    )
    # Redirects are not followed: a webhook answers where it was registered, or fails.
    http = httpx.AsyncClient(timeout=settings.delivery_send_timeout_s, follow_redirects=False)
    # The worker's records wake the relay (their notification events) but not the worker: a
    # send makes nothing new due, and a lane that finishes wakes it anyway.
    records = UnitOfWork(runtime.db, KERNEL, runtime.uow.source, on_commit=runtime.wake_relay)
    runtime.add_worker(
        DeliveryWorker(
            records,
            channels(settings, http),
            RetryPolicy(
                max_attempts=settings.delivery_max_attempts,
                base_s=settings.delivery_backoff_base_s,
                cap_s=settings.delivery_backoff_cap_s,
            ),
            send_timeout_s=settings.delivery_send_timeout_s,
            poll_s=settings.delivery_poll_s,
            lanes_per_channel=settings.delivery_lanes_per_channel,
            http=http,
            name=settings.delivery_worker,
        )
    )
    app = runtime.app(
        [
            api.deliveries_router,
            api.associations_router,
            api.partners_router,
            partner_admin.router,
            api.catalog_router,
        ],
        title="Fursa notify",
    )
    partner_admin.install(app)
    return app
