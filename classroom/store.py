"""The class store: join codes today (class polls build on it), one code path for SQLite and PostgreSQL.

    store = connect()                        # DL_LAB_DATABASE_URL, or the default SQLite file
    key = new_teacher_key()                  # the presenter's secret; never in a student's link
    code = store.create_code(key, "gan", {"gan.loss": "minimax"})
    store.resolve_code(code.lower())         # JoinTarget(url_path="gan", query={"gan.loss": "minimax"})

Rules a class relies on:
- a code lives ``CODE_TTL_S`` (12 hours); expired codes resolve to nothing and are deleted;
- the same presenter projecting the same experiment again gets the same code (and its life renewed);
- an existing code is never overwritten: a new one is drawn until it is free;
- a presenter may create at most ``RATE_PER_MINUTE`` codes a minute, a deployment holds at most ``MAX_LIVE``;
- what a code stores is bounded (``MAX_QUERY_CHARS``); malformed codes are refused before any query.

Errors: ``Refused`` (a ``ValueError`` whose ``reason`` names what was wrong, for a translated message);
``StoreUnavailable`` when the database cannot be reached (the store then fails fast for ``RETRY_AFTER_S``).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from classroom import codes, db

CODE_TTL_S = 12 * 3600
RATE_PER_MINUTE = 30        # codes one presenter may create per minute
MAX_LIVE = 5000             # live codes per deployment
MAX_QUERY_CHARS = 4000      # a code's stored experiment, as JSON
MAX_PARAMS = 64
RETRY_AFTER_S = 5.0         # after a failed connection, fail fast this long before trying again
_PATH = re.compile(r"[a-z0-9_]{0,40}")
_KEY = re.compile(r"[A-Za-z0-9_-]{16,128}")

metadata = sa.MetaData()
join_codes = sa.Table(   # as created by migrations/versions/0001_join_codes.py
    "join_codes", metadata,
    sa.Column("code", sa.String(6), primary_key=True),
    sa.Column("url_path", sa.String(64), nullable=False),
    sa.Column("query", sa.Text, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("teacher", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)


class Refused(ValueError):
    """A request the store will not carry out; ``reason`` is one of the REASONS (an i18n key's last part)."""
    REASONS = ("bad_path", "bad_query", "too_large", "bad_key", "rate_limited", "full")

    def __init__(self, reason: str, detail: str = "") -> None:
        assert reason in self.REASONS, reason
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class StoreUnavailable(RuntimeError):
    """The database cannot be reached (or refuses); class features are off until it returns."""


@dataclass(frozen=True)
class JoinTarget:
    url_path: str              # the lesson's url path ("" is the course map)
    query: dict[str, str]      # its settings, as query parameters


def new_teacher_key() -> str:
    """A presenter's secret (192 bits). Only its hash is stored; students never see it."""
    return secrets.token_urlsafe(24)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _experiment(url_path: object, query: object) -> tuple[str, str]:
    """Validate a lesson path and its settings; return (url_path, canonical JSON of the settings)."""
    if not isinstance(url_path, str) or not _PATH.fullmatch(url_path):
        raise Refused("bad_path", repr(url_path)[:60])
    if not isinstance(query, Mapping) or len(query) > MAX_PARAMS:
        raise Refused("bad_query", f"{type(query).__name__} with {len(query) if isinstance(query, Mapping) else '?'} items")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in query.items()):
        raise Refused("bad_query", "keys and values must be text")
    text = json.dumps(dict(sorted(query.items())), ensure_ascii=False, separators=(",", ":"))
    if len(text) > MAX_QUERY_CHARS:
        raise Refused("too_large", f"{len(text)} characters (at most {MAX_QUERY_CHARS})")
    return url_path, text


