"""Join codes in the class store, on SQLite and on a real PostgreSQL: shared, bounded, expiring, never overwritten."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from classroom import codes, db
from classroom import store as store_mod
from classroom.store import CODE_TTL_S, RATE_PER_MINUTE, JoinTarget, Refused, Store, StoreUnavailable, new_teacher_key

GAN = {"gan.loss": "minimax", "gan.lr_d": "0.003"}
HOSTILE = ["", "      ", "ABC", "ABCDEFG", "A" * 10_000, "ABCD0O", "ABCD1I", "'; DROP TABLE join_codes; --",
           "AB CD E", "ＡＢＣＤＥＦ", "ABCDE\u0000", "ÄBCDEF", "\u202eABCDE", None, 123456, ["ABCDEF"], b"ABCDEF"]


def test_codes_avoid_lookalike_characters_and_ignore_case():
    assert not set("0O1I") & set(codes.ALPHABET) and len(set(codes.ALPHABET)) == 32
    drawn = {codes.new_code() for _ in range(2000)}
    assert len(drawn) > 1990 and all(codes.normalize(c) == c for c in drawn)
    assert codes.normalize("  abc23z ") == "ABC23Z"
    assert all(codes.normalize(raw) is None for raw in HOSTILE)


def test_the_same_experiment_twice_gets_the_same_code(store):
    key = new_teacher_key()
    code = store.create_code(key, "gan", GAN)
    assert store.create_code(key, "gan", dict(reversed(list(GAN.items())))) == code   # order does not matter
    assert store.create_code(key, "gan", {**GAN, "gan.lr_d": "0.01"}) != code
    assert store.create_code(key, "attention", GAN) != code
    assert store.create_code(new_teacher_key(), "gan", GAN) != code   # another presenter's class
    assert store.resolve_code(f" {code.lower()} ") == JoinTarget("gan", GAN)


def test_two_engines_on_one_database_see_each_others_codes(url, clock):
    engines = [db.make_engine(url) for _ in range(2)]
    for engine in engines:
        db.upgrade(engine)   # the second finds the schema current
    a, b = (Store(engine, clock=clock) for engine in engines)
    code = a.create_code(new_teacher_key(), "convolution", {"convolution.size": "7"})
    assert b.resolve_code(code) == JoinTarget("convolution", {"convolution.size": "7"})
    for engine in engines:
        engine.dispose()


def test_a_code_survives_a_restart_of_every_process(url):
    first = store_mod.Store(db.make_engine(url))
    db.upgrade(first.engine)
    code = first.create_code(new_teacher_key(), "gan", GAN)
    first.engine.dispose()
    store_mod._stores.pop(url, None)
    assert store_mod.connect(url).resolve_code(code) == JoinTarget("gan", GAN)
    store_mod._stores.pop(url).engine.dispose()


def test_sixty_presenters_at_once_lose_nothing_and_never_share_a_code(store):
    keys = [new_teacher_key() for _ in range(60)]

    def create(i: int) -> str:
        return store.create_code(keys[i], "gan", {"gan.lr_d": str(i)})

    with ThreadPoolExecutor(60) as pool:
        made = list(pool.map(create, range(60)))
    assert len(set(made)) == 60
    for i, code in enumerate(made):
        assert store.resolve_code(code) == JoinTarget("gan", {"gan.lr_d": str(i)})


def test_one_presenter_creating_one_experiment_from_sixty_threads_gets_one_code(store):
    key = new_teacher_key()
    start = threading.Barrier(60)

    def create(_: int) -> str:
        start.wait()
        return store.create_code(key, "gan", GAN)

    with ThreadPoolExecutor(60) as pool:
        made = set(pool.map(create, range(60)))
    assert len(made) == 1
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store_mod.join_codes)).scalar_one() == 1


def test_expired_codes_resolve_to_nothing_and_are_deleted(store, clock):
    key = new_teacher_key()
    code = store.create_code(key, "gan", GAN)
    clock.now += CODE_TTL_S - 1
    assert store.resolve_code(code) is not None
    clock.now += 2
    assert store.resolve_code(code) is None
    assert store.purge_expired() == 1
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store_mod.join_codes)).scalar_one() == 0
    fresh = store.create_code(key, "gan", GAN)   # projecting it again makes a new, live code
    assert store.resolve_code(fresh) == JoinTarget("gan", GAN)


def test_projecting_again_renews_a_code(store, clock):
    key = new_teacher_key()
    code = store.create_code(key, "gan", GAN)
    clock.now += CODE_TTL_S - 10
    assert store.create_code(key, "gan", GAN) == code
    clock.now += CODE_TTL_S - 10
    assert store.resolve_code(code) == JoinTarget("gan", GAN)


def test_an_existing_code_is_never_overwritten(store, monkeypatch):
    teacher = store.create_code(new_teacher_key(), "gan", GAN)
    drawn = iter([teacher, teacher, "ZZZZZZ"])   # the attacker's draws collide with the teacher's code first
    monkeypatch.setattr(codes, "new_code", lambda: next(drawn))
    assert store.create_code(new_teacher_key(), "adversarial", {"adversarial.eps": "0.3"}) == "ZZZZZZ"
    assert store.resolve_code(teacher) == JoinTarget("gan", GAN)


def test_a_presenter_is_rate_limited(store, clock):
    key = new_teacher_key()
    for i in range(RATE_PER_MINUTE):
        store.create_code(key, "gan", {"gan.lr_d": str(i)})
    with pytest.raises(Refused) as err:
        store.create_code(key, "gan", {"gan.lr_d": "new"})
    assert err.value.reason == "rate_limited"
    assert store.create_code(key, "gan", {"gan.lr_d": "0"})   # an existing one is still handed back
    clock.now += 61
    assert store.create_code(key, "gan", {"gan.lr_d": "new"})


def test_a_deployment_holds_a_bounded_number_of_codes(store, monkeypatch, clock):
    monkeypatch.setattr(store_mod, "MAX_LIVE", 3)
    for i in range(3):
        store.create_code(new_teacher_key(), "gan", {"gan.lr_d": str(i)})
    with pytest.raises(Refused) as err:
        store.create_code(new_teacher_key(), "gan", GAN)
    assert err.value.reason == "full"
    clock.now += CODE_TTL_S + 1   # expired codes make room
    assert store.create_code(new_teacher_key(), "gan", GAN)


@pytest.mark.parametrize(("path", "query", "reason"), [
    ("gan", {"gan.points": "x" * 5000}, "too_large"),
    ("gan", {f"k{i}": "v" for i in range(65)}, "bad_query"),
    ("gan", {"gan.lr_d": 0.1}, "bad_query"),
    ("gan", "gan.lr_d=0.1", "bad_query"),
    ("../etc/passwd", {}, "bad_path"),
    ("GAN'; --", {}, "bad_path"),
    (None, {}, "bad_path"),
])
def test_what_a_code_stores_is_validated_and_bounded(store, path, query, reason):
    with pytest.raises(Refused) as err:
        store.create_code(new_teacher_key(), path, query)
    assert err.value.reason == reason and isinstance(err.value, ValueError)


@pytest.mark.parametrize("key", ["", "short", "x" * 500, "bad key with spaces!!", None])
def test_only_a_well_formed_teacher_key_creates_codes(store, key):
    with pytest.raises(Refused) as err:
        store.create_code(key, "gan", GAN)
    assert err.value.reason == "bad_key"


def test_hostile_codes_are_refused_without_touching_the_database(store):
    statements = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    assert all(store.resolve_code(raw) is None for raw in HOSTILE)
    assert statements == []
    assert store.resolve_code("ZZZZZZ") is None and len(statements) >= 1   # a well-formed unknown code is looked up
    with store.engine.connect() as conn:   # and the table is still there
        conn.execute(sa.select(sa.func.count()).select_from(store_mod.join_codes)).scalar_one()


def test_only_the_hash_of_a_teacher_key_is_stored(store):
    key = new_teacher_key()
    store.create_code(key, "gan", GAN)
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(store_mod.join_codes)).one()
    assert key not in str(tuple(row))


def test_an_unreachable_database_fails_within_seconds_then_fast():
    url = "postgresql+psycopg://nobody@127.0.0.1:9/nowhere"   # port 9 (discard): nothing listens
    start = time.perf_counter()
    with pytest.raises(StoreUnavailable):
        store_mod.connect(url)
    assert time.perf_counter() - start < db.TIMEOUT_S + 2
    start = time.perf_counter()
    with pytest.raises(StoreUnavailable):
        store_mod.connect(url)
    assert time.perf_counter() - start < 0.5   # fail fast while the database is known to be down
    s = Store(db.make_engine(url))
    assert s.ping() is False
    with pytest.raises(StoreUnavailable):
        s.resolve_code("ABCDEF")


def test_the_store_recovers_when_the_database_returns(tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod, "RETRY_AFTER_S", 0.0)
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the database's folder should be")
    url = f"sqlite:///{blocked / 'classroom.db'}"
    with pytest.raises((StoreUnavailable, OSError)):
        store_mod.connect(url)
    blocked.unlink()
    store = store_mod.connect(url)
    assert store.resolve_code(store.create_code(new_teacher_key(), "gan", GAN)) == JoinTarget("gan", GAN)
    store_mod._stores.pop(url).engine.dispose()
