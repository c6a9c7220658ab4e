"""Class polls in the store, on SQLite and a real PostgreSQL: who may do what, one vote per learner, hostile input."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from classroom import store as store_mod
from classroom.store import CODE_TTL_S, Poll, Refused, new_learner_id, new_teacher_key

OPTIONS = ("nesterov", "momentum", "adam", "sgd")


@pytest.fixture
def klass(store):
    """A presenter's class: (store, teacher key, join code)."""
    key = new_teacher_key()
    return store, key, store.create_code(key, "optimizer_race", {"optimizer_race.surface": "ravine"})


def test_a_poll_goes_from_question_to_votes_to_reveal(klass, clock):
    store, key, code = klass
    assert store.current_poll(code) is None
    pid = store.open_poll(code, "optimizer_race.first", key, options=OPTIONS)
    assert store.current_poll(code.lower()) == Poll(pid, "optimizer_race.first", OPTIONS, "open", None)
    learners = [new_learner_id() for _ in range(5)]
    for who, answer in zip(learners, ["nesterov", "adam", "nesterov", "sgd", "nesterov"]):
        store.vote(pid, who, answer, nickname="ana" if answer == "adam" else None)
    assert store.tally(pid) == {"nesterov": 3, "adam": 1, "sgd": 1}
    assert store.current_poll(code).answer is None   # the answer stays hidden while voting is open
    store.reveal(pid, key, "nesterov")
    assert store.current_poll(code) == Poll(pid, "optimizer_race.first", OPTIONS, "revealed", "nesterov")
    with pytest.raises(Refused) as err:
        store.vote(pid, learners[0], "adam")
    assert err.value.reason == "not_open"
    [result] = store.results(code, key)
    assert result.counts == {"nesterov": 3, "adam": 1, "sgd": 1} and result.share_correct == pytest.approx(0.6)
    store.close(pid, key)
    assert store.current_poll(code) is None and store.results(code, key)[0].state == "closed"


def test_re_voting_replaces_a_learners_vote(klass, clock):
    store, key, code = klass
    pid = store.open_poll(code, "optimizer_race.first", key, options=OPTIONS)
    who = new_learner_id()
    store.vote(pid, who, "adam")
    clock.now += 1
    store.vote(pid, who, "nesterov")
    assert store.tally(pid) == {"nesterov": 1}
    with pytest.raises(Refused) as err:   # faster than a person changes their mind: rate-limited
        store.vote(pid, who, "sgd")
    assert err.value.reason == "rate_limited"


def test_sixty_concurrent_voters_voting_several_times_give_sixty_votes_each_their_last(klass, clock):
    store, key, code = klass
    pid = store.open_poll(code, "receptive_field.last_layer", key)   # a number
    learners = [new_learner_id() for _ in range(60)]
    with ThreadPoolExecutor(60) as pool:
        for round_ in range(3):   # three rounds of sixty votes at once, a few seconds apart
            start = threading.Barrier(60)

            def vote(i: int, r: int = round_, start: threading.Barrier = start) -> str:
                start.wait()
                return store.vote(pid, learners[i], str(10 * r + i % 7))

            assert len(list(pool.map(vote, range(60)))) == 60
            clock.now += 5
    counts = store.tally(pid)
    assert sum(counts.values()) == 60
    assert counts == {str(20 + k): sum(1 for i in range(60) if i % 7 == k) for k in range(7)}


def test_only_the_presenters_key_can_open_reveal_close_or_read_results(klass):
    store, key, code = klass
    student = new_teacher_key()   # a well-formed key that is not the presenter's
    with pytest.raises(PermissionError):
        store.open_poll(code, "gan.modes", student, options=("1", "2", "8"))
    pid = store.open_poll(code, "gan.modes", key, options=("1", "2", "8"))
    for act in (lambda k: store.reveal(pid, k, "2"), lambda k: store.close(pid, k), lambda k: store.results(code, k)):
        for wrong in (student, "", None, key + "x", key.upper()):
            with pytest.raises(PermissionError):
                act(wrong)
    other_key = new_teacher_key()   # another class's presenter cannot touch this class's poll either
    store.create_code(other_key, "gan", {})
    with pytest.raises(PermissionError):
        store.reveal(pid, other_key)
    assert store.current_poll(code).state == "open"


