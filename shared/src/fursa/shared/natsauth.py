"""NATS accounts, users and permissions of the platform, generated from the topology.

Two accounts, both with JetStream. ``FURSA`` holds every stream and these users:

* ``admin``: no permissions block, i.e. everything in the account. Only provisioning uses it
  (``provision(js, Topology())`` creates and updates streams and durable consumers).
* one user per service, named after it, with allow lists only (everything else is denied):

  - publish ``fursa.<service>.>`` (its own context), and notify also ``fursa.partner.>`` (it
    fills the partner feed). A JetStream publish (``js.publish``, ``js.publish_async``) is a
    core publish with a reply subject; the stream sends its PubAck there, so publishing needs
    no ``$JS.API`` subject;
  - publish ``$JS.API.CONSUMER.MSG.NEXT.<STREAM>.<DURABLE>`` for each of its durables
    (``CONSUMERS``): nats-py's ``fetch`` publishes its pull request there;
  - publish ``$JS.ACK.<STREAM>.<DURABLE>.>`` for each of its durables: a pulled message's reply
    subject (``$JS.ACK.<STREAM>.<DURABLE>.<delivered>.<sseq>.<cseq>.<ts>.<pending>``) where
    ``ack``, ``nak(delay)``, ``term`` and ``ack_sync`` publish;
  - publish ``$JS.API.DIRECT.GET.ERASURES``: a direct get of the erasure ledger, which it
    reads at start (:mod:`fursa.shared.erasures`); the answer holds ids only;
  - subscribe ``_INBOX_<service>.>`` only: its own reply inbox (``inbox_prefix``), where
    PubAcks, JetStream replies and the messages a pull delivers arrive.

  Measured with nats-py 2.16 against nats-server 2.15 (``tests/security/
  test_nats_permissions.py``): ``pull_subscribe_bind`` makes no API call, so neither
  ``$JS.API.INFO`` nor ``STREAM.INFO`` nor ``CONSUMER.INFO`` is granted; a service cannot
  create, update, purge, delete or inspect streams and consumers, read another service's
  durable or inbox, or subscribe to any event subject (events reach it through its durables).
  A refused publish or request does not raise: the server sends ``-ERR 'Permissions
  Violation ...'`` to the client's ``error_cb``, and a refused request times out.

Account ``PARTNER`` (in ``partners.conf``, included by ``auth.conf``) holds the partners: its
stream ``PARTNER`` mirrors FURSA's ``PARTNER`` stream (:func:`~fursa.shared.messaging.streams.
partner_feed_mirror`). FURSA exports to it only what that mirror needs — creating its consumer
on stream PARTNER, the flow-control replies, and the mirror's deliver subject — and the mirror
machinery is the only user of those imports: no user of account PARTNER may publish on them.
Exporting the consumer API of stream PARTNER straight to the partners would have been simpler,
but a consumer created through an import lives in FURSA, and a push consumer's deliver subject
is then a FURSA subject: a partner could have made the server publish the feed onto an internal
stream, or onto an internal durable's ``$JS.ACK`` subjects (acking services' messages away).
Users of account PARTNER:

* ``partner_admin``: its own account's JetStream API only (provisions the mirror);
* one user per partner (:func:`partner_grants`): the consumer API of the mirror for one durable
  named after the partner — create (any deliver policy, e.g. ``by_start_time`` to replay from a
  point in time), inspect, pull, ack, delete — the mirror's stream info, and its own inbox
  ``_INBOX_<partner>.>``. It publishes nothing anywhere and reads no other subject.
  Partners are listed in a roster (``partners.json``: name and bcrypt hash, the password itself
  is shown once), from which ``partners.conf`` is rendered.

Passwords are given as literal strings (development, tests), bcrypt hashes, or ``$ENV_VAR``
references, which nats-server resolves from its environment when it reads the file (the
committed ``deploy/nats/auth.conf`` names ``$FURSA_<USER>_NATS_PASSWORD``; a missing variable
makes the server refuse to start, so no default secret can slip through). A literal is written
as its bcrypt hash (:data:`MACHINE_BCRYPT_COST`): no generated file holds a password in the
clear, and nats-server no longer warns "Plaintext passwords detected" at each start.

``python -m fursa.shared.natsauth deploy/nats/auth.conf`` regenerates that file and the
``partners.conf`` beside it (no partners: deployments add them with ``fursa partner add``);
``--check`` exits non-zero when a committed file differs from what the code generates.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt

from fursa.shared.contracts.registry import SERVICES, stream_for, stream_subject
from fursa.shared.messaging.streams import (
    ERASURE_LEDGER,
    PARTNER_FEED_API,
    PARTNER_FEED_DELIVER,
    PARTNER_STREAM,
    consumers_of,
)

ACCOUNT = "FURSA"
ADMIN = "admin"
PARTNER_ACCOUNT = "PARTNER"
PARTNER_ADMIN = "partner_admin"
USERS: tuple[str, ...] = (ADMIN, PARTNER_ADMIN, *SERVICES)

PARTNER_CONTEXT = "partner"
PARTNER_FEED_PRODUCER = "notify"
"""DESIGN.md: partners read a PII-free stream (``PARTNER``) that notify fills."""

DEV_CONFIG_NAME = "auth.conf"
PARTNERS_CONFIG_NAME = "partners.conf"
PARTNER_ROSTER_NAME = "partners.json"

_PARTNER_NAME = re.compile(r"[a-z][a-z0-9-]{1,39}")

_ENV_REFERENCE = re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*")
_HEADER = (
    "# GENERATED by `python -m fursa.shared.natsauth <this file>` from the event registry and\n"
    "# the consumer topology (fursa.shared.natsauth): do not edit by hand.\n"
)
_PARTNERS_HEADER = (
    "# GENERATED by fursa.shared.natsauth from the partner roster (`fursa partner add`):\n"
    "# account PARTNER, included by auth.conf. Do not edit by hand.\n"
)


def inbox_prefix(service: str) -> str:
    """The reply-inbox prefix of a service's NATS connection (``nats.connect(inbox_prefix=)``)."""
    return f"_INBOX_{service}"


