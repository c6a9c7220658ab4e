"""The class store's database: which one, how to reach it, and its versioned schema.

``DL_LAB_DATABASE_URL`` unset: a SQLite file ``classroom.db`` in ``DL_LAB_DATA_DIR`` (default ``./.dl-lab``),
created on first use, in WAL mode so several processes on one host share it. Set to
``postgresql+psycopg://user:password@host:5432/dbname`` (psycopg 3) for several hosts or Kubernetes.

Every wait is short (connecting, a lock, a statement: about 2 s), so a database that is down costs a page
run at most that long; the store then fails fast for a few seconds before it tries again.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url

URL_ENV, DATA_DIR_ENV = "DL_LAB_DATABASE_URL", "DL_LAB_DATA_DIR"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
TIMEOUT_S = 2          # connect, wait for a lock, or run one statement
_PG_LOCK_ID = 0x646C6C62   # pg_advisory_lock key serialising migrations across processes


class SchemaError(RuntimeError):
    """The database's schema is one this code cannot use (newer than it knows, or a foreign table)."""


def database_url(env: Mapping[str, str] | None = None) -> str:
    """The URL the class store uses: ``DL_LAB_DATABASE_URL``, else the default SQLite file."""
    env = os.environ if env is None else env
    url = env.get(URL_ENV, "").strip()
    if url:
        return url
    return _sqlite_file(env.get(DATA_DIR_ENV, "").strip() or ".dl-lab", os.getcwd())


@functools.lru_cache(maxsize=64)
def _sqlite_file(data_dir: str, cwd: str) -> str:
    """The default SQLite file's URL for a data folder seen from ``cwd``: resolved once (every waiting student's
    poll tick asks for the store, and ``Path.resolve`` costs a filesystem call per path component)."""
    return f"sqlite:///{(Path(cwd) / data_dir).resolve() / 'classroom.db'}"


def make_engine(url: str) -> Engine:
    """An engine with short timeouts and a small pool; SQLite in WAL mode with explicit transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": TIMEOUT_S, "check_same_thread": False})
        _sqlite_transactions(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(
            url, pool_size=5, max_overflow=10, pool_timeout=TIMEOUT_S, pool_pre_ping=True, pool_recycle=1800,
            connect_args={"connect_timeout": TIMEOUT_S,
                          "options": f"-c statement_timeout={TIMEOUT_S * 1000} -c lock_timeout={TIMEOUT_S * 1000}"})
    raise ValueError(f"Unsupported class store database: {parsed.get_backend_name()} (use sqlite or postgresql)")


def _sqlite_transactions(engine: Engine) -> None:
    """WAL, a busy timeout, and BEGIN IMMEDIATE for writes (SQLAlchemy's documented pysqlite recipe).

    pysqlite would start a write as a read transaction and upgrade it, which SQLite refuses at once
    ("database is locked") when another process wrote meanwhile; taking the write lock at BEGIN makes
    concurrent writers queue behind the busy timeout instead.
    """
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None   # the driver stops issuing BEGIN itself
        cur = dbapi_connection.cursor()
        cur.execute(f"PRAGMA busy_timeout={TIMEOUT_S * 1000}")   # first: switching to WAL waits for it too
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")   # a poll and its votes go with their join code
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")


@contextlib.contextmanager
def _migration_lock(conn: Connection) -> Iterator[None]:
    """Only one process migrates at a time: an advisory lock on PostgreSQL, a lock file beside a SQLite file."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({_PG_LOCK_ID})")
        try:
            yield
        finally:
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_PG_LOCK_ID})")
        return
    database = conn.engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _alembic_config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    """The newest schema revision this code knows."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None: empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, target: str = "head") -> str:
    """Apply pending migrations (a no-op when current); refuse a schema this code does not know.

    Returns the revision the database is at afterwards.
    """
    from alembic.script import ScriptDirectory

    cfg = _alembic_config()
    known = {rev.revision for rev in ScriptDirectory.from_config(cfg).walk_revisions()}
    for attempt in range(5):   # SQLite: processes starting together may find the new file locked for a moment
        try:
            return _upgrade(engine, cfg, known, target)
        except sa.exc.OperationalError as err:
            if engine.dialect.name != "sqlite" or "locked" not in str(err) or attempt == 4:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def _upgrade(engine: Engine, cfg, known: set[str], target: str) -> str:
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        with _migration_lock(conn):
            current = MigrationContext.configure(conn).get_current_revision()
            if current is not None and current not in known:
                raise SchemaError(
                    f"The class store at {engine.url.render_as_string(hide_password=True)} has schema revision "
                    f"{current!r}, which this version of DL Lab does not know (newest known: {head_revision()!r}). "
                    "Upgrade DL Lab, or point DL_LAB_DATABASE_URL at another database.")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, target)
            conn.commit()
            return MigrationContext.configure(conn).get_current_revision()
