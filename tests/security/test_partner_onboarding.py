"""``fursa partner add`` against the real notify and the real nats-server of a local platform.

A platform with its nats-server and the notify service only (what onboarding touches): the
command checks its options, enrolls the partner in the roster of ``var/nats``, renders
``partners.conf``, has notify register the partner and its endpoint in one transaction, and
signals the server to reload, after which the printed password opens a connection. When any
step is refused, nothing is left behind: no partner row in notify, no endpoint, no NATS user.
Partner names are unique (409 problem+json), and administrators — only they — list partners,
without secrets.

The reload signal goes to the nats-server of ``var/nats`` and to no other process, whatever a
stale pid file says.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import nats.errors
import pytest
from click.testing import Result
from typer.testing import CliRunner

from fursa.cli.main import app
from fursa.cli.partners import reload_nats, running_nats_server
from fursa.cli.platform import Platform
from fursa.shared.auth import Role, dev_authorization
from fursa.shared.natsauth import (
    DEV_CONFIG_NAME,
    PARTNERS_CONFIG_NAME,
    USERS,
    enroll_partner,
    inbox_prefix,
    load_roster,
    write_dev_config,
)
from fursa.shared.natsserver import NatsServer
from fursa.shared.problems import MEDIA_TYPE as PROBLEM_JSON

EVENT = "fursa.partner.certificate-issued.v1"


@pytest.fixture(scope="module")
def onboarding(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """nats-server (provisioned, partner feed included) and notify, as ``fursa up`` runs them."""
    platform = Platform.on_free_ports(tmp_path_factory.mktemp("onboarding") / "var")
    try:
        platform.start_nats()
        asyncio.run(platform.provision())
        platform.start_service("notify")
        platform.wait_ready(180, ["notify"])
        yield platform
    finally:
        platform.stop()


def nats_dir_of(platform: Platform) -> Path:
    return platform.var_dir / "nats"


def add(platform: Platform, name: str, *options: str, nats_dir: Path | None = None) -> Result:
    return CliRunner().invoke(
        app,
        [
            "partner",
            "add",
            name,
            "--nats-dir",
            str(nats_dir or nats_dir_of(platform)),
            "--notify-url",
            platform.url("notify"),
            *options,
        ],
    )


def said(result: Result) -> str:
    """The command's output as one line of words (rich draws boxes and wraps long lines)."""
    return " ".join(result.output.replace("│", " ").split())


def partners_of(platform: Platform) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{platform.url('notify')}/partners", headers=dev_authorization(), timeout=10
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def names_of(platform: Platform) -> list[str]:
    return [partner["name"] for partner in partners_of(platform)]


def nothing_left_of(platform: Platform, name: str, nats_dir: Path | None = None) -> None:
    directory = nats_dir or nats_dir_of(platform)
    assert name not in names_of(platform)
    assert name not in load_roster(directory)
    config = directory / PARTNERS_CONFIG_NAME
    assert not config.exists() or f"user: {name}\n" not in config.read_text()


@pytest.fixture
def nats_dir(tmp_path: Path) -> Iterator[Path]:
    """A running development nats-server whose configuration lives in the returned directory."""
    directory = tmp_path / "nats"
    write_dev_config(directory, {user: f"{user}-secret" for user in USERS})
    server = NatsServer(directory, include=f"include ./{DEV_CONFIG_NAME}").start()
    try:
        yield directory
    finally:
        server.stop()


def _server_url(nats_dir: Path) -> str:
    """The address the server chose for itself, from the ports file it writes beside its
    configuration (which says ``port: -1``)."""
    (ports_file,) = nats_dir.glob("nats-server_*.ports")
    url: str = json.loads(ports_file.read_text())["nats"][0]
    return url


async def connects(url: str, user: str, password: str, *, expected: bool) -> bool:
    """Whether ``user`` can connect, polled until it is ``expected``: the server applies a
    reload signal asynchronously."""
    deadline = time.monotonic() + 20
    while True:
        try:
            nc = await nats.connect(
                url,
                user=user,
                password=password,
                inbox_prefix=inbox_prefix(user),
                allow_reconnect=False,
                max_reconnect_attempts=0,
                connect_timeout=10,  # bcrypt: the server takes a moment on a busy machine
            )
        # A refused login may also show as the server closing the socket mid-handshake.
        except (nats.errors.Error, TimeoutError, ConnectionError):
            result = False
        else:
            await nc.close()
            result = True
        if result == expected or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