@pytest.mark.parametrize("answer", ["9", "", None, 3, ["1"], "'; DELETE FROM votes; --", "1" * 5000, "８"])
def test_answers_outside_the_options_are_refused(klass, answer):
    store, key, code = klass
    pid = store.open_poll(code, "gan.modes", key, options=("1", "2", "8"))
    with pytest.raises(ValueError):
        store.vote(pid, new_learner_id(), answer)
    assert store.tally(pid) == {}


@pytest.mark.parametrize("answer", ["many", "nan", "inf", "-inf", "1e400", "1e13", True, None, [1], "0x10", ""])
def test_non_numbers_are_refused_for_a_number_question(klass, answer):
    store, key, code = klass
    pid = store.open_poll(code, "receptive_field.last_layer", key)
    with pytest.raises(ValueError):
        store.vote(pid, new_learner_id(), answer)


def test_numbers_are_stored_in_one_form(klass):
    store, key, code = klass
    pid = store.open_poll(code, "receptive_field.last_layer", key)
    assert [store.vote(pid, new_learner_id(), a) for a in ("30", " 30.0 ", 30, "3e1", "2,5")] == \
        ["30", "30", "30", "30", "2.5"]
    assert store.tally(pid) == {"30": 4, "2.5": 1}


@pytest.mark.parametrize("nickname", ["x" * 25, "a\u0000b", "line\nbreak", 42, ["ana"], "\u202eevil"])
def test_hostile_nicknames_are_refused(klass, nickname):
    store, key, code = klass
    pid = store.open_poll(code, "gan.modes", key, options=("1", "2"))
    with pytest.raises(ValueError):
        store.vote(pid, new_learner_id(), "1", nickname=nickname)


@pytest.mark.parametrize("learner", ["", "short", "x" * 65, "has space!", None, 7])
def test_malformed_learner_ids_are_refused(klass, learner):
    store, key, code = klass
    pid = store.open_poll(code, "gan.modes", key, options=("1", "2"))
    with pytest.raises(ValueError):
        store.vote(pid, learner, "1")


@pytest.mark.parametrize("poll_id", [10**9, -1, "1", None, True, 1.0])
def test_unknown_polls_are_refused(klass, poll_id):
    store, _, _ = klass
    with pytest.raises(ValueError):
        store.vote(poll_id, new_learner_id(), "1")
    with pytest.raises(ValueError):
        store.tally(poll_id)


def test_a_new_question_closes_the_previous_one(klass):
    store, key, code = klass
    first = store.open_poll(code, "gan.modes", key, options=("1", "2"))
    second = store.open_poll(code, "gan.collapse", key, options=("yes", "no"))
    assert store.current_poll(code).id == second
    with pytest.raises(Refused):
        store.vote(first, new_learner_id(), "1")


def test_polls_and_votes_expire_with_their_join_code(klass, clock):
    store, key, code = klass
    pid = store.open_poll(code, "gan.modes", key, options=("1", "2"))
    store.vote(pid, new_learner_id(), "2")
    clock.now += CODE_TTL_S + 1
    assert store.purge_expired() == 1
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store_mod.polls)).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(store_mod.votes)).scalar_one() == 0


def test_a_poll_holds_a_bounded_number_of_voters(klass, monkeypatch):
    store, key, code = klass
    monkeypatch.setattr(store_mod, "MAX_VOTERS", 3)
    pid = store.open_poll(code, "gan.modes", key, options=("1", "2"))
    for _ in range(3):
        store.vote(pid, new_learner_id(), "1")
    with pytest.raises(Refused):
        store.vote(pid, new_learner_id(), "1")
