"""The deep-signal figures change with every slider move, so they are written as plain JSON on a cached
Plotly-built layout: Plotly must still accept every property, and the traces must carry the statistics."""

import numpy as np
import plotly.graph_objects as go

from dlcore import activations as A
from tests.support import _decode
from ui.figures import activations as figs

LABELS = {k: k for k in ("spread_title", "frac_title", "grad_title", "std", "mean", "saturated_frac", "dead_frac",
                         "grad", "delta", "bound", "title", "layer", "zero", "nonfinite", "x")}
LABELS |= {"layer_n": "layer {n}", "hover": "layer {n}: {out:.0f}% outside"}


def _figures(**kw):
    sig = A.deep_signal(A.SignalConfig(**kw), "cpu")
    s = sig.stats
    bound = A.activation_bound(sig.max_derivative, kw.get("depth", 20)) * s["grad_norm"].iloc[-1]
    stats = figs.layer_stats({k: s[k].to_numpy() for k in s.columns}, np.asarray(bound), LABELS).to_dict()
    ridge = figs.ridgeline(sig.layers, sig.edges, sig.hist, sig.outside, LABELS).to_dict()
    return sig, _decode(stats), _decode(ridge)


def _trace(fig: dict, name: str) -> dict:
    return next(t for t in fig["data"] if t.get("name") == name)


def test_plotly_accepts_every_property_and_the_panels_carry_the_layer_statistics():
    sig, stats, ridge = _figures(depth=12, width=64, activation="sigmoid", batch=64)
    for spec in (stats, ridge):
        fig = go.Figure(spec)                      # raises ValueError on any invalid property or value
        assert len(fig.data) == len(spec["data"])
    s = sig.stats
    np.testing.assert_allclose(_trace(stats, "std")["y"], s["act_std"], rtol=1e-6)
    np.testing.assert_allclose(_trace(stats, "mean")["customdata"], s["act_mean"], rtol=1e-6)
    np.testing.assert_allclose(_trace(stats, "grad")["y"], s["grad_norm"], rtol=1e-6)
    np.testing.assert_allclose(_trace(stats, "delta")["y"], s["delta_norm"], rtol=1e-6)
    assert [_trace(stats, n)["xaxis"] for n in ("std", "saturated_frac", "delta", "grad", "bound")] == \
        ["x", "x2", "x3", "x3", "x3"]
    lay = stats["layout"]
    assert lay["yaxis"]["type"] == "log" and lay["yaxis3"]["type"] == "log" and lay["yaxis2"]["range"] == [-0.03, 1.03]
    assert lay["title"]["text"] == "title" and lay["xaxis"]["title"]["text"] == "layer"
    assert [a["text"] for a in lay["annotations"]] == ["spread_title", "frac_title", "grad_title"]
    assert len(ridge["data"]) == len(sig.layers)
    assert ridge["layout"]["yaxis"]["ticktext"] == [f"layer {int(n)}" for n in sig.layers]
    top = ridge["data"][-1]                        # the last layer's histogram, scaled into its band
    assert top["y"][0] == len(sig.layers) - 1 and top["y"].max() <= len(sig.layers) - 1 + 1.6 + 1e-9


def test_zero_and_non_finite_values_become_markers_off_the_log_axis():
    # all-zero weights: every gradient but the last layer's is exactly zero
    _, stats, _ = _figures(depth=6, width=16, activation="tanh", init="zeros", batch=8)
    zeros = {t["xaxis"]: t for t in stats["data"] if t.get("name") == "zero"}
    zero = zeros["x3"]                             # the gradient panel
    assert zero["marker"]["symbol"] == "triangle-down" and len(zero["x"]) >= 5
    assert np.isnan(_trace(stats, "grad")["y"][zero["x"].astype(int) - 1]).all()
    assert [t["showlegend"] for t in zeros.values()].count(True) == 1    # one legend entry for both panels
    go.Figure(stats)
