"""dlcore.optim against torch.optim run by hand, hand-derived minima, Hessians and schedules."""

import math

import numpy as np
import pytest
import torch

from dlcore import optim as O

TOL = {"atol": 1e-12, "rtol": 1e-12}


def _plain_torch(surface: O.Surface, cls, start, steps, **kw) -> np.ndarray:
    """The textbook loop: one leaf, zero_grad / backward / step."""
    p = torch.tensor(list(start), dtype=torch.float64, requires_grad=True)
    opt = cls([p], **kw)
    out = [p.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        surface.fn(p[0], p[1]).backward()
        opt.step()
        out.append(p.detach().clone())
    return torch.stack(out).numpy()


def _plain_scheduled(surface: O.Surface, cls, kw, start, steps, schedule: O.Schedule) -> np.ndarray:
    """The textbook loop with a torch scheduler of its own: opt.step() then scheduler.step()."""
    p = torch.tensor(list(start), dtype=torch.float64, requires_grad=True)
    opt = cls([p], **kw)
    lr_sched = O.make_scheduler(opt, schedule, steps)
    out = [p.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        surface.fn(p[0], p[1]).backward()
        opt.step()
        lr_sched.step()
        out.append(p.detach().clone())
    return torch.stack(out).numpy()


@pytest.mark.parametrize(("name", "cls", "kw"), [
    ("sgd", torch.optim.SGD, {"lr": 1e-3}),
    ("sgd", torch.optim.SGD, {"lr": 1e-3, "momentum": 0.9}),
    ("sgd", torch.optim.SGD, {"lr": 1e-3, "momentum": 0.9, "nesterov": True}),
    ("adagrad", torch.optim.Adagrad, {"lr": 0.3}),
    ("rmsprop", torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.9}),
    ("adadelta", torch.optim.Adadelta, {"lr": 1.0, "rho": 0.95}),
    ("adam", torch.optim.Adam, {"lr": 0.05, "betas": (0.8, 0.99)}),
    ("adamw", torch.optim.AdamW, {"lr": 0.05, "weight_decay": 0.1}),
    ("adamax", torch.optim.Adamax, {"lr": 0.05}),
    ("nadam", torch.optim.NAdam, {"lr": 0.05}),
    ("radam", torch.optim.RAdam, {"lr": 1e-3}),
])
def test_run_gives_exactly_the_iterates_of_a_plain_torch_optim_loop(name, cls, kw):
    surface = O.SURFACES["rosenbrock"]
    ours = O.run("rosenbrock", name, (-1.2, 1.0), 40, **kw)
    ref = _plain_torch(surface, cls, (-1.2, 1.0), 40, **kw)
    assert ours.shape == (41, 2) and ours.dtype == np.float64
    np.testing.assert_allclose(ours, ref, **TOL)


@pytest.mark.parametrize("kind", ["step", "exponential", "cosine", "warmup"])
def test_scheduled_run_matches_a_plain_loop_stepping_the_torch_scheduler(kind):
    sched = O.Schedule(kind, step_size=10, gamma=0.5, warmup=8)
    ours = O.run("rosenbrock", "adam", (-1.2, 1.0), 40, schedule=sched, lr=0.05)
    ref = _plain_scheduled(O.SURFACES["rosenbrock"], torch.optim.Adam, {"lr": 0.05}, (-1.2, 1.0), 40, sched)
    np.testing.assert_allclose(ours, ref, **TOL)


@pytest.mark.parametrize("kind", ["step", "exponential", "cosine", "warmup"])
def test_scheduled_race_matches_plain_loops_each_stepping_its_own_torch_scheduler(kind):
    """The race sets every racer's eta_t from one scheduler's factors: the same iterates as giving each
    optimizer its own torch scheduler and calling opt.step() / scheduler.step() by the book."""
    sched = O.Schedule(kind, step_size=15, gamma=0.3, warmup=12)
    specs = (O.RacerSpec("momentum", (("lr", 0.002), ("momentum", 0.9))), O.RacerSpec("nesterov", (("lr", 0.002),)),
             O.RacerSpec("rmsprop", (("lr", 0.02),)), O.RacerSpec("adam", (("lr", 0.1),)),
             O.RacerSpec("adagrad", (("lr", 0.5),)), O.RacerSpec("radam", (("lr", 0.005),)))
    starts = ((0.5, -1.5), (-1.0, 2.0))
    res = O.race(O.RaceConfig(surface="himmelblau", starts=starts, racers=specs, steps=80, schedule=sched))
    for r, spec in enumerate(specs):
        name, kw = O.torch_kwargs(spec.kind, dict(spec.hypers))
        for s, start in enumerate(starts):
            ref = _plain_scheduled(O.SURFACES["himmelblau"], O.OPTIMIZERS[name], kw, start, 80, sched)
            ours = res.paths[r, :, s]
            kept = np.isfinite(ours).all(1)          # the race marks |theta| >= 1e12 as diverged (NaN)
            assert kept.sum() > 40 and (kept | (np.abs(ref) >= O.DIVERGED).any(1) | np.isnan(ref).any(1)).all()
            np.testing.assert_allclose(ours[kept], ref[kept], rtol=1e-10, atol=1e-12)


def test_race_stops_paying_for_racers_that_diverged_or_reached_a_fixed_point():
    res = O.race(O.RaceConfig(surface="quadratic", kappa=10.0, angle=0.0, starts=((0.0, 1.0),), steps=200,
                              racers=(O.RacerSpec("sgd", (("lr", 2.5),)), O.RacerSpec("newton"))))
    assert np.isnan(res.paths[0, -1]).all()                      # diverged, NaN to the end
    np.testing.assert_allclose(res.paths[1, 1:], 0.0, atol=1e-15)  # Newton: one step, then stays put
    np.testing.assert_allclose(res.losses[1, 1:], 0.0, atol=1e-15)


def test_racers_sharing_one_backward_match_separate_runs_for_several_starts():
    specs = tuple(O.RacerSpec(k, tuple(O.suggested_hypers(k, O.SURFACES["himmelblau"]).items()))
                  for k in ("sgd", "nesterov", "rmsprop", "adam", "newton"))
    starts = ((0.5, -1.5), (-1.0, 2.0), (4.0, 4.0))
    res = O.race(O.RaceConfig(surface="himmelblau", starts=starts, racers=specs, steps=60))
    for r, spec in enumerate(specs):
        name, kw = O.torch_kwargs(spec.kind, dict(spec.hypers))
        for s, start in enumerate(starts):
            np.testing.assert_allclose(res.paths[r, :, s], O.run("himmelblau", name, start, 60, **kw), **TOL)


def test_newton_solves_any_quadratic_in_one_step_whatever_the_condition_number():
    for kappa in (1.0, 25.0, 1000.0):
        surface = O.make_surface("quadratic", kappa=kappa, angle=-40.0)
        path = O.run(surface, "newton", (2.0, -1.5), 3)
        np.testing.assert_allclose(path[1], [0.0, 0.0], atol=1e-12)


def test_newton_reaches_rosenbrock_minimum_and_jumps_onto_the_saddle():
    np.testing.assert_allclose(O.run("rosenbrock", "newton", (-1.2, 1.0), 20)[-1], [1.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(O.run("saddle", "newton", (1.3, -0.7), 2)[1], [0.0, 0.0], atol=1e-15)
    # Beale from (1, 1.5): Newton settles on the saddle (0, 1), not the minimum (3, 0.5)
    np.testing.assert_allclose(O.run("beale", "newton", (1.0, 1.5), 60)[-1], [0.0, 1.0], atol=1e-8)


def test_newton_matches_a_hand_written_newton_step_with_damping():
    surface = O.SURFACES["himmelblau"]
    theta = np.array([1.0, 1.0])
    for _ in range(5):
        x, y = theta
        g = np.array([4 * x * (x * x + y - 11) + 2 * (x + y * y - 7), 2 * (x * x + y - 11) + 4 * y * (x + y * y - 7)])
        h = np.array([[12 * x * x + 4 * y - 42, 4 * x + 4 * y], [4 * x + 4 * y, 4 * x + 12 * y * y - 26]])
        theta = theta - 0.5 * np.linalg.solve(h + 2.0 * np.eye(2), g)
    np.testing.assert_allclose(O.run(surface, "newton", (1.0, 1.0), 5, lr=0.5, damping=2.0)[-1], theta, rtol=1e-12)


@pytest.mark.parametrize(("name", "minima"), [
    ("rosenbrock", [(1.0, 1.0)]), ("beale", [(3.0, 0.5)]), ("himmelblau", list(O.HIMMELBLAU_MINIMA)),
    ("quadratic", [(0.0, 0.0)]), ("plateau", [(0.0, 0.0)]), ("many_minima", [(0.0, 0.0)]),
])
def test_known_minima_have_zero_gradient_zero_loss_and_positive_definite_hessian(name, minima):
    for m in minima:
        info = O.inspect_point(name, m)
        assert info.kind == "minimum"
        assert abs(info.value) < 1e-9
        assert np.linalg.norm(info.grad) < 1e-4      # Himmelblau's minima are given to 6 decimals
        assert info.critical or name == "himmelblau"


def test_saddle_hessian_has_eigenvalues_minus_two_and_two_with_axis_eigenvectors():
    info = O.inspect_point("saddle", (0.0, 0.0))
    np.testing.assert_allclose(info.hessian, [[2.0, 0.0], [0.0, -2.0]], atol=1e-12)
    np.testing.assert_allclose(info.eigenvalues, [-2.0, 2.0], atol=1e-12)
    np.testing.assert_allclose(np.abs(info.eigenvectors[:, 0]), [0.0, 1.0], atol=1e-12)   # y for lambda = -2
    assert info.kind == "saddle" and info.critical


def test_kinds_of_other_critical_points():
    assert O.inspect_point("monkey_saddle", (0.0, 0.0)).kind == "degenerate"
    assert O.inspect_point("himmelblau", O.HIMMELBLAU_MAXIMUM).kind == "maximum"
    beale = O.inspect_point("beale", (0.0, 1.0))          # hand-derived: H = [[0, 27.75], [27.75, 0]]
    np.testing.assert_allclose(beale.hessian, [[0.0, 27.75], [27.75, 0.0]], atol=1e-10)
    assert beale.kind == "saddle"
    off = O.inspect_point("quadratic", (1.0, 1.0))
    assert off.kind == "minimum" and not off.critical     # the curvature of a bowl, but not its bottom


def test_quadratic_hessian_eigenvalues_are_one_over_kappa_and_one_along_the_rotated_axes():
    s = O.make_surface("quadratic", kappa=40.0, angle=30.0)
    info = O.inspect_point(s, (0.3, -0.2))
    np.testing.assert_allclose(info.eigenvalues, [1 / 40, 1.0], rtol=1e-12)
    c, si = math.cos(math.radians(30)), math.sin(math.radians(30))
    np.testing.assert_allclose(np.abs(info.eigenvectors[:, 0]), [c, si], atol=1e-12)   # the long axis u


def test_escape_step_along_negative_eigenvector_lowers_loss_as_taylor_predicts():
    esc = O.escape_step("saddle", (0.0, 0.0), 0.5)
    assert esc is not None and esc.eigenvalue == pytest.approx(-2.0)
    np.testing.assert_allclose(esc.losses, [-0.25, -0.25], atol=1e-12)   # exact for a quadratic
    assert esc.predicted == pytest.approx(-0.25)
    hm = O.escape_step("himmelblau", (-0.1279617, -1.9537059), 0.1)   # Himmelblau's saddle near (-0.13, -1.95)
    assert hm is not None and hm.losses.max() < O.inspect_point("himmelblau", (-0.1279617, -1.9537059)).value
    assert O.escape_step("quadratic", (0.0, 0.0)) is None


def test_nearest_critical_point_by_newton_finds_the_saddle_of_beale():
    np.testing.assert_allclose(O.nearest_critical_point("beale", (0.2, 1.1)), [0.0, 1.0], atol=1e-8)


def test_gradient_descent_converges_in_the_ravine_at_the_rate_set_by_the_condition_number():
    # along the floor each step multiplies the distance by (1 - lr / kappa): the slow mode of GD
    for kappa in (10.0, 100.0):
        s = O.make_surface("quadratic", kappa=kappa, angle=0.0)
        path = O.run(s, "sgd", (2.0, 0.0), 50, lr=0.5)
        np.testing.assert_allclose(path[-1, 0], 2.0 * (1 - 0.5 / kappa) ** 50, rtol=1e-12)


def test_too_large_learning_rate_diverges_and_is_marked_with_nan():
    s = O.make_surface("quadratic", kappa=10.0, angle=0.0)
    path = O.run(s, "sgd", (0.0, 1.0), 200, lr=2.5)    # |1 - 2.5| > 1 in the steep direction
    assert np.isnan(path[-1]).all()
    first = int(np.argmax(np.isnan(path).any(axis=1)))
    assert np.abs(path[first - 1]).max() < O.DIVERGED and first > 10
    res = O.race(O.RaceConfig(surface="quadratic", kappa=10.0, angle=0.0, starts=((0.0, 1.0),), steps=200,
                              racers=(O.RacerSpec("sgd", (("lr", 2.5),)), O.RacerSpec("adam", (("lr", 0.1),)))))
    board = O.leaderboard(res, s)
    assert board.status[-1] == ("diverged", first) and board.order[-1] == 0
    assert board.order[0] == 1 and board.status[0][0] == "reached"


def test_leaderboard_ranks_faster_racers_first_and_counts_starts():
    res = O.race(O.RaceConfig(starts=((-2.6, 0.4), (2.0, 2.0)), steps=300,
                              racers=(O.RacerSpec("sgd", (("lr", 0.9),)), O.RacerSpec("newton"))))
    board = O.leaderboard(res, O.SURFACES["quadratic"])
    assert board.order == (1, 0) and board.reached[0] == 1.0
    assert board.starts_reached == ("2/2", "2/2")


def test_saddle_stalls_sgd_but_not_adam_from_the_ridge():
    res = O.race(O.RaceConfig(surface="saddle", starts=((-1.9, 1e-3),), steps=300,
                              racers=(O.RacerSpec("sgd", (("lr", 0.01),)), O.RacerSpec("adam", (("lr", 0.02),)))))
    y_sgd, y_adam = abs(res.paths[0, -1, 0, 1]), abs(res.paths[1, -1, 0, 1])
    assert y_sgd < 0.5 and y_adam > 2.0          # Adam walked off the ridge; SGD is still near it
    np.testing.assert_allclose(res.paths[0, 100, 0, 1], 1e-3 * 1.02**100, rtol=1e-12)   # y grows by (1 + 2 lr)


@pytest.mark.parametrize("kind", O.SCHEDULES)
def test_schedule_factors_match_the_torch_scheduler_and_closed_forms(kind):
    sched = O.Schedule(kind, step_size=50, gamma=0.5, warmup=40)
    f = O.schedule_factors(sched, 200)
    t = np.arange(200)
    expected = {
        "constant": np.ones(200),
        "step": 0.5 ** (t // 50),
        "exponential": 0.5 ** (t / 50),
        "cosine": 0.5 * (1 + np.cos(np.pi * t / 200)),
    }
    if kind in expected:
        np.testing.assert_allclose(f, expected[kind], rtol=1e-9, atol=1e-12)
    else:   # warm-up: linear from 1/40 up to 1 at step 40, then a cosine decay
        np.testing.assert_allclose(f[:40], 1 / 40 + (1 - 1 / 40) * t[:40] / 40, rtol=1e-9)
        assert f[40] == pytest.approx(1.0) and np.all(np.diff(f[40:]) <= 1e-12)


def test_schedule_scales_every_racer_and_is_reported():
    sched = O.Schedule("step", step_size=10, gamma=0.1)
    cfg = O.RaceConfig(surface="quadratic", angle=0.0, starts=((2.0, 0.0),), steps=30, schedule=sched,
                       racers=(O.RacerSpec("sgd", (("lr", 0.5),)),))
    res = O.race(cfg)
    np.testing.assert_allclose(res.lr_factor, O.schedule_factors(sched, 30))
    x, kappa = 2.0, 25.0
    for step in range(30):
        x *= 1 - 0.5 * 0.1 ** (step // 10) / kappa
    assert res.paths[0, -1, 0, 0] == pytest.approx(x, rel=1e-12)


@pytest.mark.parametrize(("make", "match"), [
    (lambda: O.RaceConfig(steps=O.MAX_STEPS + 1), "Invalid steps"),
    (lambda: O.RaceConfig(steps=0), "Invalid steps"),
    (lambda: O.RaceConfig(racers=(O.RacerSpec("sgd"),) * (O.MAX_RACERS + 1)), "Invalid number of racers"),
    (lambda: O.RaceConfig(racers=()), "Invalid number of racers"),
    (lambda: O.RaceConfig(racers=(O.RacerSpec("lion"),)), "Invalid racer kind"),
    (lambda: O.RaceConfig(starts=((0.0, 0.0),) * (O.MAX_STARTS + 1)), "Invalid number of start points"),
    (lambda: O.RaceConfig(starts=((math.nan, 0.0),)), "Invalid start point"),
    (lambda: O.RaceConfig(tol=2.0), "Invalid tol"),
    (lambda: O.Schedule("cyclic"), "Invalid schedule"),
    (lambda: O.Schedule("step", step_size=O.MAX_STEPS + 1), "Invalid step_size"),
    (lambda: O.Schedule("step", gamma=1.5), "Invalid gamma"),
    (lambda: O.Schedule("warmup", warmup=O.MAX_STEPS + 1), "Invalid warmup"),
    (lambda: O.torch_kwargs("adam", {"lr": 50.0}), "Invalid adam.lr"),
    (lambda: O.torch_kwargs("sgd", {"lr": math.inf}), "Invalid sgd.lr"),
    (lambda: O.make_surface("quadratic", kappa=O.MAX_KAPPA * 2), "Invalid condition number"),
    (lambda: O.make_surface("quadratic", angle=200.0), "Invalid angle"),
    (lambda: O.make_surface("custom", half_width=O.MAX_HALF_WIDTH + 1), "Invalid half width"),
    (lambda: O.make_surface("lake"), "unknown surface"),
    (lambda: O.run("saddle", "sgd", (0, 0), O.MAX_STEPS + 1, lr=0.1), "Invalid steps"),
    (lambda: O.run("saddle", "lbfgs", (0, 0), 3), "unknown optimizer"),
    (lambda: O.inspect_point("saddle", (math.inf, 0.0)), "Invalid point"),
    (lambda: O.escape_step("saddle", (0.0, 0.0), 11.0), "Invalid escape step size"),
    (lambda: O.surface_grid(O.SURFACES["saddle"], 1000), "Invalid grid size"),
])
def test_an_over_cap_value_raises_value_error_naming_it(make, match):
    """Caps a learner can reach through a config (or a URL value behind one) hold under ``python -O`` too."""
    with pytest.raises(ValueError, match=match):
        make()


def test_custom_formula_surface_runs_and_bad_ones_are_refused():
    s = O.make_surface("custom", formula="(x - 1)^2 + 2*(y + 0.5)^2", half_width=3)
    np.testing.assert_allclose(O.run(s, "newton", (2.0, 2.0), 2)[1], [1.0, -0.5], atol=1e-12)
    with pytest.raises(ValueError):
        O.make_surface("custom", formula="__import__('os')")
    with pytest.raises(O.ExpressionError) as e:
        O.check_surface(O.make_surface("custom", formula="log(-1 - x*x)"))
    assert e.value.code == "not_finite"


def test_parse_points_reads_pairs_and_refuses_garbage():
    assert O.parse_points("1, 1; -0.5, 2") == [(1.0, 1.0), (-0.5, 2.0)]
    assert O.parse_points("(1,2)") == [(1.0, 2.0)] and O.parse_points("") == []
    for bad, code in [("1;2", "points"), ("a, b", "points"), ("nan, 1", "points"), ("1,1;" * 5, "too_many")]:
        with pytest.raises(ValueError, match=code):
            O.parse_points(bad)


def test_default_race_finishes_with_every_racer_reaching_the_minimum_but_adadelta():
    specs = tuple(O.RacerSpec(k, tuple(O.suggested_hypers(k, O.SURFACES["quadratic"]).items())) for k in O.RACERS)
    res = O.race(O.RaceConfig(racers=specs))
    reached = dict(zip(res.kinds, res.reached_at[:, 0]))
    assert reached["newton"] == 1
    assert reached["momentum"] < reached["sgd"]      # the ravine lesson: momentum wins
    assert all(np.isfinite(res.paths[i, -1]).all() for i in range(len(specs)))


def test_preset_stories_hold_warmup_tames_adam_and_momentum_wins_the_ravine():
    warm = O.run("rosenbrock", "adam", (-1.2, 1.0), 600, lr=1.0, schedule=O.Schedule("warmup", warmup=100))
    const = O.run("rosenbrock", "adam", (-1.2, 1.0), 600, lr=1.0)
    f = O.SURFACES["rosenbrock"].fn
    loss = [float(f(*torch.tensor(p[-1]))) for p in (warm, const)]
    assert loss[0] < 1e-5 < 1e-2 < loss[1]
    ravine = O.make_surface("quadratic", kappa=50.0)
    steps = [int(np.argmax(np.linalg.norm(O.run(ravine, "sgd", (-2.6, 0.4), 300, lr=0.9, **kw), axis=1) < 1e-2))
             for kw in ({"momentum": 0.9, "nesterov": True}, {"momentum": 0.9}, {})]
    assert 0 < steps[0] < steps[1] < steps[2]          # Nesterov < momentum < plain SGD


# ---- the fast path: what the lab runs, equal to the readable race -----------------------------------------------

def _specs(surface: O.Surface, kinds) -> tuple[O.RacerSpec, ...]:
    return tuple(O.RacerSpec(k, tuple(O.suggested_hypers(k, surface).items())) for k in kinds)


@pytest.mark.parametrize(("surface", "kinds", "starts", "schedule"), [
    ("quadratic", tuple(O.RACERS), ((-2.6, 0.4),), O.Schedule()),                  # every racer, the default ravine
    ("himmelblau", ("sgd", "nesterov", "adagrad", "rmsprop", "adam", "newton"), ((0.5, -1.5), (-1.0, 2.0), (4.0, 4.0)),
     O.Schedule("warmup", warmup=20)),
    ("rosenbrock", ("momentum", "adamw", "radam", "adadelta"), ((-1.2, 1.0),), O.Schedule("step", 15, 0.3)),
    ("saddle", ("sgd", "adam", "newton"), ((-1.9, 1e-3), (1.0, -1.0)), O.Schedule("exponential", 30, 0.2)),
    ("beale", ("adamax", "nadam", "newton"), ((1.0, 1.5),), O.Schedule("cosine")),
])
def test_race_fast_gives_the_readable_race_exactly(surface, kinds, starts, schedule):
    """The lab runs race_fast (one shared backward, torch's update functions called directly, one schedule's
    factors); learners read race (each racer's own optimizer and scheduler, opt.step()). Same numbers."""
    config = O.RaceConfig(surface=surface, starts=starts, steps=120, schedule=schedule,
                          racers=_specs(O.SURFACES[surface], kinds))
    slow, fast = O.race(config), O.race_fast(config)
    np.testing.assert_allclose(fast.paths, slow.paths, rtol=1e-12, atol=1e-14)    # NaN where both diverged
    np.testing.assert_allclose(fast.losses, slow.losses, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fast.lr_factor, slow.lr_factor, rtol=1e-12)
    for field in ("diverged_at", "reached_at", "nearest", "outside"):
        np.testing.assert_array_equal(getattr(fast, field), getattr(slow, field))


def test_race_fast_equals_the_readable_race_when_racers_diverge_or_stop():
    config = O.RaceConfig(surface="quadratic", kappa=10.0, angle=0.0, starts=((0.0, 1.0), (2.0, 0.5)), steps=200,
                          racers=(O.RacerSpec("sgd", (("lr", 2.5),)), O.RacerSpec("newton")))   # all stop early
    slow, fast = O.race(config), O.race_fast(config)
    np.testing.assert_allclose(fast.paths, slow.paths, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(fast.diverged_at, slow.diverged_at)


def test_race_fast_without_the_private_step_shortcut_still_equals_the_readable_race(monkeypatch):
    """_step_fast reaches torch's private ``__wrapped__``; if torch stops exposing it, the fast path falls back to
    the public opt.step() and gives the same numbers."""
    config = O.RaceConfig(surface="himmelblau", starts=((0.5, -1.5),), steps=60,
                          racers=_specs(O.SURFACES["himmelblau"], ("momentum", "rmsprop", "adam", "newton")))
    monkeypatch.setattr(O, "_step_fast", lambda opt: opt.step)
    np.testing.assert_allclose(O.race_fast(config).paths, O.race(config).paths, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cls", [torch.optim.SGD, torch.optim.Adam, torch.optim.RMSprop, torch.optim.NAdam])
def test_the_step_shortcut_does_exactly_what_opt_step_does(cls):
    g = torch.Generator().manual_seed(0)
    grads = [torch.randn(3, generator=g, dtype=torch.float64) for _ in range(5)]
    params = [torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True) for _ in range(2)]
    opts = [cls([p], lr=0.1, foreach=False) for p in params]
    shortcut = O._step_fast(opts[0])
    for grad in grads:
        for p in params:
            p.grad = grad.clone()
        with torch.no_grad():
            shortcut()
        opts[1].step()
        torch.testing.assert_close(params[0].detach(), params[1].detach(), rtol=0, atol=0)


def test_the_ravine_is_half_u_squared_over_kappa_plus_v_squared_in_the_rotated_axes():
    """The ravine is written as 1/2 theta^T A theta (A its Hessian); it is the surface's LaTeX, term by term."""
    kappa, angle = 40.0, 30.0
    s = O.make_surface("quadratic", kappa=kappa, angle=angle)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(50, generator=g, dtype=torch.float64), torch.randn(50, generator=g, dtype=torch.float64)
    c, si = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    u, v = c * x + si * y, -si * x + c * y
    torch.testing.assert_close(s(x, y), 0.5 * (u * u / kappa + v * v), rtol=1e-13, atol=1e-15)
