"""Lesson: the receptive-field calculator (seed 001 "卷积的感受野计算", 000 §5.1, 003 §5)."""

from functools import partial

import streamlit as st

from dlcore import famous_cnns as zoo
from dlcore import receptive_field as rf
from ui import lesson
from ui.controls import control
from ui.experiments import receptive_field as experiment
from ui.figures import receptive_field as figs
from ui.figures.common import thaw
from ui.i18n import labels, t
from ui.rf_table import layer_editor
from ui.runtime import heavy_slot, safely
from ui.state import bind, global_seed, sync_url

S = "receptive_field"
lab = partial(labels, S, figs.LABELS)   # the figures' labels in the learner's language (they key the caches too)
model_spec = lesson.cached(16)(experiment.model_spec)
compute = lesson.cached(64)(experiment.checked_table)          # each: a dlcore call (and its frozen figure)
unit_view = lesson.cached(64)(experiment.unit_figure)
rf_chart = lesson.cached(64)(experiment.rf_figure)             # every rerun that leaves the table alone: a hit
erf_chart = lesson.cached(32)(experiment.erf_figure)           # rf.ERFCostError (never cached) when too costly
growth_chart = lesson.cached(32)(experiment.growth_figure)


@lesson.cached(64)
def layer_table(spec: str, n: int, c: int, layer: int, lab: dict) -> None:
    """Draws the per-layer table. A rerun that leaves it alone (most of this page's widgets) replays the cached
    element instead of styling and marshalling the table again (~15 ms)."""
    df = compute(spec, n, c)[0]
    st.dataframe(figs.layer_styler(df, layer, lab), hide_index=True, height=min(36 * (len(df) + 2) + 4, 420),
                 placeholder="")


def message(err: rf.LayerError, row: int) -> str:
    values = {k: t(f"{S}.cols.{v}") if k == "field" else v for k, v in err.values.items()}
    return t(f"{S}.errors.{err.code}", row=row, **values)


def change(values: dict) -> None:
    """Set these settings (short names) in the session, for their widgets and the URL."""
    st.session_state.update({f"{S}.{k}": x for k, x in values.items()})


def load_model() -> None:
    change(experiment.network_settings(st.session_state[f"{S}.model"]))


def pick(chart: str) -> None:
    change(experiment.picked(chart, st.session_state.get(f"{S}.{chart}")))


lesson.header(S)
lesson.concept(S, expanded=False)
bound = bind(S, experiment.SETTINGS)
PRESETS = [lesson.Preset(name, values, {f"{S}.tab": t(f"{S}.tabs.{experiment.TAB[name]}")} if name in experiment.TAB
                         else {}) for name, values in experiment.PRESETS.items()]   # a preset may open a tab
lesson.predict(bound, PRESETS)
if f"{S}._synced" not in st.session_state:     # a shared link that names a network opens it with its input
    change(experiment.linked_input(st.query_params, S))
c1, c2, c3, c4 = st.columns([3, 1, 1, 1], vertical_alignment="bottom")
networks = {m: t(f"{S}.networks.{m}.label") for m in experiment.MODELS}   # each network's name in the box
control(bound, "model", c1, on_change=load_model, format_func=networks.get)
control(bound, "size", c2)
control(bound, "in_ch", c3)
c4.button(t(f"{S}.reset"), key=f"{S}.reset_btn", on_click=load_model, width="stretch")
v = bound.values()
edited = v["net"] and v["model"] != "custom"   # a network's table, changed by the learner
st.caption(t(f"{S}.networks.{v['model']}.note") + (" " + t(f"{S}.edited") if edited else ""))
tabs = st.tabs([t(f"{S}.tabs.field"), t(f"{S}.tabs.erf")], key=f"{S}.tab", on_change="rerun")   # the table below

left, right = st.columns([2, 1])   # the editor wide enough for all its columns
with left:
    parsed = layer_editor(bound, v["net"] or model_spec(v["model"]))
spec = rf.to_spec(parsed.layers)
df, err, check = compute(spec, v["size"], v["in_ch"])
for problem in [e for e in (err, parsed.error) if e is not None]:
    row = parsed.rows[problem.index] if problem is err and problem.index < len(parsed.rows) else problem.index + 1
    st.error(message(problem, row) + " " + t(f"{S}.computed_up_to", n=len(df)), icon=":material/table_rows:")
if parsed.skipped:
    st.warning(t(f"{S}.skipped", rows=", ".join(map(str, parsed.skipped))), icon=":material/table_rows:")
