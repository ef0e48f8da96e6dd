"""The ``fursa`` command: run the platform locally, drive the demo, provision streams.

It talks to the services over HTTP and NATS only; it never imports service code.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from fursa.cli import learners_import
from fursa.cli.backups import backup_command, restore_command
from fursa.cli.demo import DemoFailed, run_demo
from fursa.cli.partners import partner_app, running_nats_server
from fursa.cli.platform import CONSOLE, CONSOLE_PORT, SERVICES, Platform
from fursa.cli.provisioning import provision_command
from fursa.cli.seed import ISSUANCE_POLICY, ISSUANCE_POLICY_VARIABLE, SeedResult, seed
from fursa.shared.auth import Role, dev_authorization, mint_dev_token
from fursa.shared.problems import Problem
from fursa.shared.settings import DEV_TOKEN_KEY

app = typer.Typer(help="Fursa — the Second Chance School platform.", no_args_is_help=True)
console = Console()
app.add_typer(partner_app, name="partner")
app.command("provision")(provision_command)
app.command("backup")(backup_command)
app.command("restore")(restore_command)


DEFAULT_NATS_PORT = 4223
"""``fursa up``'s NATS port: the same at every start, so that a partner's development
connection settings survive a restart (4222 is often the machine's own, older NATS)."""


@app.command()
def up(
    var_dir: Annotated[Path, typer.Option(help="Where data and logs live.")] = Path("var"),
    enrollment_port: Annotated[int, typer.Option(envvar="FURSA_ENROLLMENT_PORT")] = 8001,
    training_port: Annotated[int, typer.Option(envvar="FURSA_TRAINING_PORT")] = 8002,
    certification_port: Annotated[int, typer.Option(envvar="FURSA_CERTIFICATION_PORT")] = 8003,
    notify_port: Annotated[int, typer.Option(envvar="FURSA_NOTIFY_PORT")] = 8004,
    console_port: Annotated[int, typer.Option(envvar="FURSA_CONSOLE_PORT")] = CONSOLE_PORT,
    nats_port: Annotated[
        int,
        typer.Option(
            envvar="FURSA_NATS_PORT",
            min=1,
            max=65535,
            help="nats-server's client port, the same at every start (partners' development "
            "settings name it); another one is chosen, and said, when it is taken.",
        ),
    ] = DEFAULT_NATS_PORT,
) -> None:
    """Start nats-server, provision streams, start the four services and the staff console;
    Ctrl-C stops it all.

    A taken port (a service's or NATS's) is replaced by a free one, and the output says so;
    "Fursa is up" comes only once every service's own process answers /readyz with 200.
    """
    running = running_nats_server(var_dir.resolve() / "nats")
    if running is not None:
        console.print(
            f"Another fursa up runs with {var_dir.resolve()} (its nats-server has pid {running}): "
            "stop it first, or give this one its own --var-dir.",
            style="red",
            markup=False,
            soft_wrap=True,
        )
        sys.exit(1)
    platform = Platform(
        var_dir=var_dir.resolve(),
        ports={
            "enrollment": enrollment_port,
            "training": training_port,
            "certification": certification_port,
            "notify": notify_port,
            CONSOLE: console_port,
        },
        nats_port=nats_port,
        # A policy in the environment takes precedence, as on any platform.
        extra_env={}
        if ISSUANCE_POLICY_VARIABLE in os.environ
        else {ISSUANCE_POLICY_VARIABLE: json.dumps(ISSUANCE_POLICY)},
    )
    stopping = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    failed = False
    try:
        try:
            with console.status("starting nats-server, the four services and the console…"):
                platform.start()
        except (RuntimeError, TimeoutError) as exc:  # NatsServerError is a RuntimeError
            _notices(platform)
            console.print(f"Fursa did not start: {exc}", style="red", markup=False, soft_wrap=True)
            failed = True
            return
        assert platform.nats is not None
        _notices(platform)
        with console.status("seeding the demo data…"):
            seeded = _seed({service: platform.url(service) for service in SERVICES})
        # Whatever can be copied (URLs, the token) is printed unwrapped, whatever the width
        # of the terminal: a line break inside it would break the copy.
        console.print("[bold]Fursa is up[/bold]")
        for service in SERVICES:
            url = platform.url(service)
            _line(f"  {service:<14} {url}  (docs: {url}/docs)")
        _line(f"Staff console: {platform.url(CONSOLE)}  (development sign-in: one person per role)")
        if seeded is not None:
            _line(_seeded_line(seeded))
        _line(f"NATS: {platform.nats.url} (data under {platform.var_dir})")
        _line(
            f"SMTP sink: 127.0.0.1:{platform.smtp_port} "
            f"(e-mail kept in {platform.var_dir / 'notify-sink' / 'mail'})"
        )
        _line("Development admin token:")
        _line(mint_dev_token(DEV_TOKEN_KEY, role=Role.ADMIN))
        _line(f"Try: .venv/bin/fursa demo --learners 50{_demo_ports(platform)}")
        _line("Ctrl-C stops everything.")
        while not stopping:
            for service, process in platform.processes.items():
                if process.poll() is not None:
                    console.print(f"[red]{service} exited ({process.returncode}); restarting[/red]")
                    platform.start_service(service)
                    _notices(platform)
            time.sleep(0.5)
    finally:
        console.print("stopping…")
        platform.stop()
        if failed:
            sys.exit(1)


def _seed(urls: dict[str, str]) -> SeedResult | None:
    """Seed the demo data; a refusal is said, and the platform runs on without them."""
    try:
        return asyncio.run(seed(urls))
    except (DemoFailed, httpx.HTTPError) as exc:
        console.print(f"demo data not seeded: {exc}", style="yellow", markup=False, soft_wrap=True)
        return None


def _seeded_line(result: SeedResult) -> str:
    return (
        f"Demo data: {result.learners} learners at the demo center, {result.classes} classes "
        f"with sessions called, {result.graduates} diplomas, a cohort of "
        f"{result.awaiting_approval} awaiting approval, {result.waiting} on a waiting list, "
        f"{result.partners} partners who referred {result.referrals} learners "
        "(seeded once; a restart adds none)"
    )


def _stderr_line(text: str) -> None:
    Console(stderr=True).print(text, markup=False, highlight=False, soft_wrap=True)


def _line(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _notices(platform: Platform) -> None:
    """Print what the platform decided by itself (a port it had to change), once."""
    while platform.notices:
        console.print(platform.notices.pop(0), style="yellow", markup=False, soft_wrap=True)


def _demo_ports(platform: Platform) -> str:
    """The options ``fursa demo`` needs for services that are not on their usual port."""
    return "".join(
        f" --{service}-port {platform.ports[service]}"
        for service, usual in SERVICES.items()
        if platform.ports[service] != usual
    )


@app.command()
def token(
    role: Annotated[Role, typer.Option(help="The caller's role.")],
    association: Annotated[str | None, typer.Option(help="association_staff: its id.")] = None,
    center: Annotated[str | None, typer.Option(help="educator: the center's id.")] = None,
    region: Annotated[str | None, typer.Option(help="entraide_officer/directorate.")] = None,
    province: Annotated[str | None, typer.Option(help="directorate of a province.")] = None,
    partner: Annotated[str | None, typer.Option(help="partner: its id.")] = None,
    subject: Annotated[str, typer.Option(help="Who the token names.")] = "dev-user",
    key: Annotated[str, typer.Option(envvar="FURSA_AUTH_DEV_KEY", hidden=True)] = DEV_TOKEN_KEY,
) -> None:
    """Mint a development token (services in development mode accept it; production never)."""
    try:
        minted = mint_dev_token(
            key,
            role=role,
            subject=subject,
            association_id=association,
            center_id=center,
            region_code=region,
            province_code=province,
            partner_id=partner,
        )
    except Problem as exc:
        raise typer.BadParameter(exc.detail or str(exc), param_hint="--role") from exc
    print(minted)


@app.command()
def demo(
    learners: Annotated[int, typer.Option(help="How many learners to take through.")] = 20,
    host: Annotated[str, typer.Option()] = "http://127.0.0.1",
    enrollment_port: Annotated[int, typer.Option(envvar="FURSA_ENROLLMENT_PORT")] = 8001,
    training_port: Annotated[int, typer.Option(envvar="FURSA_TRAINING_PORT")] = 8002,
    certification_port: Annotated[int, typer.Option(envvar="FURSA_CERTIFICATION_PORT")] = 8003,
    notify_port: Annotated[int, typer.Option(envvar="FURSA_NOTIFY_PORT")] = 8004,
    timeout: Annotated[
        float,
        typer.Option(
            help="Seconds to wait for each step, and for a service that restarts meanwhile."
        ),
    ] = 120,
) -> None:
    """Enroll, train, certify and notify N learners on the running platform; check the counts.

    A service restarting meanwhile is waited for; every call tried again is one that cannot
    do a thing twice (enrollments carry an idempotency key per learner).
    """
    urls = {
        "enrollment": f"{host}:{enrollment_port}",
        "training": f"{host}:{training_port}",
        "certification": f"{host}:{certification_port}",
        "notify": f"{host}:{notify_port}",
    }
    try:
        result = asyncio.run(run_demo(urls, learners, timeout, notice=_stderr_line))
    except DemoFailed as exc:
        console.print(f"demo stopped: {exc}", style="red", markup=False, soft_wrap=True)
        sys.exit(1)
    ok = (
        result.enrolled
        == result.completed
        == result.certificates
        == result.association_notices
        == learners
        and result.notifications == result.expected_notifications
    )
    if not ok:
        console.print(
            f"[red]expected {learners} enrolled/completed/certificates/association notices "
            f"and {result.expected_notifications} notifications[/red]"
        )
    print(json.dumps(result.as_dict()))
    sys.exit(0 if ok else 1)


@app.command("seed")
def seed_command(
    host: Annotated[str, typer.Option()] = "http://127.0.0.1",
    enrollment_port: Annotated[int, typer.Option(envvar="FURSA_ENROLLMENT_PORT")] = 8001,
    training_port: Annotated[int, typer.Option(envvar="FURSA_TRAINING_PORT")] = 8002,
    certification_port: Annotated[int, typer.Option(envvar="FURSA_CERTIFICATION_PORT")] = 8003,
    notify_port: Annotated[int, typer.Option(envvar="FURSA_NOTIFY_PORT")] = 8004,
) -> None:
    """Seed the demo data on the running platform (``fursa up`` does it at every start);
    seeding again adds nothing."""
    ports = {
        "enrollment": enrollment_port,
        "training": training_port,
        "certification": certification_port,
        "notify": notify_port,
    }
    result = _seed({service: f"{host}:{port}" for service, port in ports.items()})
    if result is None:
        sys.exit(1)
    _line(_seeded_line(result))


@app.command("import")
def import_learners(
    file: Annotated[Path, typer.Argument(help="learners.csv (UTF-8; columns: docs/import.md)")],
    url: Annotated[
        str, typer.Option(envvar="FURSA_ENROLLMENT_URL", help="The enrollment service.")
    ] = "http://127.0.0.1:8001",
    token: Annotated[
        str | None,
        typer.Option(
            envvar="FURSA_TOKEN",
            help="Bearer token of an association's staff or an administrator "
            "(default: a development admin token, accepted in development only).",
        ),
    ] = None,
    batch: Annotated[
        int, typer.Option(min=1, max=learners_import.MAX_BATCH, help="Rows per request.")
    ] = 200,
) -> None:
    """Enroll the learners of a CSV file; report each invalid or refused row by line number.

    Valid rows are committed whatever the others do; importing the same file again creates
    no duplicates. Exits 1 when a row was not imported, 2 when the file or the service
    refused the whole import.
    """
    try:
        rows, shape_problems = learners_import.read_file(file)
    except (OSError, learners_import.MalformedFile) as exc:
        console.print(f"{file}: {exc}", style="red", markup=False, soft_wrap=True)
        sys.exit(2)
    report = learners_import.ImportReport(rows=len(shape_problems))
    report.counts["invalid"] += len(shape_problems)
    report.problems.extend(shape_problems)
    headers = {"Authorization": f"Bearer {token}"} if token else dev_authorization()
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"importing {file.name}", total=len(rows))
        try:
            asyncio.run(
                learners_import.import_learners(
                    rows,
                    url=url.rstrip("/"),
                    headers=headers,
                    batch_size=batch,
                    on_progress=lambda n: progress.advance(task, n),
                    report=report,
                )
            )
        except (learners_import.ImportFailed, httpx.HTTPError) as exc:
            console.print(f"import stopped: {exc}", style="red", markup=False, soft_wrap=True)
            sys.exit(2)
    summary = Table(title=f"{file.name}: {report.rows} rows in {report.seconds:.1f} s")
    summary.add_column("outcome")
    summary.add_column("rows", justify="right")
    for outcome in ("enrolled", "waitlisted", "already_imported", "refused", "invalid"):
        summary.add_row(outcome, str(report.counts[outcome]))
    console.print(summary)
    for problem in report.problems:
        console.print(
            f"line {problem.line}: {problem.status}: {problem.reason}", markup=False, soft_wrap=True
        )
    console.print(f"{report.rate:.0f} rows/s")
    sys.exit(1 if report.problems else 0)
