"""``fursa partner add``: onboard a partner — a NATS user in account PARTNER that reads the
partner feed, and its registration (and optionally a webhook endpoint) with notify.

notify's admin API is reached over HTTP, as every CLI command reaches the services:
``POST /partners {"name"}`` → ``{"partner_id", "name"}``, then
``POST /partners/{partner_id}/endpoints {"url", "event_types"}`` → ``{"endpoint_id", "url",
"event_types", "secret"}``. notify goes first: if it refuses, no NATS user is created.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from fursa.shared.auth import Role, mint_dev_token
from fursa.shared.messaging.streams import PARTNER_STREAM
from fursa.shared.natsauth import (
    PARTNERS_CONFIG_NAME,
    check_partner_name,
    enroll_partner,
    inbox_prefix,
    load_roster,
    remove_partner,
    write_partners_config,
)
from fursa.shared.settings import DEV_TOKEN_KEY

partner_app = typer.Typer(help="Partners: their NATS access to the feed and their webhooks.")
console = Console(stderr=True)


@dataclass(frozen=True)
class PartnerCredentials:
    """What the operator hands to the partner, once: nothing here is stored in the clear."""

    partner_id: str
    nats_user: str
    nats_password: str
    inbox_prefix: str
    stream: str
    durable: str
    webhook_endpoint_id: str | None = None
    webhook_secret: str | None = None


class NotifyRefusedError(RuntimeError):
    """notify answered a registration with an error (its problem+json detail is kept)."""


def _checked(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code != 201:
        detail = response.text
        with contextlib.suppress(ValueError):
            body = response.json()
            detail = body.get("detail") or body.get("title") or detail
        raise NotifyRefusedError(f"notify refused {what}: {response.status_code} {detail}")
    body = response.json()
    assert isinstance(body, dict)
    return body


def register_with_notify(
    client: httpx.Client, name: str, webhook_url: str | None, events: list[str]
) -> tuple[str, dict[str, Any] | None]:
    """Register the partner with notify, and its webhook endpoint when one is given."""
    partner = _checked(client.post("/partners", json={"name": name}), f"partner {name!r}")
    partner_id = str(partner["partner_id"])
    endpoint = None
    if webhook_url:
        endpoint = _checked(
            client.post(
                f"/partners/{partner_id}/endpoints",
                json={"url": webhook_url, "event_types": events},
            ),
            f"the endpoint {webhook_url}",
        )
    return partner_id, endpoint


def _report_reload(nats_dir: Path, done: str) -> None:
    if reload_nats(nats_dir):
        console.print(f"nats-server reloaded: {done}")
    else:
        console.print(
            f"no running nats-server under {nats_dir}: reload it once "
            f"{nats_dir / PARTNERS_CONFIG_NAME} is in place (nats-server --signal reload)"
        )


def reload_nats(nats_dir: Path) -> bool:
    """Make the running nats-server re-read its configuration (SIGHUP = ``--signal reload``)."""
    pid_file = nats_dir / "nats-server.pid"
    if not pid_file.exists():
        return False
    try:
        os.kill(int(pid_file.read_text().strip()), signal.SIGHUP)
    except (ProcessLookupError, ValueError):
        return False
    return True


@partner_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The partner's name (its NATS user and durable).")],
    nats_dir: Annotated[
        Path, typer.Option(help="Where partners.json and partners.conf live.")
    ] = Path("var/nats"),
    notify_url: Annotated[
        str, typer.Option(envvar="FURSA_NOTIFY_URL", help="notify's base URL.")
    ] = "http://127.0.0.1:8004",
    token: Annotated[
        str | None,
        typer.Option(envvar="FURSA_ADMIN_TOKEN", help="An admin token (development: minted)."),
    ] = None,
    webhook_url: Annotated[
        str | None, typer.Option(help="Also register this webhook endpoint.")
    ] = None,
    events: Annotated[
        list[str] | None, typer.Option("--events", help="Event types for the webhook.")
    ] = None,
    partner_admin_password: Annotated[
        str | None,
        typer.Option(
            help="partner_admin's password for a fresh directory, e.g. "
            "'$FURSA_PARTNER_ADMIN_NATS_PASSWORD' in a deployment."
        ),
    ] = None,
    credentials_file: Annotated[
        Path | None, typer.Option(help="Also write the credentials here (mode 0600).")
    ] = None,
) -> None:
    """Give a partner read access to the partner feed and register it with notify."""
    try:
        check_partner_name(name)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="NAME") from exc
    if name in load_roster(nats_dir):
        raise typer.BadParameter(f"partner {name!r} already has a NATS user", param_hint="NAME")
    headers = {"Authorization": f"Bearer {token or mint_dev_token(DEV_TOKEN_KEY, role=Role.ADMIN)}"}
    try:
        with httpx.Client(base_url=notify_url, headers=headers, timeout=10) as client:
            partner_id, endpoint = register_with_notify(client, name, webhook_url, events or [])
    except (NotifyRefusedError, httpx.HTTPError) as exc:
        console.print(f"[red]{exc}[/red]: no NATS user was created")
        raise typer.Exit(1) from exc

    password = enroll_partner(nats_dir, name)
    write_partners_config(nats_dir, partner_admin_password)
    credentials = PartnerCredentials(
        partner_id=partner_id,
        nats_user=name,
        nats_password=password,
        inbox_prefix=inbox_prefix(name),
        stream=PARTNER_STREAM,
        durable=name,
        webhook_endpoint_id=endpoint["endpoint_id"] if endpoint else None,
        webhook_secret=endpoint["secret"] if endpoint else None,
    )
    text = json.dumps(asdict(credentials), indent=2)
    if credentials_file is not None:
        credentials_file.touch(mode=0o600)
        credentials_file.chmod(0o600)
        credentials_file.write_text(text + "\n")
    _report_reload(nats_dir, f"{name} can connect now")
    console.print("[bold]Shown once[/bold]: only a hash of the password is kept.")
    print(text)


@partner_app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The partner's name.")],
    nats_dir: Annotated[
        Path, typer.Option(help="Where partners.json and partners.conf live.")
    ] = Path("var/nats"),
) -> None:
    """Withdraw a partner's NATS access (its webhook endpoints are notify's to disable).

    To rotate a partner's password, remove it and add it again.
    """
    try:
        remove_partner(nats_dir, name)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="NAME") from exc
    write_partners_config(nats_dir)
    _report_reload(nats_dir, f"{name} can no longer connect")