if len(df) == 0:
    st.info(t(f"{S}.no_layers"), icon=":material/info:")
    st.stop()

change(experiment.unit_fixes(bound.values(), df))   # the unit looked at, on a table that may have shrunk
layer, unit = bound.values()["layer"] or len(df), (st.session_state[f"{S}.row"], st.session_state[f"{S}.col"])
with right:
    st.markdown(t(f"{S}.formula_title", layer=layer, name=df.name.iloc[layer - 1]))
    st.latex(r"\footnotesize " + figs.recurrence_latex(df, layer))
    shape = " × ".join(map(str, check.out_shape))
    same = list(check.out_sizes) == df.out_size.tolist() and list(check.params) == df.params.tolist()
    st.caption(t(f"{S}.torch_check" if same else f"{S}.torch_mismatch", shape=shape))
    if df.unseen.iloc[-1]:
        st.caption(t(f"{S}.unseen", n=int(df.unseen.iloc[-1])))
layer_table(spec, v["size"], v["in_ch"], layer, lab())
st.caption(t(f"{S}.table_hint"))

if tabs[0].open:
    with tabs[0]:
        lead = st.container()   # the figure first (issue 29: a projector's first screen), what it shows below
        d1, d2, d3, d4 = st.columns([3, 1, 1, 2])
        names = [t(f"{S}.layer_last", name=df.name.iloc[-1])] + [
            f"{i}. {x.name} ({x.out_size} × {x.out_size})" for i, x in enumerate(df.itertuples(), 1)]
        d1.selectbox(t(f"{S}.layer"), range(len(df) + 1), key=f"{S}.layer", format_func=names.__getitem__,
                     on_change=lambda: st.session_state.update({f"{S}.row": -1, f"{S}.col": -1}))
        out = int(df.out_size.iloc[layer - 1])
        d2.number_input(t(f"{S}.row"), 0, out - 1, step=1, key=f"{S}.row")
        d3.number_input(t(f"{S}.col"), 0, out - 1, step=1, key=f"{S}.col")
        control(bound, "image", d4)
        with safely():
            fig, box, how = unit_view(spec, v["size"], v["in_ch"], layer, unit, v["image"], lab())
            lesson.chart(thaw(fig), f"{S}.unit_fig", lead, on_select=lambda: pick("unit_fig"), selection_mode="points")
            lead.caption(t(f"{S}.autograd.{how}", **experiment.box_numbers(box)) + " " + t(f"{S}.click_hint"))
        lesson.chart(thaw(rf_chart(spec, v["size"], v["in_ch"], layer, lab())), f"{S}.rf_fig",
                     on_select=lambda: pick("rf_fig"), selection_mode="points")
if tabs[1].open:
    with tabs[1]:
        e1, e2, e3 = st.columns([3, 3, 2])
        control(bound, "erf_source", e1)
        stack = v["erf_source"] == "stack"
        control(bound, "erf_depth", e2, disabled=not stack)
        control(bound, "erf_seeds", e3)
        control(bound, "erf_pool", e1, disabled=not stack)
        control(bound, "erf_relu", e2)
        layers, n = experiment.erf_stack(v) if stack else (parsed.layers[:layer],
                                                            rf.erf_input(parsed.layers, v["size"]))
        if not stack and n < v["size"]:
            st.info(t(f"{S}.erf_cropped", n=n), icon=":material/crop:")
        if (bad := rf.partial_table(layers, n, 1)[1]) is not None:
            st.error(message(bad, bad.index + 1))
        with heavy_slot("compute") as free, safely():
            try:
                if free and bad is None:
                    chart, res = erf_chart(rf.to_spec(layers), n, v["erf_relu"], v["erf_seeds"], global_seed(), lab())
                    lesson.chart(thaw(chart), f"{S}.erf_fig")
                    st.caption(t(f"{S}.erf_notice", r=res.rf, e=res.erf_random, share=100 * res.erf_random // res.rf))
            except rf.ERFCostError as cost:
                st.error(t(f"{S}.erf_cost.{cost.code}", **cost.values), icon=":material/timer_off:")
            if free and stack:
                lesson.chart(thaw(growth_chart(experiment.erf_settings(v), global_seed(), lab())), f"{S}.growth_fig")

st.markdown(t(f"{S}.notice"))
lesson.presets(bound, PRESETS)
lesson.code_that_ran(rf.partial_table, rf.unit_field, rf.exact_field, rf.unit_gradient, rf.effective_field,
                     rf.check_erf_cost, rf.erf_growth, zoo.layers_from_module, rf.torch_check)
sync_url(bound)
