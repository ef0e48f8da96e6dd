"""How messages leave notify. Every channel has the same small interface; the development
platform's SMS channel is a local sink file, and a real SMS gateway comes later."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from fursa.shared.contracts import Channel as ChannelKind
from fursa.shared.contracts import Language


@dataclass(frozen=True)
class Message:
    # Kept out of the repr: an address must never reach a log line or an error message.
    to: str = field(repr=False)
    language: Language
    text: str


class Channel(Protocol):
    """Something that delivers a message, or raises (the event is then retried)."""

    @property
    def kind(self) -> ChannelKind: ...

    async def send(self, message: Message) -> None: ...


class LocalSmsSink:
    """The SMS channel of the development platform: appends each message to `sms.jsonl`."""

    def __init__(self, sink_dir: Path) -> None:
        self.path = sink_dir / "sms.jsonl"

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind.SMS

    async def send(self, message: Message) -> None:
        line = json.dumps(
            {"phone": message.to, "language": message.language.value, "text": message.text},
            ensure_ascii=False,
        )
        await asyncio.to_thread(self._append, line)

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as sink:
            sink.write(line + "\n")
