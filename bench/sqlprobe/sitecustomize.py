"""The benchmark's SQL counter, loaded into the platform's processes without touching them.

Python imports a module named ``sitecustomize`` at start-up from its path; ``bench/pipeline.py``
puts this directory on ``PYTHONPATH`` and sets ``FURSA_BENCH_SQL_PROBE=1`` for the processes it
starts (the services' launcher imports it before the services, and the forked services inherit
its listeners). It listens on SQLAlchemy's ``Engine`` class — every engine of the process — and
counts, as Prometheus counters that the services' own ``/metrics`` already serves:

* ``fursa_bench_sql_statements_total{kind}``: ``read`` (SELECT, WITH), ``write`` (INSERT,
  UPDATE, DELETE, REPLACE) and ``other`` (BEGIN, SAVEPOINT, RELEASE, PRAGMA…);
* ``fursa_bench_sql_rows_written_total``: the rows the writes changed (the cursor's rowcount;
  for an executemany whose driver reports none, asyncpg's, one row per parameter set);
* ``fursa_bench_sql_transactions_total{end, wrote}``: transactions ended by ``commit`` or
  ``rollback``, and whether they wrote;
* ``fursa_bench_sql_reads_in_writes_total``: reads inside transactions that wrote.

Its own cost is three Python calls per statement and one per transaction end (a few µs), inside
the services' CPU it measures; the benchmark says so.
"""

from __future__ import annotations

import os
from typing import Any

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_READS = ("SELECT", "WITH")


def _install() -> None:
    from prometheus_client import Counter
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    statements = Counter("fursa_bench_sql_statements", "SQL statements executed", ["kind"])
    rows = Counter("fursa_bench_sql_rows_written", "Rows changed by INSERT, UPDATE, DELETE")
    transactions = Counter("fursa_bench_sql_transactions", "Transactions ended", ["end", "wrote"])
    reads_in_writes = Counter(
        "fursa_bench_sql_reads_in_writes", "Reads inside transactions that wrote"
    )
    counted = {kind: statements.labels(kind) for kind in ("read", "write", "other")}
    ends = {
        (end, wrote): transactions.labels(end, "yes" if wrote else "no")
        for end in ("commit", "rollback")
        for wrote in (True, False)
    }

    def kind_of(statement: str) -> str:
        word = statement.lstrip()[:7].upper()
        if word.startswith(_READS):
            return "read"
        if word.startswith(_WRITES):
            return "write"
        return "other"

    @event.listens_for(Engine, "after_cursor_execute")
    def after(conn: Any, cursor: Any, statement: str, params: Any, _c: Any, many: bool) -> None:
        kind = kind_of(statement)
        counted[kind].inc()
        info = conn.info
        if kind == "write":
            info["bench_wrote"] = True
            if cursor.rowcount and cursor.rowcount > 0:
                rows.inc(cursor.rowcount)
            elif many:  # asyncpg reports no rowcount for executemany: one row per parameter set
                rows.inc(len(params))
        elif kind == "read":
            info["bench_reads"] = info.get("bench_reads", 0) + 1

    def ended(end: str) -> Any:
        def on_end(conn: Any) -> None:
            info = conn.info
            wrote = info.pop("bench_wrote", False)
            reads = info.pop("bench_reads", 0)
            ends[end, wrote].inc()
            if wrote and reads:
                reads_in_writes.inc(reads)

        return on_end

    event.listen(Engine, "commit", ended("commit"))
    event.listen(Engine, "rollback", ended("rollback"))


if os.environ.get("FURSA_BENCH_SQL_PROBE") == "1":
    _install()
