"""``fursa partner``: onboard a partner — a NATS user in account PARTNER that reads the partner
feed, and its registration (and optionally a webhook endpoint) with notify — list partners,
withdraw a partner's NATS access.

notify's admin API is reached over HTTP, as every CLI command reaches the services:
``POST /partners/onboarding {"name", "webhook": {"url", "event_types"} | null}`` registers the
partner and its endpoint in one transaction → ``{"partner_id", "name", "endpoint": {…,
"secret"} | null}``; ``GET /partners`` lists them (no secrets).

``partner add`` is all or nothing: the options are checked first; the NATS user is written to
the roster and ``partners.conf`` (but the server not yet reloaded); then notify registers the
partner. If notify refuses (a taken name: 409; an invalid endpoint: 422 naming the field) or
cannot be reached, the NATS user is taken off again: no partner row, no endpoint, no NATS user.
Only once notify has registered it is the server told to reload.
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
from rich.table import Table

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
    """notify answered with an error: its problem+json title, detail and fields are kept."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _refusal(response: httpx.Response, what: str) -> NotifyRefusedError:
    """What notify said, in words an operator can act on: the problem's title and detail, and
    each field at fault with what is wrong with it."""
    detail = response.text[:300]
    with contextlib.suppress(ValueError, AttributeError):
        body = response.json()
        parts = [body.get("title"), body.get("detail")]
        parts += [
            f"{error.get('field')}: {error.get('message') or error.get('rule')}"
            for error in body.get("errors", [])
        ]
        detail = "; ".join(str(part) for part in parts if part) or detail
    return NotifyRefusedError(
        f"notify refused {what}: {response.status_code} {detail}", response.status_code
    )


def register_with_notify(
    client: httpx.Client, name: str, webhook_url: str | None, events: list[str]
) -> tuple[str, dict[str, Any] | None]:
    """Register the partner with notify, and its webhook endpoint when one is given, in one
    transaction on notify's side: on any refusal, nothing is registered."""
    webhook = {"url": webhook_url, "event_types": events} if webhook_url else None
    response = client.post("/partners/onboarding", json={"name": name, "webhook": webhook})
    if response.status_code == 409:
        raise NotifyRefusedError(
            f"notify already has a partner named {name!r} (see `fursa partner list`)", 409
        )
    if response.status_code != 201:
        raise _refusal(response, f"partner {name!r}")
    body = response.json()
    return str(body["partner_id"]), body.get("endpoint")


def _report_reload(nats_dir: Path, done: str) -> None:
    if reload_nats(nats_dir):
        console.print(f"nats-server reloaded: {done}")
    else:
        console.print(
            f"no running nats-server of {nats_dir}: reload it once "
            f"{nats_dir / PARTNERS_CONFIG_NAME} is in place (nats-server --signal reload)"
        )


def running_nats_server(nats_dir: Path) -> int | None:
    """The pid of the nats-server running with ``nats_dir``'s configuration, if there is one.

    The pid file alone proves nothing: a server that crashed leaves it behind, and the kernel
    gives the number to another process sooner or later. The process must be a nats-server
    started with ``nats_dir/nats-server.conf`` (read from /proc; elsewhere, nothing is proven
    and nothing is signalled).
    """
    try:
        pid = int((nats_dir / "nats-server.pid").read_text().strip())
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
    except (OSError, ValueError):
        return None
    args = [arg.decode(errors="replace") for arg in argv if arg]
    if not args or not Path(args[0]).name.startswith("nats-server"):
        return None
    config = (nats_dir / "nats-server.conf").resolve()
    for flag, value in zip(args, [*args[1:], ""], strict=True):
        given = value if flag in ("-c", "--config", "-config") else None
        if flag.startswith(("--config=", "-config=", "-c=")):
            given = flag.split("=", 1)[1]
        if given and (cwd / given).resolve() == config:
            return pid
    return None


def reload_nats(nats_dir: Path) -> bool:
    """Make the nats-server of ``nats_dir`` re-read its configuration (SIGHUP = ``--signal
    reload``); ``False`` when none runs (a stale pid file is never signalled)."""
    pid = running_nats_server(nats_dir)
    if pid is None:
        return False
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        return False
    return True


# The options the partner commands share.
NatsDir = Annotated[Path, typer.Option(help="Where partners.json and partners.conf live.")]
NotifyUrl = Annotated[str, typer.Option(envvar="FURSA_NOTIFY_URL", help="notify's base URL.")]
AdminToken = Annotated[
    str | None,
    typer.Option(envvar="FURSA_ADMIN_TOKEN", help="An admin token (development: minted)."),
]


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token or mint_dev_token(DEV_TOKEN_KEY, role=Role.ADMIN)}"}


