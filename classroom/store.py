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
import math
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
_EXERCISE = re.compile(r"[a-z0-9_.]{1,64}")
_LEARNER = re.compile(r"[A-Za-z0-9_-]{8,64}")
MAX_OPTIONS, MAX_ANSWER_CHARS, MAX_NICKNAME = 12, 32, 24
MAX_NUMBER = 1e12
VOTE_INTERVAL_S = 0.5       # one learner's votes on one poll: at most two a second
MAX_VOTERS = 500            # learners per poll
MAX_DONE = 400              # exercises remembered per learner and class (every lesson's, with room to spare)
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
polls = sa.Table(   # migrations/versions/0002_polls.py
    "polls", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(6), sa.ForeignKey("join_codes.code", ondelete="CASCADE"), nullable=False),
    sa.Column("exercise_id", sa.String(64), nullable=False),
    sa.Column("options", sa.Text, nullable=True),
    sa.Column("state", sa.String(8), nullable=False),
    sa.Column("answer", sa.String(32), nullable=True),
    sa.Column("opened_at", sa.Float, nullable=False),
    sa.Column("revealed_at", sa.Float, nullable=True),
)
votes = sa.Table(
    "votes", metadata,
    sa.Column("poll_id", sa.Integer, sa.ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("learner", sa.String(64), primary_key=True),
    sa.Column("answer", sa.String(32), nullable=False),
    sa.Column("nickname", sa.String(24), nullable=True),
    sa.Column("voted_at", sa.Float, nullable=False),
)

progress_rows = sa.Table(   # migrations/versions/0003_progress.py
    "progress", metadata,
    sa.Column("code", sa.String(6), sa.ForeignKey("join_codes.code", ondelete="CASCADE"), primary_key=True),
    sa.Column("learner", sa.String(64), primary_key=True),
    sa.Column("exercise_id", sa.String(64), primary_key=True),
    sa.Column("correct", sa.Boolean, nullable=False),
    sa.Column("answer", sa.String(32), nullable=False),
    sa.Column("off_by", sa.Float, nullable=True),
    sa.Column("done_at", sa.Float, nullable=False),
)


class Refused(ValueError):
    """A request the store will not carry out; ``reason`` is one of the REASONS (an i18n key's last part)."""
    REASONS = ("bad_path", "bad_query", "too_large", "bad_key", "rate_limited", "full", "bad_answer",
               "bad_nickname", "bad_learner", "bad_exercise", "not_open", "unknown_poll", "unknown_code")

    def __init__(self, reason: str, detail: str = "") -> None:
        assert reason in self.REASONS, reason
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class StoreUnavailable(RuntimeError):
    """The database cannot be reached (or refuses); class features are off until it returns."""


@dataclass(frozen=True)
class Poll:
    """What a joined learner's page needs to know about the class's current question (no counts)."""
    id: int
    exercise_id: str
    options: tuple[str, ...] | None   # the choices; None: the answer is a number
    state: str                        # "open" (voting), "revealed" (answer shown) or "closed"
    answer: str | None                # the correct answer once revealed, else None


@dataclass(frozen=True)
class PollResult:
    """One poll as the presenter's results list shows it."""
    id: int
    exercise_id: str
    state: str
    answer: str | None
    counts: dict[str, int]
    opened_at: float

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def share_correct(self) -> float | None:
        """Share of the votes equal to the revealed answer (None before the reveal or without votes)."""
        if self.answer is None or not self.total:
            return None
        return self.counts.get(self.answer, 0) / self.total


@dataclass(frozen=True)
class Done:
    """One exercise a joined learner has committed a prediction for (``record_done``)."""
    correct: bool
    answer: str                  # the correct answer it was graded on
    off_by: float | None = None  # numbers: prediction - answer


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
        n = len(query) if isinstance(query, Mapping) else "?"
        raise Refused("bad_query", f"{type(query).__name__} with {n} items")
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

    # -- class polls ---------------------------------------------------------------------------------------
    def _teacher_of(self, conn: Connection, code: str, teacher_key: object) -> None:
        """PermissionError unless ``teacher_key`` is the key of the presenter who made ``code``."""
        row = conn.execute(sa.select(join_codes.c.teacher).where(
            join_codes.c.code == code, join_codes.c.expires_at > self.clock())).first()
        if row is None:
            raise Refused("unknown_code")
        if not isinstance(teacher_key, str) or not secrets.compare_digest(row.teacher, _digest(teacher_key)):
            raise PermissionError("only the presenter of this class can do that")

    def _poll_code(self, conn: Connection, poll_id: object) -> str:
        if not isinstance(poll_id, int) or isinstance(poll_id, bool):
            raise Refused("unknown_poll")
        code = conn.execute(sa.select(polls.c.code).where(polls.c.id == poll_id)).scalar()
        if code is None:
            raise Refused("unknown_poll")
        return code

    def open_poll(self, join_code: str, exercise_id: str, teacher_key: str, *,
                  options: tuple[str, ...] | list[str] | None = None) -> int:
        """Ask the class ``exercise_id`` (choices ``options``, or None for a number); returns the poll's id.

        Only the presenter who made ``join_code`` may (``PermissionError`` otherwise). Opening a poll closes the
        class's earlier open ones: a class answers one question at a time.
        """
        code = codes.normalize(join_code)
        if code is None:
            raise Refused("unknown_code")
        if not isinstance(exercise_id, str) or not _EXERCISE.fullmatch(exercise_id):
            raise Refused("bad_exercise")
        if options is not None:
            options = tuple(options)
            if not 2 <= len(options) <= MAX_OPTIONS or len(set(options)) != len(options) or not all(
                    isinstance(o, str) and 0 < len(o) <= MAX_ANSWER_CHARS for o in options):
                raise Refused("bad_exercise", "options: 2 to 12 distinct short texts")
        with self._connection(write=True) as conn:
            self._teacher_of(conn, code, teacher_key)
            conn.execute(polls.update().where(polls.c.code == code, polls.c.state == "open").values(state="closed"))
            return int(conn.execute(polls.insert().values(
                code=code, exercise_id=exercise_id, options=None if options is None else json.dumps(options),
                state="open", opened_at=self.clock())).inserted_primary_key[0])

    def current_poll(self, join_code: str) -> Poll | None:
        """The class's latest poll that is open or revealed (what a joined learner's page shows), or None.

        One small indexed read: cheap enough for every waiting student to ask every few seconds."""
        code = codes.normalize(join_code)
        if code is None:
            return None
        with self._connection(write=False) as conn:
            row = conn.execute(sa.select(polls).where(polls.c.code == code, polls.c.state != "closed")
                               .order_by(polls.c.opened_at.desc(), polls.c.id.desc()).limit(1)).first()
        if row is None:
            return None
        return Poll(row.id, row.exercise_id, None if row.options is None else tuple(json.loads(row.options)),
                    row.state, row.answer if row.state == "revealed" else None)

    def vote(self, poll_id: int, learner_id: str, answer: object, *, nickname: object = None) -> str:
        """Record a learner's answer (a re-vote replaces the earlier one); returns the answer as stored.

        Refused (``ValueError``): an answer outside the options or not a number, a bad nickname, a poll that is
        not open, votes faster than ``VOTE_INTERVAL_S``, more than ``MAX_VOTERS`` learners."""
        if not isinstance(learner_id, str) or not _LEARNER.fullmatch(learner_id):
            raise Refused("bad_learner")
        nick = _nickname(nickname)
        now = self.clock()
        with self._connection(write=True) as conn:
            self._poll_code(conn, poll_id)
            poll = conn.execute(sa.select(polls.c.state, polls.c.options).where(polls.c.id == poll_id)).one()
            if poll.state != "open":
                raise Refused("not_open")
            text = _answer(answer, None if poll.options is None else tuple(json.loads(poll.options)))
            mine = sa.and_(votes.c.poll_id == poll_id, votes.c.learner == learner_id)
            last = conn.execute(sa.select(votes.c.voted_at).where(mine)).scalar()
            if last is None:
                count = conn.execute(sa.select(sa.func.count()).select_from(votes)
                                     .where(votes.c.poll_id == poll_id)).scalar_one()
                if count >= MAX_VOTERS:
                    raise Refused("full", f"{count} votes")
                conn.execute(votes.insert().values(poll_id=poll_id, learner=learner_id, answer=text,
                                                   nickname=nick, voted_at=now))
            elif now - last < VOTE_INTERVAL_S:
                raise Refused("rate_limited", "one vote every half second")
            else:
                conn.execute(votes.update().where(mine).values(answer=text, nickname=nick, voted_at=now))
            return text

    def tally(self, poll_id: int) -> dict[str, int]:
        """Votes per answer (each learner counted once, with their latest vote)."""
        with self._connection(write=False) as conn:
            self._poll_code(conn, poll_id)
            rows = conn.execute(sa.select(votes.c.answer, sa.func.count()).where(votes.c.poll_id == poll_id)
                                .group_by(votes.c.answer)).all()
        return {answer: int(n) for answer, n in rows}

    def reveal(self, poll_id: int, teacher_key: str, answer: object = None) -> None:
        """End the voting and show the result; ``answer`` (computed by dlcore) grades the votes."""
        with self._connection(write=True) as conn:
            code = self._poll_code(conn, poll_id)
            self._teacher_of(conn, code, teacher_key)
            opts = conn.execute(sa.select(polls.c.options).where(polls.c.id == poll_id)).scalar()
            text = None if answer is None else _answer(answer, None if opts is None else tuple(json.loads(opts)))
            conn.execute(polls.update().where(polls.c.id == poll_id).values(
                state="revealed", answer=text, revealed_at=self.clock()))

    def close(self, poll_id: int, teacher_key: str) -> None:
        """Take the poll off the students' screens (its results stay in the list)."""
        with self._connection(write=True) as conn:
            code = self._poll_code(conn, poll_id)
            self._teacher_of(conn, code, teacher_key)
            conn.execute(polls.update().where(polls.c.id == poll_id).values(state="closed"))

    def results(self, join_code: str, teacher_key: str) -> list[PollResult]:
        """Every poll of the class with its counts, oldest first (only for its presenter)."""
        code = codes.normalize(join_code)
        if code is None:
            raise Refused("unknown_code")
        with self._connection(write=False) as conn:
            self._teacher_of(conn, code, teacher_key)
            rows = conn.execute(sa.select(polls).where(polls.c.code == code)
                                .order_by(polls.c.opened_at, polls.c.id)).all()
            counts = conn.execute(sa.select(votes.c.poll_id, votes.c.answer, sa.func.count())
                                  .join(polls, polls.c.id == votes.c.poll_id).where(polls.c.code == code)
                                  .group_by(votes.c.poll_id, votes.c.answer)).all()
        by_poll: dict[int, dict[str, int]] = {}
        for pid, ans, n in counts:
            by_poll.setdefault(pid, {})[ans] = int(n)
        return [PollResult(r.id, r.exercise_id, r.state, r.answer, by_poll.get(r.id, {}), r.opened_at) for r in rows]

    # -- a joined learner's guided path ------------------------------------------------------------------------
    def record_done(self, join_code: str, learner_id: str, exercise_id: str, done: Done) -> None:
        """Remember that a learner of the class ``join_code`` committed a prediction for ``exercise_id`` (a later
        commit replaces it). Refused: a malformed learner, exercise or grade, an unknown or expired code, more than
        ``MAX_DONE`` exercises for one learner."""
        code = codes.normalize(join_code)
        if code is None:
            raise Refused("unknown_code")
        if not isinstance(learner_id, str) or not _LEARNER.fullmatch(learner_id):
            raise Refused("bad_learner")
        if not isinstance(exercise_id, str) or not _EXERCISE.fullmatch(exercise_id):
            raise Refused("bad_exercise")
        off = done.off_by
        if (not isinstance(done.correct, bool) or not isinstance(done.answer, str)
                or not 0 < len(done.answer) <= MAX_ANSWER_CHARS
                or not (off is None or (isinstance(off, (int, float)) and math.isfinite(off)))):
            raise Refused("bad_answer", "a grade is (correct, answer text, finite offset or None)")
        values = {"correct": done.correct, "answer": done.answer, "off_by": None if off is None else float(off)}
        try:
            self._record_done(code, learner_id, exercise_id, values)
        except IntegrityError:   # the same learner's other tab inserted it a moment ago: update it
            self._record_done(code, learner_id, exercise_id, values)

    def _record_done(self, code: str, learner_id: str, exercise_id: str, values: dict) -> None:
        now = self.clock()
        values = {**values, "done_at": now}
        with self._connection(write=True) as conn:
            if conn.execute(sa.select(join_codes.c.code).where(
                    join_codes.c.code == code, join_codes.c.expires_at > now)).first() is None:
                raise Refused("unknown_code")
            mine = sa.and_(progress_rows.c.code == code, progress_rows.c.learner == learner_id)
            this = sa.and_(mine, progress_rows.c.exercise_id == exercise_id)
            if conn.execute(progress_rows.update().where(this).values(**values)).rowcount:
                return
            n = conn.execute(sa.select(sa.func.count()).select_from(progress_rows).where(mine)).scalar_one()
            if n >= MAX_DONE:
                raise Refused("full", f"{n} exercises")
            conn.execute(progress_rows.insert().values(code=code, learner=learner_id, exercise_id=exercise_id,
                                                       **values))

    def done(self, join_code: str, learner_id: str) -> dict[str, Done]:
        """What ``record_done`` remembered for this learner of this class ({} for a malformed, unknown or expired
        code or a malformed learner: a browser's leftover cookie is no error)."""
        code = codes.normalize(join_code)
        if code is None or not isinstance(learner_id, str) or not _LEARNER.fullmatch(learner_id):
            return {}
        with self._connection(write=False) as conn:
            rows = conn.execute(sa.select(progress_rows).join(join_codes, join_codes.c.code == progress_rows.c.code)
                                .where(progress_rows.c.code == code, progress_rows.c.learner == learner_id,
                                       join_codes.c.expires_at > self.clock())
                                .order_by(progress_rows.c.done_at).limit(MAX_DONE)).all()
        return {r.exercise_id: Done(bool(r.correct), r.answer, r.off_by) for r in rows}

    def purge_expired(self) -> int:
        """Delete expired codes; returns how many."""
        with self._connection(write=True) as conn:
            return conn.execute(join_codes.delete().where(join_codes.c.expires_at <= self.clock())).rowcount


def new_learner_id() -> str:
    """A learner's anonymous id for one browser session (no account, nothing personal)."""
    return secrets.token_urlsafe(12)


def parse_number(raw: object) -> float:
    """A typed number (comma or point, at most ``MAX_ANSWER_CHARS``), finite and within ``MAX_NUMBER``; ``Refused``
    (a ``ValueError``) otherwise. The one rule for a numeric prediction, graded alone or voted in a class."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)) or len(str(raw)) > MAX_ANSWER_CHARS:
        raise Refused("bad_answer", "not a number")
    try:
        value = float(str(raw).strip().replace(",", "."))
    except ValueError as err:
        raise Refused("bad_answer", f"{str(raw)[:40]!r} is not a number") from err
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        raise Refused("bad_answer", f"{value} is not a usable number")
    return value


def _answer(raw: object, options: tuple[str, ...] | None) -> str:
    """A vote's canonical text: one of the options, or a finite number written with 6 significant digits."""
    if options is not None:
        if not isinstance(raw, str) or raw not in options:
            raise Refused("bad_answer", f"{str(raw)[:40]!r} is not one of the options")
        return raw
    return format(parse_number(raw), ".6g")


def _nickname(raw: object) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str) or len(raw) > MAX_NICKNAME or not raw.isprintable():
        raise Refused("bad_nickname", "a nickname is up to 24 printable characters")
    return raw.strip()


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
