"""The "by hand" attention figures change with every input, so they are written as plain JSON on cached
Plotly-built layouts: Plotly must still accept every property, and the traces must carry what
dlcore.attention.mechanism computed (checked against torch's own softmax attention)."""

import math

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
import torch.nn.functional as F

from dlcore.attention import mechanism as att
from tests.support import _decode
from ui.figures import attention as figs
from ui.figures.common import colorscale

_t = {key: f"attention.{key}" for key in figs.LABELS}   # labels that name their own key


def _hand(causal: bool, n_pad: int = 0):
    q, k, v = att.random_qkv(5, 5, 3, 2, 4)
    r = att.attention_by_hand(q, k, v, att.HandConfig(scaled=True, temperature=1.0, causal=causal, n_pad=n_pad, seed=0))
    return (q, k, v), {f: getattr(r, f).numpy() for f in ("scores", "logits", "weights", "output", "additive_weights",
                                                          "row_sums")}


@pytest.mark.parametrize("causal", [False, True])
def test_hand_figure_is_valid_plotly_and_carries_scores_weights_and_output(causal):
    (q, k, v), r = _hand(causal)
    spec = _decode(figs.hand_figure(r, 1 / math.sqrt(3), 1.0, _t).to_dict())
    go.Figure(spec)                                   # raises ValueError on any invalid property or value
    scores, weights, output = (np.asarray(t["z"], dtype=float) for t in spec["data"])
    mask = torch.ones(5, 5).tril().bool() if causal else None
    reference = F.scaled_dot_product_attention(q[None], k[None], v[None], attn_mask=mask)[0]
    np.testing.assert_allclose(output, reference.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.nan_to_num(weights), torch.softmax(
        (q @ k.T / math.sqrt(3)).masked_fill(~mask if causal else torch.zeros(5, 5, dtype=torch.bool), -math.inf),
        -1).numpy(), rtol=1e-5, atol=1e-7)
    assert np.isnan(weights).sum() == (10 if causal else 0) and np.isnan(scores).sum() == np.isnan(weights).sum()
    assert [d["xaxis"] for d in spec["data"]] == ["x", "x2", "x3"]
    assert spec["data"][0]["colorscale"] == [list(c) for c in colorscale("RdBu_r")]
    assert spec["data"][2]["x"] == ["attention.fig.dim1", "attention.fig.dim2"]
    lay = spec["layout"]
    titles, sums = lay["annotations"][:3], lay["annotations"][3:]
    assert [a["text"] for a in titles] == ["attention.fig.scores", "attention.fig.weights", "attention.fig.output"]
    assert [a["text"] for a in sums] == ["Σ=1.000"] * 5 and [a["y"] for a in sums] == [f"q{i}" for i in range(1, 6)]
    assert all(lay[f"yaxis{n}"]["autorange"] == "reversed" and lay[f"xaxis{n}"]["type"] == "category"
               for n in ("", "2", "3"))
    assert lay["height"] == 150 + 34 * 5 and lay["title"]["text"].startswith("attention.fig.hand_title")


def test_compare_figure_puts_dot_product_and_additive_weights_side_by_side():
    _, r = _hand(True)
    spec = _decode(figs.compare_figure(r, _t).to_dict())
    go.Figure(spec)
    dot, additive = (np.asarray(t["z"], dtype=float) for t in spec["data"])
    np.testing.assert_allclose(np.nan_to_num(dot), r["weights"], rtol=1e-6)
    np.testing.assert_allclose(np.nan_to_num(additive), np.where(np.isneginf(r["logits"]), 0, r["additive_weights"]),
                               rtol=1e-6)
    assert [t["showscale"] for t in spec["data"]] == [False, True]
    assert [a["text"] for a in spec["layout"]["annotations"]] == ["attention.fig.dot", "attention.fig.additive"]
    np.testing.assert_allclose(np.nansum(dot, axis=1), 1.0, rtol=1e-6)


def test_saturation_figure_marks_the_current_d_k_on_both_log_axes():
    sat = att.saturation_curve(att.D_K_STEPS, 8, 0)
    spec = _decode(figs.saturation_figure(sat.d_k.numpy(), sat.max_weight.numpy(), sat.entropy.numpy(), 16,
                                          _t).to_dict())
    go.Figure(spec)
    assert len(spec["data"]) == 4 and [t["showlegend"] for t in spec["data"]] == [True, True, False, False]
    np.testing.assert_allclose(spec["data"][0]["y"], sat.max_weight[0].numpy(), rtol=1e-6)
    np.testing.assert_allclose(spec["data"][3]["y"], sat.entropy[1].numpy(), rtol=1e-6)
    lay = spec["layout"]
    assert lay["xaxis"]["type"] == lay["xaxis2"]["type"] == "log" and lay["yaxis"]["range"] == [0, 1.02]
    assert [(s["x0"], s["xref"], s["yref"]) for s in lay["shapes"]] == [(16, "x", "y domain"), (16, "x2", "y2 domain")]
    now = lay["annotations"][-1]
    assert now["x"] == pytest.approx(math.log10(16)) and now["text"] == "attention.fig.now"


def test_a_cached_layout_is_never_shared_between_figures():
    _, r = _hand(False)
    a = figs.hand_figure(r, 1.0, 1.0, _t).to_dict()
    a["layout"]["annotations"].clear()
    b = figs.hand_figure(r, 1.0, 1.0, _t).to_dict()
    assert len(b["layout"]["annotations"]) == 3 + 5