@partner_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The partner's name (its NATS user and durable).")],
    nats_dir: NatsDir = Path("var/nats"),
    notify_url: NotifyUrl = "http://127.0.0.1:8004",
    token: AdminToken = None,
    webhook_url: Annotated[
        str | None,
        typer.Option(help="Also register this webhook endpoint (give its --events too)."),
    ] = None,
    events: Annotated[
        list[str] | None,
        typer.Option(
            "--events", help="Partner event types the webhook receives (repeat the option)."
        ),
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
    """Give a partner read access to the partner feed and register it with notify — all of it,
    or nothing when a step is refused."""
    try:
        check_partner_name(name)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="NAME") from exc
    if webhook_url and not events:
        raise typer.BadParameter(
            "a webhook endpoint needs the partner event types it receives, e.g. "
            "--events fursa.partner.certificate-issued.v1",
            param_hint="--events",
        )
    if events and not webhook_url:
        raise typer.BadParameter(
            "--events are the event types of a webhook endpoint: give its --webhook-url",
            param_hint="--webhook-url",
        )
    if credentials_file is not None and not credentials_file.parent.is_dir():
        raise typer.BadParameter(
            f"{credentials_file.parent} is not a directory", param_hint="--credentials-file"
        )
    if name in load_roster(nats_dir):
        raise typer.BadParameter(
            f"partner {name!r} already has a NATS user (to rotate its password: "
            f"fursa partner remove {name}, then add it again)",
            param_hint="NAME",
        )

    # The NATS user first, on disk only (the server reads it at the reload): taken off again
    # below whatever stops the onboarding, an interruption included.
    password = enroll_partner(nats_dir, name)
    try:
        write_partners_config(nats_dir, partner_admin_password)
    except BaseException as exc:
        _withdraw(nats_dir, name)
        if isinstance(exc, ValueError):  # no partner_admin password in a fresh directory
            console.print(f"{exc}: nothing was created", style="red", markup=False, soft_wrap=True)
            raise typer.Exit(2) from exc
        raise
    try:
        with httpx.Client(base_url=notify_url, headers=_headers(token), timeout=10) as client:
            partner_id, endpoint = register_with_notify(client, name, webhook_url, events or [])
    except BaseException as exc:
        _withdraw(nats_dir, name)
        if isinstance(exc, NotifyRefusedError | httpx.ConnectError):
            console.print(f"{exc}: nothing was created", style="red", markup=False, soft_wrap=True)
            raise typer.Exit(1) from exc
        if isinstance(exc, httpx.HTTPError):
            # The request may have reached notify and its answer been lost.
            console.print(
                f"{exc}: no NATS user was created; notify may have registered {name!r} before "
                "its answer was lost — see `fursa partner list`",
                style="red",
                markup=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from exc
        raise

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


def _withdraw(nats_dir: Path, name: str) -> None:
    """Take a partner being onboarded off the roster and ``partners.conf`` again."""
    remove_partner(nats_dir, name)
    with contextlib.suppress(ValueError):  # a roster without partner_admin: nothing rendered
        write_partners_config(nats_dir)


@partner_app.command("list")
def list_partners(
    nats_dir: NatsDir = Path("var/nats"),
    notify_url: NotifyUrl = "http://127.0.0.1:8004",
    token: AdminToken = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print notify's answer as JSON.")] = False,
) -> None:
    """The partners notify knows (with their webhook endpoints) and whether each has a NATS
    user in the roster of ``--nats-dir``."""
    try:
        with httpx.Client(base_url=notify_url, headers=_headers(token), timeout=10) as client:
            response = client.get("/partners")
    except httpx.HTTPError as exc:
        console.print(f"notify unreachable: {exc}", style="red", markup=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    if response.status_code != 200:
        console.print(str(_refusal(response, "the list")), style="red", markup=False)
        raise typer.Exit(1)
    partners: list[dict[str, Any]] = response.json()
    if as_json:
        print(json.dumps(partners, indent=2))
        return
    roster = load_roster(nats_dir)
    table = Table(title=f"{len(partners)} partner(s)")
    for column in ("name", "partner_id", "NATS user", "webhook endpoints"):
        table.add_column(column)
    for partner in partners:
        endpoints = "\n".join(
            f"{e['url']} ({'disabled' if e['disabled_at'] else 'on'})" for e in partner["endpoints"]
        )
        table.add_row(
            partner["name"],
            partner["partner_id"],
            "yes" if partner["name"] in roster else "no",
            endpoints or "—",
        )
    Console().print(table)


@partner_app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The partner's name.")],
    nats_dir: NatsDir = Path("var/nats"),
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