class Store:
    """Join codes in one database; safe to share between threads (SQLAlchemy's pool) and processes."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock
        self._down_until = 0.0

    # -- connections -------------------------------------------------------------------------------------
    @contextmanager
    def _connection(self, *, write: bool) -> Iterator[Connection]:
        """A transaction; connection failures become ``StoreUnavailable`` and open a short fail-fast window."""
        if time.monotonic() < self._down_until:
            raise StoreUnavailable("the class store was unreachable a moment ago")
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(write=write)
                with conn.begin():
                    yield conn
        except IntegrityError:
            raise
        except (DBAPIError, SQLAlchemyError) as err:
            if isinstance(err, DBAPIError) and not err.connection_invalidated and _is_data_error(err):
                raise
            self._down_until = time.monotonic() + RETRY_AFTER_S
            raise StoreUnavailable(str(err).splitlines()[0][:200]) from err
        self._down_until = 0.0

    def ping(self) -> bool:
        """Whether the database answers now."""
        try:
            with self._connection(write=False) as conn:
                conn.execute(sa.select(1))
        except StoreUnavailable:
            return False
        return True

    # -- join codes --------------------------------------------------------------------------------------
    def create_code(self, teacher_key: str, url_path: str, query: Mapping[str, str]) -> str:
        """The join code for this presenter's experiment: the existing one (renewed), else a fresh one."""
        if not isinstance(teacher_key, str) or not _KEY.fullmatch(teacher_key):
            raise Refused("bad_key")
        url_path, text = _experiment(url_path, query)
        teacher, fingerprint = _digest(teacher_key), _digest(f"{url_path}?{text}")
        for _ in range(16):   # a clash on a random code, or with the same request from another thread
            try:
                return self._create(teacher, fingerprint, url_path, text)
            except IntegrityError:
                continue
        raise Refused("full", "no free code found")

    def _create(self, teacher: str, fingerprint: str, url_path: str, text: str) -> str:
        now = self.clock()
        with self._connection(write=True) as conn:
            mine = sa.and_(join_codes.c.teacher == teacher, join_codes.c.fingerprint == fingerprint)
            row = conn.execute(sa.select(join_codes.c.code, join_codes.c.expires_at).where(mine)).first()
            if row is not None and row.expires_at > now:
                conn.execute(join_codes.update().where(mine).values(expires_at=now + CODE_TTL_S))
                return row.code
            conn.execute(join_codes.delete().where(join_codes.c.expires_at <= now))
            recent = conn.execute(sa.select(sa.func.count()).select_from(join_codes).where(
                join_codes.c.teacher == teacher, join_codes.c.created_at > now - 60)).scalar_one()
            if recent >= RATE_PER_MINUTE:
                raise Refused("rate_limited", f"{recent} codes in the last minute")
            live = conn.execute(sa.select(sa.func.count()).select_from(join_codes)).scalar_one()
            if live >= MAX_LIVE:
                raise Refused("full", f"{live} live codes")
            code = codes.new_code()
            conn.execute(join_codes.insert().values(
                code=code, url_path=url_path, query=text, fingerprint=fingerprint, teacher=teacher,
                created_at=now, expires_at=now + CODE_TTL_S))
            return code

    def resolve_code(self, raw: object) -> JoinTarget | None:
        """Where a typed code leads, or None (malformed, unknown or expired). Malformed codes cost no query."""
        code = codes.normalize(raw)
        if code is None:
            return None
        with self._connection(write=False) as conn:
            row = conn.execute(sa.select(join_codes.c.url_path, join_codes.c.query).where(
                join_codes.c.code == code, join_codes.c.expires_at > self.clock())).first()
        return None if row is None else JoinTarget(row.url_path, json.loads(row.query))

    def purge_expired(self) -> int:
        """Delete expired codes; returns how many."""
        with self._connection(write=True) as conn:
            return conn.execute(join_codes.delete().where(join_codes.c.expires_at <= self.clock())).rowcount


def _is_data_error(err: DBAPIError) -> bool:
    """A statement the database refused for its content (not for being unreachable)."""
    name = type(err.orig).__name__ if err.orig is not None else ""
    return name in ("DataError", "ProgrammingError", "NotSupportedError")


_stores: dict[str, Store] = {}
_failed: dict[str, float] = {}
_lock = threading.Lock()


def connect(url: str | None = None) -> Store:
    """The process's store for ``url`` (None: ``DL_LAB_DATABASE_URL`` or the default SQLite file).

    The first call migrates the schema to the newest revision (``db.SchemaError`` if the database's is
    newer than this code knows). Unreachable: ``StoreUnavailable``, retried at most every ``RETRY_AFTER_S``.
    Held in this module, not in a Streamlit cache, so no client can clear it.
    """
    url = url or db.database_url()
    store = _stores.get(url)
    if store is not None:
        return store
    with _lock:
        store = _stores.get(url)
        if store is not None:
            return store
        if time.monotonic() < _failed.get(url, 0.0):
            raise StoreUnavailable("the class store was unreachable a moment ago")
        engine = db.make_engine(url)
        try:
            db.upgrade(engine)
        except (DBAPIError, SQLAlchemyError, OSError) as err:
            engine.dispose()
            _failed[url] = time.monotonic() + RETRY_AFTER_S
            raise StoreUnavailable(str(err).splitlines()[0][:200]) from err
        _stores[url] = store = Store(engine)
        return store
