"""Lesson: the receptive-field calculator (seed 001 "卷积的感受野计算", 000 §5.1, 003 §5)."""

import zlib

import pandas as pd
import streamlit as st

from dlcore import famous_cnns as zoo
from dlcore import receptive_field as rf
from dlcore.data import SAMPLE_IMAGES
from ui import lesson
from ui.experiments import receptive_field as experiment
from ui.figures import receptive_field as figs
from ui.figures.common import freeze, thaw
from ui.i18n import t
from ui.runtime import heavy_slot, safely
from ui.state import Param, bind, global_seed, sync_url

S = "receptive_field"
MODELS = ["custom", *zoo.NETWORKS]
model_spec = st.cache_data(max_entries=16, ttl=3600, show_spinner=False)(experiment.model_spec)


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def base_frame(spec: str) -> pd.DataFrame:
    return rf.to_frame(rf.parse_spec(spec))


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def compute(spec: str, n: int, c: int) -> tuple[pd.DataFrame, rf.LayerError | None, rf.TorchCheck | None]:
    layers = rf.parse_spec(spec)
    df, err = rf.partial_table(layers, n, c)
    return df, err, rf.torch_check(layers[:len(df)], n, c) if len(df) else None


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def unit_view(spec: str, n: int, c: int, row: int, col: int, image: str, labels: tuple) -> tuple[dict, tuple, str]:
    u = rf.unit_field(rf.parse_spec(spec), n, c, row, col)
    fig = figs.unit_picture(u.grad, rf.photo(min(n, figs.MAX_DISPLAY), image), u.box, u.centres, (row, col),
                            titles=labels[:2], title=labels[2], hover_unit=labels[3], hover_pixel=labels[4])
    return freeze(fig), u.measured, u.check


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def rf_chart(spec: str, n: int, c: int, layer: int, labels: tuple) -> dict:
    """The receptive-field-per-layer chart's spec: every rerun that leaves the table alone is a cache hit."""
    title, x, y, y2, rf_name, jump_name, input_name = labels
    df = compute(spec, n, c)[0]
    return freeze(figs.rf_per_layer(df, n, layer, title=title, x=x, y=y, y2=y2, rf_name=rf_name, jump_name=jump_name,
                                    input_name=input_name))


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def erf_chart(spec: str, n: int, relu: bool, seeds: int, seed: int, labels: tuple) -> tuple[dict, rf.ERFResult]:
    """The effective-field figure's spec (and the result), per inputs and translated labels."""
    res = erf(spec, n, relu, seeds, seed)
    titles, title, px, py, names, hover = labels
    return freeze(figs.effective_vs_theoretical(
        res, titles=titles, title=title.format(r=res.rf, e=res.erf_random, u=res.erf_uniform, n=n), profile_x=px,
        profile_y=py, names=names, hover=hover)), res


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def erf(spec: str, n: int, relu: bool, seeds: int, seed: int) -> rf.ERFResult:
    return rf.effective_field(rf.parse_spec(spec), rf.ERFConfig(n, relu, seeds, seed))


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def growth(depth: int, pool: bool, relu: bool, seeds: int, seed: int) -> rf.ERFGrowth:
    return experiment.growth({"erf_depth": depth, "erf_pool": pool, "erf_relu": relu, "erf_seeds": seeds}, seed)


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def growth_chart(depth: int, pool: bool, relu: bool, seeds: int, seed: int, labels: tuple) -> dict:
    """The growth figure's spec per inputs and translated labels (the fit's label gets its slope here)."""
    gr = growth(depth, pool, relu, seeds, seed)
    title, x, y, names = labels
    return freeze(figs.growth(gr, title=title, x=x, y=y, names=(*names[:3], names[3].format(a=f"{gr.sqrt_fit:.1f}"))))


@st.cache_data(max_entries=64, ttl=3600, show_spinner=False)
def layer_table(spec: str, n: int, c: int, layer: int, headers: tuple, kinds: tuple, total: str) -> None:
    """Draws the per-layer table. A rerun that leaves it alone (most of this page's widgets) replays the cached
    element instead of styling and marshalling the table again (~15 ms)."""
    df = compute(spec, n, c)[0]
    st.dataframe(figs.layer_table(df, headers=dict(headers), kinds=dict(kinds), selected=layer, total=total),
                 hide_index=True, height=min(36 * (len(df) + 2) + 4, 420), placeholder="")


def message(err: rf.LayerError, row: int) -> str:
    values = {k: t(f"receptive_field.cols.{v}") if k == "field" else v for k, v in err.values.items()}
    return t(f"receptive_field.errors.{err.code}", row=row, **values)


