"""A joined learner's guided path in the store, on SQLite and a real PostgreSQL: kept per class and learner, a later
commit replaces an earlier one, gone with the join code, bounded, hostile input refused."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from classroom import store as store_mod
from classroom.store import CODE_TTL_S, Done, Refused, new_learner_id, new_teacher_key


@pytest.fixture
def klass(store):
    """A presenter's class: (store, join code)."""
    return store, store.create_code(new_teacher_key(), "convolution", {})


def _rows(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(store_mod.progress_rows)).scalar_one()


def test_a_learners_commits_come_back_and_a_later_commit_replaces_an_earlier_one(klass, clock):
    store, code = klass
    me = new_learner_id()
    assert store.done(code, me) == {}
    store.record_done(code, me, "convolution.same_size", Done(False, "7", -2.0))
    clock.now += 1
    store.record_done(code.lower(), me, "convolution.halve", Done(True, "4"))
    clock.now += 1
    store.record_done(code, me, "convolution.same_size", Done(True, "7", 0.0))
    assert store.done(f" {code.lower()} ", me) == {"convolution.same_size": Done(True, "7", 0.0),
                                                    "convolution.halve": Done(True, "4", None)}
    assert _rows(store) == 2


def test_learners_and_classes_see_only_their_own(klass):
    store, code = klass
    other_class = store.create_code(new_teacher_key(), "gan", {})
    me, you = new_learner_id(), new_learner_id()
    store.record_done(code, me, "convolution.halve", Done(True, "4"))
    assert store.done(code, you) == {}
    assert store.done(other_class, me) == {}


def test_the_guided_path_expires_with_its_join_code(klass, clock):
    store, code = klass
    me = new_learner_id()
    store.record_done(code, me, "convolution.halve", Done(True, "4"))
    clock.now += CODE_TTL_S + 1
    assert store.done(code, me) == {}   # expired: nothing comes back, even before the purge
    with pytest.raises(Refused) as err:
        store.record_done(code, me, "convolution.dilated", Done(True, "5"))
    assert err.value.reason == "unknown_code"
    assert store.purge_expired() == 1
    assert _rows(store) == 0   # deleted with the code


def test_a_learner_keeps_a_bounded_number_of_exercises(klass, monkeypatch):
    store, code = klass
    monkeypatch.setattr(store_mod, "MAX_DONE", 3)
    me = new_learner_id()
    for n in range(3):
        store.record_done(code, me, f"convolution.e{n}", Done(True, "1"))
    store.record_done(code, me, "convolution.e0", Done(False, "1"))   # replacing one is no new row
    with pytest.raises(Refused) as err:
        store.record_done(code, me, "convolution.e3", Done(True, "1"))
    assert err.value.reason == "full"
    store.record_done(code, new_learner_id(), "convolution.e3", Done(True, "1"))   # another learner has room


def test_two_tabs_committing_at_once_keep_one_row(klass):
    store, code = klass
    me = new_learner_id()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: store.record_done(code, me, "convolution.halve", Done(k % 2 == 0, "4")), range(16)))
    assert list(store.done(code, me)) == ["convolution.halve"] and _rows(store) == 1


@pytest.mark.parametrize("code", ["", "ABC", "ZZZZZZ", None, 7, "ABCDEF'; DROP TABLE progress; --", "x" * 5000])
def test_unknown_or_malformed_codes_are_refused_and_read_as_nothing(klass, code):
    store, _ = klass
    with pytest.raises(Refused) as err:
        store.record_done(code, new_learner_id(), "convolution.halve", Done(True, "4"))
    assert err.value.reason == "unknown_code"
    assert store.done(code, new_learner_id()) == {}


@pytest.mark.parametrize("learner", ["", "short", "x" * 65, "has space!", None, 7, "a'; --aaaaaaaaaaaa"])
def test_hostile_learner_ids_are_refused_and_read_as_nothing(klass, learner):
    store, code = klass
    with pytest.raises(Refused) as err:
        store.record_done(code, learner, "convolution.halve", Done(True, "4"))
    assert err.value.reason == "bad_learner"
    assert store.done(code, learner) == {}


@pytest.mark.parametrize("exercise", ["", "Convolution.Halve", "x" * 65, "a b", None, 3, "gan.modes;--"])
def test_hostile_exercise_ids_are_refused(klass, exercise):
    store, code = klass
    with pytest.raises(Refused) as err:
        store.record_done(code, new_learner_id(), exercise, Done(True, "4"))
    assert err.value.reason == "bad_exercise"


@pytest.mark.parametrize("done", [Done("yes", "4"), Done(1, "4"), Done(True, ""), Done(True, "9" * 33),
                                  Done(True, 4), Done(False, "4", float("nan")), Done(False, "4", float("inf")),
                                  Done(False, "4", "2")])
def test_malformed_grades_are_refused(klass, done):
    store, code = klass
    with pytest.raises(Refused) as err:
        store.record_done(code, new_learner_id(), "convolution.halve", done)
    assert err.value.reason == "bad_answer"
    assert _rows(store) == 0
