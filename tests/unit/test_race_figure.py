"""The race figure is written as plain JSON for speed: Plotly must still accept every property of it,
and the traces, axes and frames must carry the race's numbers."""

import numpy as np
import plotly.graph_objects as go
import pytest

from dlcore import optim as O
from tests.support import _decode
from ui.figures import optimizer_race as figs

LABELS = {"title": "title", "x": "x", "y": "y", "loss_title": "loss", "loss_axis": "f - f*", "loss_raw": "f",
          "lr_title": "lr", "lr_axis": "factor", "step": "step", "play": "play", "pause": "pause", "start": "start",
          "minimum": "minimum", "colorbar": "f", "off_chart": "off the chart"}
NAMES = {k: k for k in O.RACERS}


def _spec(surface="quadratic", kinds=("sgd", "adam", "newton"), starts=None, steps=60, schedule=O.Schedule(),
          labels=LABELS):
    s = O.SURFACES[surface]
    cfg = O.RaceConfig(surface=surface, starts=starts or (s.start,), steps=steps, schedule=schedule,
                       racers=tuple(O.RacerSpec(k, tuple(O.suggested_hypers(k, s).items())) for k in kinds))
    res = O.race_fast(cfg)
    fig = figs.race(res, s, O.surface_grid(s), NAMES, labels)
    return res, fig.to_dict()


def test_the_builder_reads_exactly_its_declared_labels():
    assert set(LABELS) == set(figs.RACE_LABELS)
    with pytest.raises(KeyError):
        _spec(labels={k: v for k, v in LABELS.items() if k != "minimum"})


def test_plotly_accepts_every_property_of_the_spec_and_its_frames():
    for surface in ("quadratic", "saddle"):        # with and without a known minimum (log / linear loss axis)
        _, spec = _spec(surface, schedule=O.Schedule("cosine"))
        fig = go.Figure(_decode(spec))             # raises ValueError on any invalid property or value
        assert len(fig.data) == len(spec["data"]) and len(fig.frames) == len(spec["frames"])
        assert fig.layout.yaxis2.type == ("log" if surface == "quadratic" else None)


def test_traces_sit_on_their_subplots_and_carry_the_iterates():
    res, spec = _spec(starts=((-2.6, 0.4), (2.0, 2.0)))
    data = _decode(spec)["data"]
    heads = [i for i, d in enumerate(data) if d.get("mode") == "markers" and d.get("name") in ("sgd", "adam", "newton")]
    assert [data[i]["xaxis"] for i in heads] == ["x"] * 3
    losses = [d for d in data if d.get("xaxis") == "x2" and d.get("name") in ("sgd", "adam", "newton")]
    np.testing.assert_allclose(losses[0]["y"][-1], res.losses[0, -1, 0], rtol=1e-6)
    assert spec["layout"]["xaxis3"]["title"]["text"] == "step"
    assert spec["layout"]["xaxis"]["range"] == [-3, 3]
    last = _decode(spec["frames"][-1])
    assert last["name"] == "60"
    j = last["traces"].index(heads[0])
    np.testing.assert_allclose(last["data"][j]["x"], res.paths[0, -1, :, 0], rtol=1e-6)   # both starts' heads
    sliders = spec["layout"]["sliders"][0]["steps"]
    assert [s["label"] for s in sliders] == [f["name"] for f in spec["frames"]]


def test_layout_is_built_once_per_labels_and_not_shared_between_figures():
    figs._race_layout.cache_clear()
    _, a = _spec()
    _, b = _spec("rosenbrock")                       # other data, the same labels and a log loss axis: a hit
    info = figs._race_layout.cache_info()
    assert (info.misses, info.hits, info.currsize) == (1, 1, 1)
    _spec("saddle")                                  # no known minimum: a linear loss axis, a layout of its own
    _spec(labels={**LABELS, "title": "titre"})       # other labels: another layout
    assert figs._race_layout.cache_info().misses == 3
    assert a["layout"]["xaxis"]["range"] == [-3, 3] and b["layout"]["xaxis"]["range"] == [-2, 2]
    a["layout"]["title"]["text"] = "changed"         # each figure gets its own copy of the cached layout
    assert _spec()[1]["layout"]["title"]["text"] == "title"