def load_model() -> None:
    """The network box / reset button: the network's own table, input size and channels, centre unit."""
    net = zoo.NETWORKS.get(st.session_state[f"{S}.model"], zoo.Network(zoo.notes_example, 32, 3))  # custom: 32 x 32
    st.session_state.update({f"{S}.net": "", f"{S}.layer": 0, f"{S}.row": -1, f"{S}.col": -1,
                             f"{S}.size": net.input_size, f"{S}.in_ch": net.in_channels})


def pick(chart: str) -> None:
    """A click on a unit's dot selects that unit; a click on a bar selects that layer."""
    cd = (points := st.session_state[f"{S}.{chart}"]["selection"]["points"]) and points[0].get("customdata")
    if chart == "unit_fig" and isinstance(cd, (list, dict)) and len(cd) >= 2:
        st.session_state[f"{S}.row"], st.session_state[f"{S}.col"] = (int(v) for v in list(cd.values() if isinstance(cd, dict) else cd)[:2])
    elif points and chart == "rf_fig":
        st.session_state.update({f"{S}.layer": int(points[0]["x"]), f"{S}.row": -1, f"{S}.col": -1})


lesson.header(S)
lesson.concept(S, expanded=False)
D = experiment.DEFAULTS
bound = bind(S, [
    Param.choice("model", D["model"], MODELS), Param.text("net", D["net"], max_len=6000, check=rf.is_spec),
    Param.int("size", D["size"], lo=1, hi=rf.MAX_INPUT), Param.int("in_ch", D["in_ch"], lo=1, hi=rf.MAX_IN_CHANNELS),
    Param.int("layer", D["layer"], lo=0, hi=rf.MAX_LAYERS), Param.int("row", D["row"], lo=-1, hi=rf.MAX_INPUT),
    Param.int("col", D["col"], lo=-1, hi=rf.MAX_INPUT), Param.choice("image", D["image"], SAMPLE_IMAGES),
    Param.choice("erf_source", D["erf_source"], ["stack", "table"]),
    Param.int("erf_depth", D["erf_depth"], lo=1, hi=rf.MAX_ERF_DEPTH), Param.bool("erf_pool", D["erf_pool"]),
    Param.bool("erf_relu", D["erf_relu"]), Param.int("erf_seeds", D["erf_seeds"], lo=1, hi=rf.MAX_ERF_SEEDS),
])
if f"{S}._synced" not in st.session_state and st.query_params.get(f"{S}.model") in zoo.NETWORKS:
    net = zoo.NETWORKS[st.session_state[f"{S}.model"]]      # a shared link names a network: use its input
    for name, value in (("size", net.input_size), ("in_ch", net.in_channels)):
        st.session_state[f"{S}.{name}"] = st.session_state[f"{S}.{name}"] if f"{S}.{name}" in st.query_params else value
c1, c2, c3, c4 = st.columns([3, 1, 1, 1], vertical_alignment="bottom")
c1.selectbox(t("receptive_field.model"), MODELS, key=f"{S}.model", on_change=load_model,
             format_func={m: t(f"receptive_field.networks.{m}.label") for m in MODELS}.get)
c2.number_input(t("receptive_field.size"), 1, rf.MAX_INPUT, step=1, key=f"{S}.size", help=t("receptive_field.help.size"))
c3.number_input(t("receptive_field.in_ch"), 1, rf.MAX_IN_CHANNELS, step=1, key=f"{S}.in_ch")
c4.button(t("receptive_field.reset"), key=f"{S}.reset_btn", on_click=load_model, width="stretch")
v = bound.values()
st.caption(t(f"receptive_field.networks.{v['model']}.note") + (" " + t("receptive_field.edited") if v["net"] and v["model"] != "custom" else ""))

# The editor starts from ``_base``; a preset, the network box or a URL that changes the table rebases it.
spec = v["net"] or model_spec(v["model"])
if st.session_state.get(f"{S}._synced") != spec:
    st.session_state[f"{S}._base"] = st.session_state[f"{S}._synced"] = spec
base = st.session_state[f"{S}._base"]
cc = st.column_config
kinds = {k: t(f"receptive_field.kinds.{k}") for k in rf.KINDS}
columns = {"order": cc.NumberColumn("#", help=t("receptive_field.help.order"), width=40, format="%g"),
           "name": cc.TextColumn(t("receptive_field.short.name"), max_chars=rf.MAX_NAME, width=64),
           "kind": cc.SelectboxColumn(t("receptive_field.short.kind"), options=rf.KINDS, default="conv", required=True,
                                      format_func=kinds.get, width=96),
           "bias": cc.CheckboxColumn(t("receptive_field.short.bias"), default=True, width=44)}
