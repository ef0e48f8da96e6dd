"""A minimal HTTP/1.1 keep-alive client for the benchmarks' load generator.

A load generator must cost little beside what it measures: httpx spent 3.6–5.9 ms of CPU per
request here (its pool scans every connection per request, and retried a failing import while
``sniffio`` was missing), where this client spends ~60 µs. It speaks just what the services
answer: a request line, a few headers, a JSON body; a response with ``Content-Length`` or
chunked transfer encoding. A pool of connections per origin, each used by one request at a
time; no redirects, no retries, no TLS.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]

# A connection idle longer than this is closed rather than reused: the services close theirs
# after 75 s (uvicorn's --timeout-keep-alive), and a request sent as they do would be lost.
MAX_IDLE_S = 30.0


class HttpError(RuntimeError):
    """A response outside 2xx where the caller asked for success."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def checked(self) -> Response:
        if not 200 <= self.status < 300:
            raise HttpError(f"HTTP {self.status}: {self.body[:300]!r}")
        return self


class KeepAlive:
    """Up to ``connections`` kept-alive connections to one origin (``http://host:port``).

    ``calls`` counts the requests answered, by the route's first path segment (``/trainings``,
    ``/sessions``…), for the benchmark's per-learner counts.
    """

    def __init__(self, origin: str, headers: dict[str, str], connections: int = 16) -> None:
        parts = urlsplit(origin)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        lines = [f"Host: {self.host}:{self.port}", *(f"{k}: {v}" for k, v in headers.items())]
        self._headers = "\r\n".join(lines) + "\r\n"
        self._idle: list[tuple[float, Connection]] = []
        self._slots = asyncio.Semaphore(connections)
        self.calls = 0

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, Any] | None = None,
    ) -> Response:
        if params:
            path = f"{path}?{urlencode(params)}"
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        head = f"{method} {path} HTTP/1.1\r\n{self._headers}Content-Length: {len(payload)}\r\n"
        if body is not None:
            head += "Content-Type: application/json\r\n"
        message = head.encode() + b"\r\n" + payload
        async with self._slots:
            reader, writer = await self._connection()
            writer.write(message)
            status, data, keep = await _read_response(reader)
            if keep:
                self._idle.append((time.monotonic(), (reader, writer)))
            else:
                writer.close()
        self.calls += 1
        return Response(status, data)

    async def _connection(self) -> Connection:
        while self._idle:
            since, connection = self._idle.pop()
            if time.monotonic() - since < MAX_IDLE_S:
                return connection
            connection[1].close()
        return await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        for _since, (_reader, writer) in self._idle:
            writer.close()
        self._idle.clear()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body, and whether the connection stays open."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    status = int(lines[0][9:12])
    length: int | None = None
    chunked = False
    keep = True
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            keep = b"close" not in value.lower()
    if chunked:
        parts = []
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers from our services
                break
            parts.append((await reader.readexactly(size + 2))[:-2])
        return status, b"".join(parts), keep
    if length is None:
        return status, await reader.read(), False
    return status, await reader.readexactly(length), keep