def test_a_runaway_racer_leaves_the_loss_chart_instead_of_flattening_it():
    """Issue 31: after the saddle preset one racer reached -1.5e20 and flattened every other loss curve. Its curve
    now ends, with a cross, where it leaves the band of the map's values; the others keep their whole curves."""
    from ui.experiments import optimizer_race as E

    cfg = E.race_config(E.settings("saddle"))
    res, s = O.race_fast(cfg), cfg.make_surface()
    z = O.surface_grid(s)[2]
    spec = _decode(figs.race(res, s, O.surface_grid(s), NAMES, LABELS).to_dict())
    curves = {d["name"]: d for d in spec["data"] if d.get("xaxis") == "x2" and d.get("mode") == "lines" and "name" in d}
    crosses = [d.get("name") for d in spec["data"] if d.get("xaxis") == "x2" and d.get("mode") == "markers"]
    assert np.nanmin(res.losses[..., 0]) < -1e19                     # the race itself still runs away
    span = float(z.max() - z.min())
    for name, d in curves.items():
        y = np.asarray(d["y"], dtype=float)
        assert np.nanmin(y) >= z.min() - 10 * span - 1e-3, name      # no curve stretches the axis
    assert "momentum" in crosses and "newton" not in crosses
    assert np.isfinite(np.asarray(curves["newton"]["y"], dtype=float)).all()


def test_on_a_phone_the_map_is_full_width_and_the_panels_sit_under_it():
    s = O.SURFACES["quadratic"]
    res, wide = _spec()
    compact = figs.race(res, s, O.surface_grid(s), NAMES, LABELS, compact=True).to_dict()
    go.Figure(_decode(compact))                                     # Plotly accepts it
    lw, lc = wide["layout"], compact["layout"]
    assert lw["xaxis"]["domain"][1] < 0.7 and lc["xaxis"]["domain"] == [0.0, 1.0]
    assert lc["xaxis2"]["domain"] == [0.0, 1.0] and lc["yaxis2"]["domain"][1] < lc["yaxis"]["domain"][0]
    assert lc["yaxis3"]["domain"][1] < lc["yaxis2"]["domain"][0]     # the schedule under the loss
    assert [t["xaxis"] for t in compact["data"]] == [t["xaxis"] for t in wide["data"]]   # the same traces and frames
    assert len(compact["frames"]) == len(wide["frames"])


def test_every_racer_has_its_own_colour_dash_and_marker_and_the_default_seven_seven_hues():
    from tests.support import colour_name
    from ui.experiments.optimizer_race import DEFAULT_RACERS

    styles = figs.racer_styles(list(O.RACERS))
    assert len({(x.color, x.dash, x.symbol) for x in styles}) == len(O.RACERS)
    assert len({x.symbol for x in styles}) == len(O.RACERS)
    default = figs.racer_styles(DEFAULT_RACERS)
    assert len({x.color for x in default}) == len(DEFAULT_RACERS)
    assert "yellow" not in {colour_name(x.color) for x in styles}   # nothing yellow on the white page
    by_kind = dict(zip(O.RACERS, styles))
    assert colour_name(by_kind["momentum"].color) != colour_name(by_kind["adagrad"].color)   # issue 31, item 11


def test_the_two_hessian_eigenvectors_differ_in_colour_and_dash_when_their_signs_agree():
    s = O.make_surface("quadratic")
    info = O.inspect_point(s, (0.3, 0.2))                       # a bowl: both eigenvalues positive
    assert (info.eigenvalues > 0).all()
    labels = {"inspect_title": "t", "x": "x", "y": "y", "eig": "e{i} {lam}", "neg_grad": "g", "escape": "e",
              "point": "p"}
    fig = figs.inspector(O.surface_grid(s, 41, figs.close_up(s, (0.3, 0.2), 0.5)), info, None, labels)
    eig = [tr for tr in fig.data if str(tr.name).startswith("e1") or str(tr.name).startswith("e2")]
    assert len(eig) == 2
    assert eig[0].line.color != eig[1].line.color and eig[0].line.dash != eig[1].line.dash