for name, lo, hi, default in (("kernel", 1, rf.MAX_KERNEL, 3), ("stride", 1, rf.MAX_STRIDE, 1),
                              ("padding", 0, rf.MAX_PADDING, 0), ("dilation", 1, rf.MAX_DILATION, 1),
                              ("channels", 1, rf.MAX_CHANNELS, None), ("groups", 1, rf.MAX_CHANNELS, 1)):
    columns[name] = cc.NumberColumn(t(f"receptive_field.short.{name}"), help=t(f"receptive_field.help.{name}"),
                                    min_value=lo, max_value=hi, step=1, default=default, width=44 if len(name) < 8 else 60)
left, right = st.columns([3, 2])
with left:
    edited = st.data_editor(base_frame(base), key=f"{S}.table_{zlib.crc32(base.encode()):08x}", num_rows="dynamic",
                            hide_index=True, placeholder="", height=min(36 * (base.count(",") + 3), 420),
                            column_config=columns, column_order=rf.FRAME_COLUMNS)
    st.caption(t("receptive_field.editor_hint", cap=rf.MAX_LAYERS))
parsed = rf.parse_frame(edited)
if parsed.error is None and (new := rf.to_spec(parsed.layers)) != spec:
    st.session_state[f"{S}.net"] = st.session_state[f"{S}._synced"] = new
    if parsed.reordered:                                    # show the new order, renumbered
        st.session_state[f"{S}._base"] = new
        st.rerun()
df, err, check = compute(rf.to_spec(parsed.layers), v["size"], v["in_ch"])
for problem in [e for e in (err, parsed.error) if e is not None]:
    row = parsed.rows[problem.index] if problem is err and problem.index < len(parsed.rows) else problem.index + 1
    st.error(message(problem, row) + " " + t("receptive_field.computed_up_to", n=len(df)), icon=":material/table_rows:")
if parsed.skipped:
    st.warning(t("receptive_field.skipped", rows=", ".join(map(str, parsed.skipped))), icon=":material/table_rows:")
L = len(df)
if L == 0:
    st.info(t("receptive_field.no_layers"), icon=":material/info:")
    st.stop()

if not 0 <= st.session_state[f"{S}.layer"] <= L:          # the table got shorter: back to the last layer
    st.session_state[f"{S}.layer"] = 0
layer = st.session_state[f"{S}.layer"] or L
out = int(df.out_size.iloc[layer - 1])
for k in ("row", "col"):                                    # -1 (or off the map): the centre unit
    if not 0 <= st.session_state[f"{S}.{k}"] < out:
        st.session_state[f"{S}.{k}"] = out // 2
row, col = st.session_state[f"{S}.row"], st.session_state[f"{S}.col"]
with right:
    st.markdown(t("receptive_field.formula_title", layer=layer, name=df.name.iloc[layer - 1]))
    st.latex(r"\small " + figs.recurrence_latex(df, layer))
    same = list(check.out_sizes) == df.out_size.tolist() and list(check.params) == df.params.tolist()
    shape = " × ".join(map(str, check.out_shape))
    st.caption(t("receptive_field.torch_check", shape=shape) if same else t("receptive_field.torch_mismatch", shape=shape))
    if df.unseen.iloc[-1]:
        st.caption(t("receptive_field.unseen", n=int(df.unseen.iloc[-1])))
headers = tuple((k, t(f"receptive_field.cols.{k}")) for k in ("index", "name", "kind", "out", "dropped", "k_eff", "rf",
                                                               "jump", "start", "params", "macs"))
layer_table(rf.to_spec(parsed.layers), v["size"], v["in_ch"], layer, headers, tuple(kinds.items()),
            t("receptive_field.total"))
st.caption(t("receptive_field.table_hint"))

tabs = st.tabs([t("receptive_field.tabs.field"), t("receptive_field.tabs.erf")], key=f"{S}.tab", on_change="rerun")
if tabs[0].open:
    with tabs[0]:
        d1, d2, d3, d4 = st.columns([3, 1, 1, 2])
        names = [t("receptive_field.layer_last", name=df.name.iloc[-1])] + [
            f"{i}. {x.name} ({x.out_size} × {x.out_size})" for i, x in enumerate(df.itertuples(), 1)]
        d1.selectbox(t("receptive_field.layer"), range(L + 1), key=f"{S}.layer", format_func=names.__getitem__,
                     on_change=lambda: st.session_state.update({f"{S}.row": -1, f"{S}.col": -1}))
        d2.number_input(t("receptive_field.row"), 0, out - 1, step=1, key=f"{S}.row")
        d3.number_input(t("receptive_field.col"), 0, out - 1, step=1, key=f"{S}.col")
        d4.selectbox(t("receptive_field.image"), SAMPLE_IMAGES, key=f"{S}.image",
                     format_func={x: t(f"receptive_field.images.{x}") for x in SAMPLE_IMAGES}.get)
        labels = (t("receptive_field.fig.grid_title"), t("receptive_field.fig.photo_title"),
                  t("receptive_field.fig.unit_title", layer=layer, row=row, col=col, r=int(df.rf.iloc[layer - 1]),
                    j=int(df.jump.iloc[layer - 1])),
                  t("receptive_field.fig.hover_unit"), t("receptive_field.fig.hover_pixel"))
        with safely():
            spec_l = rf.to_spec(parsed.layers[:layer])
            fig, box, how = unit_view(spec_l, v["size"], v["in_ch"], row, col, v["image"], labels)
            st.plotly_chart(thaw(fig), key=f"{S}.unit_fig", on_select=lambda: pick("unit_fig"), selection_mode="points")
            nums = {} if box is None else {"r0": box[0], "r1": box[1], "c0": box[2], "c1": box[3],
                                           "h": box[1] - box[0] + 1, "w": box[3] - box[2] + 1}
            st.caption(t(f"receptive_field.autograd.{how}", **nums) + " " + t("receptive_field.click_hint"))
        chart = rf_chart(rf.to_spec(parsed.layers), v["size"], v["in_ch"], layer, tuple(t(f"receptive_field.{k}") for k in (
            "fig.rf_title", "fig.layer_axis", "fig.rf_axis", "fig.jump_axis", "cols.rf", "cols.jump", "fig.input_size")))
        st.plotly_chart(thaw(chart), key=f"{S}.rf_fig", on_select=lambda: pick("rf_fig"), selection_mode="points")