# -- onboarding, end to end -----------------------------------------------------------------------


async def test_partner_add_registers_with_notify_and_opens_the_feed(
    onboarding: Platform,
) -> None:
    assert onboarding.nats is not None
    url = onboarding.nats.url
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(url, user="acme", password="x", allow_reconnect=False)

    result = add(
        onboarding, "acme", "--webhook-url", "https://acme.example/hooks", "--events", EVENT
    )
    assert result.exit_code == 0, result.output
    credentials = json.loads(result.stdout)
    assert credentials["webhook_secret"].startswith("whsec_")
    assert (credentials["nats_user"], credentials["inbox_prefix"]) == ("acme", "_INBOX_acme")
    assert (credentials["stream"], credentials["durable"]) == ("PARTNER", "acme")

    [acme] = [p for p in partners_of(onboarding) if p["name"] == "acme"]
    assert acme["partner_id"] == credentials["partner_id"]
    [endpoint] = acme["endpoints"]
    assert endpoint["endpoint_id"] == credentials["webhook_endpoint_id"]
    assert (endpoint["url"], endpoint["event_types"]) == ("https://acme.example/hooks", [EVENT])

    # The server re-read partners.conf: the printed password works (and is not kept).
    assert await connects(url, "acme", credentials["nats_password"], expected=True)
    nats_dir = nats_dir_of(onboarding)
    assert credentials["nats_password"] not in (nats_dir / "partners.json").read_text()
    assert credentials["nats_password"] not in (nats_dir / "partners.conf").read_text()


def test_a_webhook_without_events_is_refused_before_anything_happens(
    onboarding: Platform,
) -> None:
    result = add(onboarding, "beta", "--webhook-url", "https://beta.example/hooks")
    assert result.exit_code == 2, result.output
    assert "--events" in said(result)
    nothing_left_of(onboarding, "beta")

    result = add(onboarding, "beta", "--events", EVENT)
    assert result.exit_code == 2, result.output
    assert "--webhook-url" in said(result)
    nothing_left_of(onboarding, "beta")


async def test_an_endpoint_notify_refuses_leaves_no_partner_and_no_nats_user(
    onboarding: Platform,
) -> None:
    result = add(
        onboarding, "gamma", "--webhook-url", "https://gamma.example/h", "--events", "fursa.nope"
    )
    assert result.exit_code == 1, result.output
    # notify's answer names the field at fault.
    assert "webhook.event_types" in said(result), result.output
    assert "nothing was created" in said(result)
    nothing_left_of(onboarding, "gamma")

    # The same partner onboards fine once the event type is right: nothing was in the way.
    result = add(onboarding, "gamma", "--webhook-url", "https://gamma.example/h", "--events", EVENT)
    assert result.exit_code == 0, result.output
    assert names_of(onboarding).count("gamma") == 1


def test_a_name_notify_has_is_refused_and_leaves_no_nats_user(onboarding: Platform) -> None:
    assert add(onboarding, "delta").exit_code == 0
    nats_dir = nats_dir_of(onboarding)
    # Its NATS user withdrawn, the partner is still registered with notify by that name.
    removed = CliRunner().invoke(app, ["partner", "remove", "delta", "--nats-dir", str(nats_dir)])
    assert removed.exit_code == 0, removed.output

    again = add(onboarding, "delta")
    assert again.exit_code == 1, again.output
    assert "already has a partner named 'delta'" in said(again)
    assert "delta" not in load_roster(nats_dir)
    assert names_of(onboarding).count("delta") == 1

    # And while its NATS user exists, the command says so before asking notify.
    assert add(onboarding, "epsilon").exit_code == 0
    twice = add(onboarding, "epsilon")
    assert twice.exit_code == 2
    assert "already has a NATS user" in said(twice)
    assert names_of(onboarding).count("epsilon") == 1


def test_a_fresh_directory_without_partner_admin_leaves_nothing_behind(
    onboarding: Platform, tmp_path: Path
) -> None:
    fresh = tmp_path / "nats"
    result = add(onboarding, "zeta", nats_dir=fresh)
    assert result.exit_code == 2, result.output
    assert "partner_admin" in said(result)
    nothing_left_of(onboarding, "zeta", fresh)