@dataclass(frozen=True)
class Grant:
    """One permitted subject and why it is there."""

    subject: str
    reason: str


@dataclass(frozen=True)
class Grants:
    """What one service's NATS user may publish and subscribe to (allow lists; all else denied)."""

    user: str
    publish: tuple[Grant, ...]
    subscribe: tuple[Grant, ...]


def published_contexts(service: str) -> tuple[str, ...]:
    """The contexts whose subjects ``service`` may publish: its own, and for notify the partner
    feed. Deliberately not widened from the registry: an event registered under another
    context's name is a contract bug (the tests check the registry against this)."""
    if service == PARTNER_FEED_PRODUCER:
        return (service, PARTNER_CONTEXT)
    return (service,)


def service_grants(service: str) -> Grants:
    """The exact permissions of ``service``'s NATS user."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
    publish = [
        # A JetStream publish is a core publish; the PubAck comes back on the reply inbox.
        Grant(stream_subject(context), f"its events, stored by stream {stream_for(context)}")
        for context in published_contexts(service)
    ]
    for spec in consumers_of(service):
        where = f"{spec.stream}.{spec.durable}"
        publish += [
            # pull_subscribe_bind makes no API call; each fetch publishes one pull request.
            Grant(f"$JS.API.CONSUMER.MSG.NEXT.{where}", f"fetch from its durable {spec.durable}"),
            # A pulled message's reply subject: ack, nak(delay), term, ack_sync publish there.
            Grant(f"$JS.ACK.{where}.>", f"ack / nak / term what {spec.durable} delivered"),
        ]
    publish.append(
        Grant(
            f"$JS.API.DIRECT.GET.{ERASURE_LEDGER}",
            "read the erasure ledger at start, to re-apply it to a restored database",
        )
    )
    subscribe = [
        Grant(
            f"{inbox_prefix(service)}.>",
            "its own reply inbox: PubAcks, and the messages its fetches pull",
        )
    ]
    return Grants(user=service, publish=tuple(publish), subscribe=tuple(subscribe))


def check_partner_name(name: str) -> str:
    """A partner's NATS user and durable name: lower-case letters, digits and dashes, and no
    name the platform's own users have (user names are unique across accounts)."""
    if not _PARTNER_NAME.fullmatch(name):
        raise ValueError(
            f"partner name {name!r}: 2-40 lower-case letters, digits or dashes, from a letter"
        )
    if name in USERS:
        raise ValueError(f"partner name {name!r} is one of the platform's own NATS users")
    return name