if tabs[1].open:
    with tabs[1]:
        e1, e2, e3 = st.columns([3, 3, 2])
        e1.selectbox(t("receptive_field.erf_source"), ["stack", "table"], key=f"{S}.erf_source",
                     format_func={x: t(f"receptive_field.erf_sources.{x}") for x in ("stack", "table")}.get)
        stack = v["erf_source"] == "stack"
        e2.slider(t("receptive_field.erf_depth"), 1, rf.MAX_ERF_DEPTH, key=f"{S}.erf_depth", disabled=not stack)
        e3.slider(t("receptive_field.erf_seeds"), 1, rf.MAX_ERF_SEEDS, key=f"{S}.erf_seeds")
        e1.toggle(t("receptive_field.erf_pool"), key=f"{S}.erf_pool", disabled=not stack,
                  help=t("receptive_field.help.erf_pool"))
        e2.toggle(t("receptive_field.erf_relu"), key=f"{S}.erf_relu", help=t("receptive_field.help.erf_relu"))
        if stack:
            layers, n = experiment.erf_stack(v)
        else:
            layers, n = parsed.layers[:layer], min(v["size"], rf.MAX_ERF_INPUT)
            if n < v["size"]:
                st.info(t("receptive_field.erf_cropped", n=n), icon=":material/crop:")
        bad = rf.partial_table(layers, n, 1)[1]
        if bad is not None:
            st.error(message(bad, bad.index + 1))
        with heavy_slot("compute") as free, safely():
            if free and bad is None:
                chart, res = erf_chart(rf.to_spec(layers), n, v["erf_relu"], v["erf_seeds"], global_seed(), (
                    (t("receptive_field.fig.erf_random"), t("receptive_field.fig.erf_uniform"),
                     t("receptive_field.fig.erf_profile")), t("receptive_field.fig.erf_title"),
                    t("receptive_field.fig.column_axis"), t("receptive_field.fig.profile_axis"),
                    (t("receptive_field.fig.random"), t("receptive_field.fig.uniform"), t("receptive_field.fig.gauss"),
                     t("receptive_field.fig.edge")), t("receptive_field.fig.hover_pixel")))
                st.plotly_chart(thaw(chart), key=f"{S}.erf_fig")
                st.caption(t("receptive_field.erf_notice", r=res.rf, e=res.erf_random, share=100 * res.erf_random // res.rf))
            if free and stack:
                st.plotly_chart(thaw(growth_chart(v["erf_depth"], v["erf_pool"], v["erf_relu"], v["erf_seeds"], global_seed(), (
                    t("receptive_field.fig.growth_title"), t("receptive_field.fig.depth_axis"),
                    t("receptive_field.fig.side_axis"),
                    (t("receptive_field.fig.theoretical"), t("receptive_field.fig.random"),
                     t("receptive_field.fig.uniform"), t("receptive_field.fig.sqrt_fit", a="{a}"))))),
                    key=f"{S}.growth_fig")

st.markdown(t("receptive_field.notice"))
lesson.presets(bound, [lesson.Preset(name, values, {f"{S}.tab": t(f"receptive_field.tabs.{experiment.TAB[name]}")}
                                     if name in experiment.TAB else {}) for name, values in experiment.PRESETS.items()])
lesson.code_that_ran(rf.partial_table, rf.unit_field, rf.exact_field, rf.unit_gradient, rf.effective_field,
                     rf.erf_growth, zoo.layers_from_module, rf.torch_check)
sync_url(bound)
