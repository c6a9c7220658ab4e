"""Predict, then observe: each lesson's exercises, whose answers dlcore computes on the exercise's experiment.

An exercise names an experiment (a preset of the lesson's declared settings, ``ui/experiments/<lesson>.py``),
asks one question (a choice among options, or a number with a tolerance), and computes the correct answer by
running dlcore on that experiment: no answer key is typed by hand, so the key cannot drift from what the figure
shows. The exercises of a lesson, in order, are its guided path. No Streamlit here: tests, the class store's
polls and the page all use the same objects.

Texts (``assets/i18n/<lang>/exercises/<lesson>.toml``): ``exercises.<lesson>.<name>.question`` and ``.explain``,
formatted with the experiment's settings (``{size}``, ``{k}``...); a choice's option names
``...<name>.options.<option>``.

    for ex in for_lesson("convolution"):
        ex.id, ex.options, ex.answer(seed=0), ex.grade("7")
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from classroom.store import parse_number


@dataclass(frozen=True)
class Grade:
    correct: bool
    answer: str                  # the correct answer, as stored and shown
    off_by: float | None = None  # numbers: guess - answer


@dataclass(frozen=True)
class Exercise:
    lesson: str
    name: str
    preset: str                                   # the experiment: a preset of the lesson
    solve: Callable[[int], str | float | int]     # seed -> the answer, computed by dlcore
    options: tuple[str, ...] | None = None        # a choice; None: a number
    tolerance: float = 0.0                        # numbers: right when |guess - answer| <= tolerance * max(1, |answer|)

    @property
    def id(self) -> str:
        return f"{self.lesson}.{self.name}"

    def answer(self, seed: int = 0) -> str:
        """The correct answer for the global seed ``seed``, as text (an option, or a number in 6 digits)."""
        return _answer(self, seed)

    def grade(self, guess: object, seed: int = 0) -> Grade:
        """Whether ``guess`` is right for the global seed ``seed``; ``ValueError`` if it is not an option / not a
        number."""
        return self.check(guess, self.answer(seed))

    def check(self, guess: object, right: str) -> Grade:
        """Grade ``guess`` against an answer already computed (a class poll's, revealed by the presenter)."""
        if self.options is not None:
            if guess not in self.options:
                raise ValueError(f"Invalid answer: {str(guess)[:40]!r} (choose one of {self.options})")
            return Grade(guess == right, right)
        value, target = number(guess), float(right)
        return Grade(abs(value - target) <= self.tolerance * max(1.0, abs(target)) + 1e-12, right, value - target)


def number(guess: object) -> float:
    """A learner's typed number (comma or point), finite; ``ValueError`` otherwise (the class store's rule)."""
    return parse_number(guess)


@lru_cache(maxsize=256)
def _answer(ex: Exercise, seed: int) -> str:
    value = ex.solve(seed)
    if ex.options is not None:
        if value not in ex.options:   # a bug in the exercise, not learner input
            raise RuntimeError(f"{ex.id}: computed answer {value!r} is not one of {ex.options}")
        return str(value)
    return format(float(value), ".6g")


def for_lesson(slug: str) -> tuple[Exercise, ...]:
    """The lesson's exercises in guided-path order (empty if it has none yet)."""
    try:
        module = importlib.import_module(f"ui.exercises.{slug}")
    except ModuleNotFoundError as err:
        if err.name != f"ui.exercises.{slug}":
            raise
        return ()
    return tuple(module.EXERCISES)


def by_id(exercise_id: str) -> Exercise | None:
    """The exercise ``<lesson>.<name>``, or None."""
    lesson, _, _ = str(exercise_id).partition(".")
    return next((ex for ex in for_lesson(lesson) if ex.id == exercise_id), None) if lesson.isidentifier() else None