def test_a_bad_or_reserved_name_is_refused_before_anything_happens(onboarding: Platform) -> None:
    before = names_of(onboarding)
    for name in ("notify", "Bad Name"):
        result = add(onboarding, name)
        assert result.exit_code == 2, result.output
        assert "partner name" in said(result)
    assert names_of(onboarding) == before


async def test_partner_remove_withdraws_access_at_the_reload(onboarding: Platform) -> None:
    assert onboarding.nats is not None
    added = add(onboarding, "eta")
    assert added.exit_code == 0, added.output
    password = json.loads(added.stdout)["nats_password"]
    url = onboarding.nats.url
    assert await connects(url, "eta", password, expected=True)

    nats_dir = nats_dir_of(onboarding)
    runner = CliRunner()
    removed = runner.invoke(app, ["partner", "remove", "eta", "--nats-dir", str(nats_dir)])
    assert removed.exit_code == 0, removed.output
    assert "eta" not in load_roster(nats_dir)
    assert not await connects(url, "eta", password, expected=False)
    again = runner.invoke(app, ["partner", "remove", "eta", "--nats-dir", str(nats_dir)])
    assert again.exit_code == 2


def test_partner_list_shows_notify_s_partners_and_their_nats_users(onboarding: Platform) -> None:
    added = add(onboarding, "theta", "--webhook-url", "https://t.example", "--events", EVENT)
    assert added.exit_code == 0, added.output
    result = CliRunner().invoke(
        app,
        [
            "partner",
            "list",
            "--json",
            "--nats-dir",
            str(nats_dir_of(onboarding)),
            "--notify-url",
            onboarding.url("notify"),
        ],
    )
    assert result.exit_code == 0, result.output
    listed = {partner["name"]: partner for partner in json.loads(result.stdout)}
    assert listed["theta"]["endpoints"][0]["url"] == "https://t.example"
    assert "whsec_" not in result.stdout


# -- notify's partner API -------------------------------------------------------------------------


def test_partner_names_are_unique_on_notify_s_api(onboarding: Platform) -> None:
    notify = onboarding.url("notify")
    admin = dev_authorization()
    first = httpx.post(f"{notify}/partners", json={"name": "Iota Org"}, headers=admin)
    assert first.status_code == 201, first.text
    for path, body in (
        ("/partners", {"name": "Iota Org"}),
        ("/partners/onboarding", {"name": "Iota Org"}),
        (
            "/partners/onboarding",
            {"name": "Iota Org", "webhook": {"url": "https://i.example", "event_types": [EVENT]}},
        ),
    ):
        taken = httpx.post(f"{notify}{path}", json=body, headers=admin)
        assert taken.status_code == 409, (path, taken.text)
        assert taken.headers["content-type"] == PROBLEM_JSON
        problem = taken.json()
        assert (problem["code"], problem["params"]) == ("partner_name_taken", {"name": "Iota Org"})
    assert names_of(onboarding).count("Iota Org") == 1


async def test_registrations_of_one_name_at_once_make_one_partner(onboarding: Platform) -> None:
    notify = onboarding.url("notify")
    async with httpx.AsyncClient(headers=dev_authorization(), timeout=30) as http:
        answers = await asyncio.gather(
            *(
                http.post(f"{notify}{path}", json={"name": "Kappa"})
                for path in ["/partners", "/partners/onboarding"] * 5
            )
        )
    assert sorted(answer.status_code for answer in answers) == [201] + [409] * 9
    assert names_of(onboarding).count("Kappa") == 1


def test_onboarding_registers_nothing_when_the_endpoint_is_invalid(onboarding: Platform) -> None:
    response = httpx.post(
        f"{onboarding.url('notify')}/partners/onboarding",
        json={"name": "Lambda", "webhook": {"url": "not a url", "event_types": []}},
        headers=dev_authorization(),
    )
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"webhook.url", "webhook.event_types"}
    assert "Lambda" not in names_of(onboarding)


