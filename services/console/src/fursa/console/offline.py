"""The service worker that keeps the console's files and class pages on an educator's phone.

Its cache is named after the console's static files as this release ships them: a release that
changes any of them changes the worker's own bytes, so browsers install the new worker, which
fills a new cache and deletes the old ones. With a fixed name, phones that had the console once
would go on serving the old scripts and styles from their cache after every release.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

STATIC = Path(__file__).parent / "static"
RELEASE_MARK = "__STATIC_FILES_DIGEST__"


def static_digest(static: Path) -> str:
    """A short digest of every file under ``static`` (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in static.rglob("*") if p.is_file()):
        digest.update(path.relative_to(static).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def service_worker_source(static: Path) -> str:
    """``static/sw.js`` with its cache named after the static files it keeps."""
    source = (static / "sw.js").read_text(encoding="utf-8")
    return source.replace(RELEASE_MARK, static_digest(static))


@cache
def service_worker() -> str:
    """The console's service worker (read once: the static files do not change while it runs)."""
    return service_worker_source(STATIC)
