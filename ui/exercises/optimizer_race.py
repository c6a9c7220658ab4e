"""Exercises of the optimizer race lesson: each answer is computed by dlcore on the preset it names (the race and its
leaderboard from ``dlcore.optim``, the sharp / flat runs from ``dlcore.batch_noise``).

dlcore, and the experiment module that imports it, are imported inside the solvers: the course map counts
exercises before torch has loaded."""

from __future__ import annotations

from ui.exercises import Exercise

S = "optimizer_race"
NOT_REACHED = ("diverged", "left", "stalled", "moving")   # dlcore.optim.STATUSES other than "reached"


def _board(preset: str) -> dict[str, tuple[str, int]]:
    """The leaderboard the lab shows for ``preset``: racer -> (status, step), in rank order (best first)."""
    from dlcore import optim as O
    from ui.experiments import optimizer_race as experiment

    config = experiment.race_config(experiment.settings(preset))
    res = O.race_fast(config)   # the lab's race: the same result as O.race
    board = O.leaderboard(res, config.make_surface(), config.tol)
    return {res.kinds[i]: status for i, status in zip(board.order, board.status)}


def _only(preset: str, *statuses: str) -> str:
    """The one racer of ``preset`` whose run ends with one of ``statuses`` ("none" if no racer does)."""
    hits = [kind for kind, (code, _) in _board(preset).items() if code in statuses]
    if len(hits) > 1:   # the question asks for one racer: a bug in the exercise, not learner input
        raise RuntimeError(f"{preset}: {len(hits)} racers end {statuses}: {hits}")
    return hits[0] if hits else "none"


def _first(preset: str) -> str:
    """The racer that reaches a minimum first (the top of the leaderboard, if it reached one at all)."""
    kind, (code, _) = next(iter(_board(preset).items()))
    return kind if code == "reached" else "none"


def _flattest_batch(seed: int) -> str:
    """The batch size whose 64 runs end in the flat well most often (the batch-noise tab, global seed ``seed``)."""
    import numpy as np

    from dlcore import batch_noise as bn
    from ui.experiments import optimizer_race as experiment

    res = bn.sharp_flat(experiment.sharp_flat_config(experiment.settings("flat"), seed))
    return str(res.batch_sizes[int(np.argmax(res.flat_share))])


EXERCISES = (
    Exercise(S, "ravine_first", "ravine", lambda seed: _first("ravine"), options=("sgd", "momentum", "nesterov")),
    Exercise(S, "too_large", "too_large", lambda seed: _only("too_large", "diverged"),
             options=("sgd", "momentum", "adam", "none")),
    Exercise(S, "adagrad_crawl", "adagrad_crawl", lambda seed: _only("adagrad_crawl", *NOT_REACHED),
             options=("adagrad", "rmsprop", "adam", "none")),
    Exercise(S, "saddle", "saddle", lambda seed: _only("saddle", "stalled"),
             options=("sgd", "momentum", "adam", "newton")),
    Exercise(S, "flat_batch", "flat", _flattest_batch, options=("1", "8", "32", "64")),
)