def partner_grants(partner: str) -> Grants:
    """The permissions of a partner's user in account PARTNER: one durable on the feed mirror."""
    check_partner_name(partner)
    api = f"$JS.API.CONSUMER.{{}}.{PARTNER_STREAM}.{partner}"
    publish = (
        Grant(f"$JS.API.STREAM.INFO.{PARTNER_STREAM}", "how far the feed reaches"),
        Grant(api.format("CREATE"), f"create or update its durable {partner} (any start)"),
        Grant(api.format("CREATE") + ".>", "the same, with a filter subject"),
        Grant(api.format("DURABLE.CREATE"), "the same, for clients that use the older API"),
        Grant(api.format("INFO"), f"inspect its durable {partner}"),
        Grant(api.format("DELETE"), f"delete its durable {partner} (to replay from elsewhere)"),
        Grant(api.format("MSG.NEXT"), f"fetch from its durable {partner}"),
        Grant(f"$JS.ACK.{PARTNER_STREAM}.{partner}.>", f"ack what {partner} delivered"),
    )
    subscribe = (
        Grant(f"{inbox_prefix(partner)}.>", "its own reply inbox (connect with this prefix)"),
    )
    return Grants(user=partner, publish=publish, subscribe=subscribe)


def env_passwords() -> dict[str, str]:
    """``$FURSA_<USER>_NATS_PASSWORD`` for every user (the deploy file's password references)."""
    return {user: f"$FURSA_{user.upper()}_NATS_PASSWORD" for user in USERS}


# What nats-server takes for a bcrypt hash (server/auth.go: ``^\$2[abxy]\$\d{2}\$.*``).
_BCRYPT_HASH = re.compile(r"\$2[abxy]\$\d{2}\$.*")


def is_bcrypt_hash(value: str) -> bool:
    return _BCRYPT_HASH.fullmatch(value) is not None


def _password(value: str) -> str:
    """A password as the configuration file says it: an ``$ENV_VAR`` reference unquoted (the
    server substitutes it), a bcrypt hash quoted, a literal as the quoted hash of it."""
    if _ENV_REFERENCE.fullmatch(value):
        return value  # unquoted: nats-server substitutes the environment variable
    if not value:
        raise ValueError("empty NATS password")
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValueError("a NATS password cannot contain control characters")
    if not is_bcrypt_hash(value):
        value = hash_password(value, cost=MACHINE_BCRYPT_COST)
    return json.dumps(value, ensure_ascii=False)


def _check_users(passwords: Mapping[str, str]) -> None:
    missing = [user for user in USERS if user not in passwords]
    unknown = sorted(set(passwords) - set(USERS))
    if missing or unknown:
        raise ValueError(f"NATS passwords: missing {missing}, unknown {unknown}")


def _grant_lines(verb: str, grants: Sequence[Grant], indent: str) -> list[str]:
    if not grants:
        # nats-server reads an empty allow list as "no restriction": deny everything instead.
        return [f'{indent}{verb}: {{ deny: [">"] }}']
    lines = [f"{indent}{verb}: {{", f"{indent}  allow: ["]
    for grant in grants:
        lines.append(f"{indent}    # {grant.reason}")
        lines.append(f"{indent}    {json.dumps(grant.subject)}")
    lines += [f"{indent}  ]", f"{indent}}}"]
    return lines