def test_only_admins_list_partners_and_the_list_holds_no_secret(onboarding: Platform) -> None:
    notify = onboarding.url("notify")
    created = httpx.post(
        f"{notify}/partners/onboarding",
        json={"name": "Mu", "webhook": {"url": "https://mu.example", "event_types": [EVENT]}},
        headers=dev_authorization(),
    )
    assert created.status_code == 201, created.text
    secret = created.json()["endpoint"]["secret"]
    partner_id = created.json()["partner_id"]

    listed = httpx.get(f"{notify}/partners", headers=dev_authorization())
    assert listed.status_code == 200
    assert secret not in listed.text
    assert "secret" not in listed.text
    assert "Mu" in {partner["name"] for partner in listed.json()}

    assert httpx.get(f"{notify}/partners").status_code == 401
    for role, binding in (
        (Role.PARTNER, {"partner_id": partner_id}),
        (Role.ASSOCIATION_STAFF, {"association_id": "00000000-0000-4000-8000-000000000001"}),
    ):
        refused = httpx.get(f"{notify}/partners", headers=dev_authorization(role, **binding))
        assert refused.status_code == 403, (role, refused.text)
        onboarding_refused = httpx.post(
            f"{notify}/partners/onboarding",
            json={"name": f"by-{role.value}"},
            headers=dev_authorization(role, **binding),
        )
        assert onboarding_refused.status_code == 403
    # A partner still reads its own registration (the per-partner routes are unchanged).
    own = httpx.get(
        f"{notify}/partners/{partner_id}",
        headers=dev_authorization(Role.PARTNER, partner_id=partner_id),
    )
    assert own.status_code == 200


# -- the partner roster across restarts -----------------------------------------------------------


async def test_enrolled_partners_survive_a_restart_of_the_local_platform(tmp_path: Path) -> None:
    """``fursa up`` draws fresh service passwords at each start, yet keeps the roster's
    partners, and provisions the feed's mirror with partner_admin."""
    password = enroll_partner(tmp_path / "var" / "nats", "acme")
    platform = Platform.on_free_ports(tmp_path / "var")
    platform.start_nats()
    assert platform.nats is not None
    try:
        await platform.provision()
        nc = await nats.connect(
            platform.nats.url,
            user="acme",
            password=password,
            inbox_prefix="_INBOX_acme",
            allow_reconnect=False,
            connect_timeout=10,
        )
        info = await nc.jetstream().stream_info("PARTNER")
        await nc.close()
        assert info.config.mirror is not None
        assert info.config.mirror.name == "PARTNER"
        assert (
            platform.passwords["partner_admin"]
            not in (tmp_path / "var" / "nats" / "partners.json").read_text()
        )
    finally:
        platform.nats.stop()


# -- the reload signal ----------------------------------------------------------------------------


def _reloads(nats_dir: Path) -> int:
    return (nats_dir / "nats-server.log").read_text().count("Reloaded server configuration")


def _eventually(check: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_reload_signals_the_directory_s_own_nats_server_only(
    nats_dir: Path, tmp_path: Path
) -> None:
    pid_file = nats_dir / "nats-server.pid"
    ours = int(pid_file.read_text())
    assert running_nats_server(nats_dir) == ours
    assert reload_nats(nats_dir)
    assert _eventually(lambda: _reloads(nats_dir) == 1)

    # Another process under the pid file's number (the kernel reuses numbers): left alone.
    bystander = subprocess.Popen(["sleep", "60"])
    other_dir = tmp_path / "other"
    other = NatsServer(other_dir).start()
    try:
        for pid in (bystander.pid, int((other_dir / "nats-server.pid").read_text())):
            pid_file.write_text(f"{pid}\n")
            assert running_nats_server(nats_dir) is None
            assert not reload_nats(nats_dir)
        time.sleep(0.5)
        assert bystander.poll() is None  # SIGHUP would have ended it
        assert _reloads(other_dir) == 0
    finally:
        bystander.kill()
        bystander.wait()
        other.stop()
    pid_file.write_text(f"{ours}\n")
    assert reload_nats(nats_dir)
    assert _eventually(lambda: _reloads(nats_dir) == 2)


def test_a_stopped_server_leaves_no_pid_file_to_signal(tmp_path: Path) -> None:
    server = NatsServer(tmp_path / "nats").start()
    assert server.pid_file.exists()
    assert running_nats_server(tmp_path / "nats") == server.process.pid  # type: ignore[union-attr]
    server.stop()
    assert not server.pid_file.exists()
    assert not reload_nats(tmp_path / "nats")
    # After a crash the file stays, naming a process that is gone: nothing is signalled.
    server.start()
    server.kill()
    assert server.pid_file.exists()
    assert running_nats_server(tmp_path / "nats") is None
    assert not reload_nats(tmp_path / "nats")
