"""The lesson's figure builders: Plotly accepts every property, the JSON stays small at the caps, the values drawn
are the ones passed in."""

import json

import numpy as np
import plotly.graph_objects as go
import torch

from dlcore.linear_classifiers import losses, studies
from ui.experiments import linear_classifiers as experiment
from ui.figures import linear_classifiers as figs
from ui.figures.common import freeze

LABELS = {k: k for k in
          {*figs.REGION_LABELS, *figs.LOSS_LABELS, *figs.TEMPLATE_LABELS, *figs.CV_LABELS, *figs.DIST_LABELS,
           *figs.GEN_LABELS}}


def test_the_playground_figure_is_valid_plotly_and_under_1_mb_at_the_caps():
    v = experiment.settings() | {"n": 500, "resolution": 200, "dataset": "spirals", "k": 50}
    x, y, _, r = experiment.playground(v, 0)
    spec = freeze(figs.regions(r, x.numpy(), y.numpy(), LABELS, clickable=True,
                               hood=experiment.neighbourhood(v, x)))
    go.Figure(spec)                                   # raises on any property Plotly does not know
    assert len(json.dumps(spec)) < 1_000_000
    heat = [t for t in spec["data"] if t["type"] == "heatmap"]
    assert len(heat) == 4 and {t["xaxis"] for t in heat} == {"x", "x2", "x3", "x4"}


def test_the_other_figures_are_valid_plotly():
    p = losses.point_loss((3.2, 5.1, -1.7), 0)
    sweep = losses.correct_score_sweep((3.2, 5.1, -1.7), 0)
    built = [figs.loss_bars(p, ["a", "b", "c"], LABELS), figs.loss_sweep(sweep, LABELS),
             figs.templates(np.random.default_rng(0).normal(size=(10, 64)), 0.9, LABELS),
             figs.curse(np.array([1, 10]), np.array([0.01, 0.6]), np.array([0.01, 0.7]), 0.01, LABELS),
             figs.standardization(np.array([1.0, np.inf]), np.array([1.0, 0.5]), LABELS),
             figs.least_squares(studies.least_squares_demo(5), LABELS)]
    for fig in built:
        go.Figure(freeze(fig))
    bars = freeze(built[0])["data"]
    np.testing.assert_allclose(bars[1]["y"], [0.0, 2.9, 0.0], atol=1e-9)
    sv = freeze(built[1])["data"]
    assert sv[0]["x"] is not None and torch.isfinite(sweep.softmax).all()