def render_authorization(passwords: Mapping[str, str]) -> str:
    """The ``accounts { FURSA { ... } }`` block for nats-server (appended to its config).

    ``passwords`` maps ``admin`` and each service name to a password (written as its bcrypt
    hash), a bcrypt hash or a ``$ENV_VAR``.
    """
    _check_users(passwords)
    lines = [
        "accounts {",
        f"  {ACCOUNT} {{",
        "    jetstream: enabled",
        "    users: [",
        "      # Provisioning only (streams, durable consumers): everything in the account.",
        f"      {{ user: {ADMIN}, password: {_password(passwords[ADMIN])} }}",
    ]
    for service in SERVICES:
        grants = service_grants(service)
        lines += [
            "      {",
            f"        user: {grants.user}",
            f"        password: {_password(passwords[service])}",
            "        permissions: {",
            *_grant_lines("publish", grants.publish, "          "),
            *_grant_lines("subscribe", grants.subscribe, "          "),
            "        }",
            "      }",
        ]
    lines += [
        "    ]",
        "    # Only what the partner feed's mirror in account PARTNER needs (partners.conf).",
        "    exports: [",
        *(
            f'      {{ {kind}: "{subject}", accounts: [{PARTNER_ACCOUNT}] }}'
            for kind, subject, _ in _feed_exports()
        ),
        "    ]",
        "  }",
        "  # Account PARTNER: the partners and the mirror of the partner feed.",
        f"  include ./{PARTNERS_CONFIG_NAME}",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _feed_exports() -> tuple[tuple[str, str, str], ...]:
    """(kind, FURSA subject, subject in account PARTNER) of what the feed's mirror uses."""
    create = f"$JS.API.CONSUMER.CREATE.{PARTNER_STREAM}"
    imported = PARTNER_FEED_API + create.removeprefix("$JS.API")
    return (
        # The mirror creates an unnamed consumer (this subject); .> is the named form.
        ("service", create, imported),
        ("service", f"{create}.>", f"{imported}.>"),
        ("service", "$JS.FC.>", "$JS.FC.>"),
        ("stream", f"{PARTNER_FEED_DELIVER}.>", f"{PARTNER_FEED_DELIVER}.>"),
    )


def render_partner_account(admin_password: str, partners: Mapping[str, str]) -> str:
    """The ``PARTNER { ... }`` account block (``partners.conf``, inside ``accounts { }``).

    ``partners`` maps each partner's name to its password: a bcrypt hash from the roster, a
    literal (tests; written as its hash) or a ``$ENV_VAR``.
    """
    admin = Grants(
        user=PARTNER_ADMIN,
        publish=(Grant("$JS.API.>", "its own account's JetStream API, never the imports"),),
        subscribe=(Grant("_INBOX.>", "replies to its API calls"),),
    )
    lines = [
        f"{PARTNER_ACCOUNT} {{",
        "  jetstream: enabled",
        "  imports: [",
        "    # Used only by the mirror: no user of this account may publish on them.",
    ]
    for kind, subject, local in _feed_exports():
        mapped = f', to: "{local}"' if local != subject else ""
        lines.append(f'    {{ {kind}: {{ account: {ACCOUNT}, subject: "{subject}" }}{mapped} }}')
    lines += ["  ]", "  users: ["]
    users = [
        (admin, admin_password),
        *((partner_grants(n), p) for n, p in sorted(partners.items())),
    ]
    for grants, password in users:
        lines += [
            "    {",
            f"      user: {grants.user}",
            f"      password: {_password(password)}",
            "      permissions: {",
            *_grant_lines("publish", grants.publish, "        "),
            *_grant_lines("subscribe", grants.subscribe, "        "),
            "      }",
            "    }",
        ]
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def render_file(passwords: Mapping[str, str]) -> str:
    """A whole include file: the generated-by header and the authorization block."""
    return _HEADER + render_authorization(passwords)


def render_partners_file(admin_password: str, partners: Mapping[str, str]) -> str:
    """``partners.conf``: the generated-by header and account PARTNER."""
    return _PARTNERS_HEADER + render_partner_account(admin_password, partners)


def _write_secret(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)  # it holds passwords or their hashes: readable by its owner only
    path.chmod(0o600)
    path.write_text(text)
    return path


def write_partners_config(directory: Path, admin_password: str | None = None) -> Path:
    """Render ``partners.conf`` in ``directory`` from the roster kept there.

    ``admin_password`` (a bcrypt hash, a literal — kept as its hash — or a ``$ENV_VAR``)
    replaces the roster's password of ``partner_admin``; without it the roster must already
    hold one.
    """
    roster = _read_roster(directory)
    if admin_password is not None:
        if not admin_password:
            raise ValueError(f"empty NATS password for {PARTNER_ADMIN}")
        if not (_ENV_REFERENCE.fullmatch(admin_password) or is_bcrypt_hash(admin_password)):
            admin_password = hash_password(admin_password, cost=MACHINE_BCRYPT_COST)
        roster["partner_admin"] = admin_password
        _write_secret(directory / PARTNER_ROSTER_NAME, json.dumps(roster, indent=2))
    if not isinstance(roster.get("partner_admin"), str):
        raise ValueError(
            f"{directory / PARTNER_ROSTER_NAME} has no password for {PARTNER_ADMIN}: start the "
            "platform once, or give it (e.g. '$FURSA_PARTNER_ADMIN_NATS_PASSWORD')"
        )
    text = render_partners_file(roster["partner_admin"], roster.get("partners", {}))
    return _write_secret(directory / PARTNERS_CONFIG_NAME, text)


def write_dev_config(directory: Path, passwords: Mapping[str, str]) -> Path:
    """Write ``auth.conf`` and ``partners.conf`` into ``directory`` (next to the server config)
    and return the path of ``auth.conf``.

    The server config then says ``include ./auth.conf`` (include paths are relative to the
    including file).
    """
    path = _write_secret(directory / DEV_CONFIG_NAME, render_file(passwords))
    write_partners_config(directory, passwords[PARTNER_ADMIN])
    return path


BCRYPT_COST = 11
"""What ``nats server passwd`` uses; the server pays it at each connection, not per message
(measured here: ~125 ms a connection at cost 11, ~5 ms at 6, ~2 ms at 4)."""

MACHINE_BCRYPT_COST = 6
"""The cost for the literal passwords of the generated configuration: the platform's own users,
whose passwords are drawn at random (``secrets.token_urlsafe(18)``, 144 bits) at each ``fursa
up``. Their entropy, not the cost, makes a hash unguessable; the hash only keeps them out of
the file. A low cost keeps every service's (re)connection fast under nats-py's default 2 s
connect timeout, on a busy machine too (nats-server accepts any cost from 4)."""


def hash_password(password: str, *, cost: int = BCRYPT_COST) -> str:
    """The bcrypt hash nats-server accepts in place of a password."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(cost)).decode()


def _read_roster(directory: Path) -> dict[str, Any]:
    path = directory / PARTNER_ROSTER_NAME
    roster: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    return roster


def load_roster(directory: Path) -> dict[str, str]:
    """The partners in ``directory``'s ``partners.json``: name → bcrypt hash of the password."""
    partners: dict[str, str] = _read_roster(directory).get("partners", {})
    return partners


def enroll_partner(directory: Path, name: str) -> str:
    """Add partner ``name`` to the roster in ``directory``; return its password (shown once:
    only its bcrypt hash is kept). Render ``partners.conf`` and reload the server after."""
    check_partner_name(name)
    roster = _read_roster(directory)
    partners = roster.setdefault("partners", {})
    if name in partners:
        raise ValueError(f"partner {name!r} already has a NATS user")
    password = secrets.token_urlsafe(24)
    partners[name] = hash_password(password)
    _write_secret(directory / PARTNER_ROSTER_NAME, json.dumps(roster, indent=2))
    return password


def remove_partner(directory: Path, name: str) -> None:
    """Take partner ``name`` off the roster (offboarding, or before enrolling it again to
    rotate its password). Render ``partners.conf`` and reload the server after."""
    roster = _read_roster(directory)
    if name not in roster.get("partners", {}):
        raise ValueError(f"partner {name!r} has no NATS user")
    del roster["partners"][name]
    _write_secret(directory / PARTNER_ROSTER_NAME, json.dumps(roster, indent=2))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fursa.shared.natsauth",
        description="Generate the NATS authorization include file with $ENV password refs.",
    )
    parser.add_argument("path", type=Path, help="the file to write, e.g. deploy/nats/auth.conf")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the file differs from the generated one"
    )
    args = parser.parse_args(argv)
    path: Path = args.path
    passwords = env_passwords()
    expected = {
        path: render_file(passwords),
        path.parent / PARTNERS_CONFIG_NAME: render_partners_file(passwords[PARTNER_ADMIN], {}),
    }
    if args.check:
        stale = [p for p, text in expected.items() if not p.exists() or p.read_text() != text]
        for stale_path in stale:
            print(
                f"{stale_path} differs from what the topology generates: "
                f"run python -m fursa.shared.natsauth {path}",
                file=sys.stderr,
            )
        if stale:
            return 1
        print(f"{', '.join(map(str, expected))} are up to date")
        return 0
    for target, text in expected.items():
        target.write_text(text)
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
