"""The class store under test: a fresh SQLite file, and a real PostgreSQL server when one is configured.

``.ci/run`` starts a throwaway PostgreSQL cluster (scripts/pg_cluster.sh) and exports its URL as
``DL_LAB_TEST_DATABASE_URL``. Locally the PostgreSQL cases skip without it; in CI (``CI=true``) they fail.
The suite runs in parallel (pytest-xdist): each worker gets its own database on that server, so one worker's
reset never drops another's tables mid-test.
"""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from classroom import db
from classroom.store import Store

PG_ENV = "DL_LAB_TEST_DATABASE_URL"


def postgres_url() -> str:
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{PG_ENV} is not set in CI: .ci/run must start PostgreSQL (scripts/pg_cluster.sh)")
        pytest.skip(f"no PostgreSQL configured ({PG_ENV})")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return _worker_database(url, worker) if worker else url


_made: dict[str, str] = {}


def _worker_database(url: str, worker: str) -> str:
    """The URL of this xdist worker's own database (``<name>_gw0`` ...), created on first use."""
    if worker not in _made:
        if not worker.isalnum():
            raise ValueError(f"unexpected xdist worker id {worker!r}")
        base = sa.make_url(url)
        name = f"{base.database}_{worker}"
        engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            if conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
        _made[worker] = base.set(database=name).render_as_string(hide_password=False)
    return _made[worker]


def reset_postgres(url: str) -> None:
    """Drop every table of the test database, so each test starts from an empty schema."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    """A database URL with nothing in it yet."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'classroom.db'}"
    pg = postgres_url()
    reset_postgres(pg)
    return pg


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(url, clock):
    engine = db.make_engine(url)
    db.upgrade(engine)
    yield Store(engine, clock=clock)
    engine.dispose()
