"""The class store's schema is versioned (Alembic): applied on first use, idempotent, refusing the unknown."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from classroom import db
from classroom.store import Store, new_teacher_key


def test_an_empty_database_is_migrated_to_the_newest_revision(url):
    engine = db.make_engine(url)
    assert db.current_revision(engine) is None
    assert db.upgrade(engine) == db.head_revision() == db.current_revision(engine)
    assert "join_codes" in sa.inspect(engine).get_table_names()
    engine.dispose()


def test_upgrading_again_keeps_every_code(url):
    engine = db.make_engine(url)
    db.upgrade(engine)
    code = Store(engine).create_code(new_teacher_key(), "gan", {"gan.loss": "hinge"})
    assert db.upgrade(engine) == db.head_revision()
    assert Store(engine).resolve_code(code) is not None
    engine.dispose()


def test_processes_starting_together_migrate_once(url):
    engines = [db.make_engine(url) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        revisions = list(pool.map(db.upgrade, engines))
    assert revisions == [db.head_revision()] * 4
    for engine in engines:
        engine.dispose()


def test_a_database_from_a_newer_version_is_refused_with_a_clear_message(url):
    engine = db.make_engine(url)
    db.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(db.SchemaError, match="9999.*does not know"):
        db.upgrade(engine)
    engine.dispose()


def test_the_default_database_is_a_sqlite_file_in_the_data_directory(tmp_path):
    assert db.database_url({}).endswith("/.dl-lab/classroom.db") and db.database_url({}).startswith("sqlite:///")
    assert db.database_url({"DL_LAB_DATA_DIR": str(tmp_path)}) == f"sqlite:///{tmp_path / 'classroom.db'}"
    assert db.database_url({"DL_LAB_DATABASE_URL": " postgresql+psycopg://u@h/d "}) == "postgresql+psycopg://u@h/d"
    with pytest.raises(ValueError, match="Unsupported"):
        db.make_engine("mysql://u@h/d")


def test_the_default_file_follows_the_working_directory_though_resolved_once(tmp_path, monkeypatch):
    """database_url memoizes the resolved path (every poll tick asks for it), keyed on the folder it was asked from."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    first = db.database_url({"DL_LAB_DATA_DIR": "data"})
    assert first == f"sqlite:///{(tmp_path / 'a').resolve() / 'data' / 'classroom.db'}"
    assert db.database_url({"DL_LAB_DATA_DIR": "data"}) == first
    monkeypatch.chdir(tmp_path / "b")
    second = f"sqlite:///{(tmp_path / 'b').resolve() / 'data' / 'classroom.db'}"
    assert db.database_url({"DL_LAB_DATA_DIR": "data"}) == second


def test_sqlite_runs_in_wal_mode(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()
