"""Lesson: convolution and transposed convolution, animated (notes 001, 004: d2l 6.2-6.3 and 13.10)."""

import numpy as np
import pandas as pd
import streamlit as st
import torch

from dlcore import conv
from ui import lesson
from ui.experiments import convolution as experiment
from ui.figures import convolution as figs
from ui.figures.common import freeze, thaw
from ui.grid_input import grid_editor
from ui.i18n import t
from ui.state import Param, bind, global_seed, sync_url

SIZES = {"size": (3, conv.MAX_SIZE), "k": (1, conv.MAX_KERNEL), "stride": (1, conv.MAX_STRIDE),
         "padding": (0, conv.MAX_PADDING), "dilation": (1, conv.MAX_DILATION), "output_padding": (0, 3)}
SMALL = 6  # transposed-conv and matrix views use the top-left SMALL x SMALL block (figure size stays small)

lesson.header("convolution")
lesson.concept("convolution", expanded=False)
D = experiment.DEFAULTS
bound = bind("convolution", [
    *(Param.int(name, D[name], lo=lo, hi=hi) for name, (lo, hi) in SIZES.items()),
    Param.choice("source", D["source"], [*conv.INPUT_KINDS, "typed"]),
    Param.choice("kernel", D["kernel"], list(conv.KERNEL_KINDS)),
    Param.choice("filter", D["filter"], list(conv.classic_kernels())),
    Param.int("channels", D["channels"], lo=1, hi=8),
])

for col, (name, (lo, hi)) in zip(st.columns(6), SIZES.items()):
    col.number_input(t(f"convolution.{name}"), lo, hi, step=1, key=f"convolution.{name}",
                     help=t(f"convolution.help.{name}"))
c1, c2 = st.columns(2)
sources = {name: t(f"convolution.sources.{name}") for name in [*conv.INPUT_KINDS, "typed"]}
kernels = {name: t(f"convolution.kernels.{name}") for name in conv.KERNEL_KINDS}
filters = {name: t(f"convolution.filters.{name}") for name in conv.classic_kernels()}
c1.selectbox(t("convolution.source"), list(sources), key="convolution.source", format_func=sources.get)
c2.selectbox(t("convolution.kernel"), list(kernels), key="convolution.kernel", format_func=kernels.get)
v = bound.values()
n, k, s, p, d, op = v["size"], v["k"], v["stride"], v["padding"], v["dilation"], v["output_padding"]
seed = global_seed()
x = conv.make_input("random" if v["source"] == "typed" else v["source"], n, seed)
w = conv.make_kernel(v["kernel"], k, seed)
if v["kernel"] not in ("random", "ones") and k != 3:
    st.info(t("convolution.classic_needs_3"), icon=":material/info:")
if v["source"] == "typed":
    with st.expander(t("convolution.typed_title"), expanded=True):
        typed, bad = grid_editor("convolution.grid", x.numpy())
    if typed is None:
        st.error(t("convolution.bad_grid", cells=", ".join(f"({r}, {c})" for r, c in bad[:6])))
    else:
        x = torch.from_numpy(typed)


def _formula_line() -> str:
    try:
        o = conv.conv_output_size(n, k, s, p, d)
        same = conv.inputs_with_same_output(o, k, s, p, d, limit=conv.MAX_SIZE + 2 * conv.MAX_PADDING + 8)
        text = t("convolution.formula_conv", i=n, k=k, s=s, p=p, d=d, span=d * (k - 1) + 1, o=o)
        if len(same) > 1:
            text += " " + t("convolution.formula_same", inputs=", ".join(map(str, same)), o=o)
    except ValueError:
        text = t("convolution.too_big", span=d * (k - 1) + 1, padded=n + 2 * p)
    try:
        ot = conv.conv_transpose_output_size(n, k, s, p, d, op)
        text += "\n\n" + t("convolution.formula_transposed", i=n, k=k, s=s, p=p, d=d, op=op, o=ot)
    except ValueError as e:
        text += "\n\n" + t("convolution.bad_transposed", s=s, d=d, op=op, why=str(e))
    return text


st.markdown(_formula_line())
TAB_NAMES = ("slide", "transposed", "matrix", "checker", "channels")
# Stateful tabs: only the open tab's content runs, so a rerun pays for one view, not five.
tabs = st.tabs([t(f"convolution.tabs.{name}") for name in TAB_NAMES], key="convolution.tab", on_change="rerun")


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def slide_figure(xa: np.ndarray, wa: np.ndarray, s: int, p: int, d: int, labels: tuple):
    tr = conv.conv2d_trace(torch.from_numpy(xa), torch.from_numpy(wa), stride=s, padding=p, dilation=d)
    return freeze(figs.sliding_window(tr.padded.numpy(), wa, tr.output.numpy(), tr.rows.numpy(), tr.cols.numpy(),
                                      tr.products.numpy(), p, titles=labels[:2], title=labels[2],
                                      equation=labels[3], play=labels[4], pause=labels[5], step=labels[6]))


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def transposed(xa: np.ndarray, wa: np.ndarray, s: int, p: int, d: int, op: int) -> dict[str, np.ndarray]:
    tv = conv.conv_transpose2d_views(torch.from_numpy(xa), torch.from_numpy(wa), stride=s, padding=p, dilation=d,
                                     output_padding=op)
    return {"stamps": tv.stamps.numpy(), "canvas": tv.canvas.numpy(), "spread": tv.dilated.numpy(),
            "flipped": tv.flipped.numpy(), "direct": conv.direct_output(tv, d).numpy(),
            "scatter": conv.scatter_output(tv, p).numpy(), "torch": tv.output.numpy()}


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def matrix_view(xa: np.ndarray, wa: np.ndarray, s: int, p: int, d: int, seed: int) -> dict:
    xt, wt = torch.from_numpy(xa).double(), torch.from_numpy(wa).double()
    c = conv.conv_matrix(*xt.shape, wt, stride=s, padding=p, dilation=d)
    y = torch.nn.functional.conv2d(xt[None, None], wt[None, None], stride=s, padding=p, dilation=d)[0, 0]
    g = torch.randn(y.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    grad = conv.input_gradient(xt, wt, g, stride=s, padding=p, dilation=d)
    extra = xt.shape[0] - conv.conv_transpose_output_size(y.shape[0], wt.shape[0], s, p, d)  # rows the floor dropped
    ct = torch.nn.functional.conv_transpose2d(g[None, None], wt[None, None], stride=s, padding=p, dilation=d,
                                              output_padding=extra if extra < max(s, d) else 0)[0, 0]
    ct = torch.nn.functional.pad(ct, (0, xt.shape[1] - ct.shape[1], 0, xt.shape[0] - ct.shape[0]))
    return {"matrix": c.numpy(), "errors": [float((c @ xt.flatten() - y.flatten()).abs().max()),
                                            float((c.T @ g.flatten() - ct.flatten()).abs().max()),
                                            float((grad.flatten() - c.T @ g.flatten()).abs().max())]}


labels = (t("convolution.fig.padded_input"), t("convolution.fig.output"), t("convolution.fig.slide_title"),
          t("convolution.fig.equation"), t("convolution.fig.play"), t("convolution.fig.pause"),
          t("convolution.fig.position"))
valid_conv = d * (k - 1) + 1 <= n + 2 * p
if tabs[0].open:
    with tabs[0]:
        if valid_conv:
            st.plotly_chart(thaw(slide_figure(x.numpy(), w.numpy(), s, p, d, labels)), key="convolution.slide_fig")
            st.caption(t("convolution.notice.slide"))
        else:
            st.error(t("convolution.too_big", span=d * (k - 1) + 1, padded=n + 2 * p))
if tabs[1].open:
    with tabs[1]:
        xs = x[:SMALL, :SMALL].contiguous()
        try:
            tv = transposed(xs.numpy(), w.numpy(), s, p, d, op)
        except ValueError as e:
            st.error(t("convolution.bad_transposed", s=s, d=d, op=op, why=str(e)))
        else:
            st.plotly_chart(figs.transposed_stamping(xs.numpy(), tv["stamps"], tv["canvas"], p,
                                                     title=t("convolution.fig.scatter_title"), play=labels[4],
                                                     pause=labels[5], step=t("convolution.fig.input_cell")),
                            key="convolution.scatter_fig")
            st.plotly_chart(figs.grids([(t("convolution.fig.spread_input"), tv["spread"]),
                                        (t("convolution.fig.flipped_kernel"), tv["flipped"]),
                                        (t("convolution.fig.direct_result"), tv["direct"]),
                                        (t("convolution.fig.torch_result"), tv["torch"])],
                                       title=t("convolution.fig.direct_title")), key="convolution.direct_fig")
            same = bool(np.allclose(tv["scatter"], tv["torch"]) and np.allclose(tv["direct"], tv["torch"]))
            st.caption(t("convolution.notice.transposed", n=xs.shape[0], same=t(f"convolution.{'yes' if same else 'no'}")))
if tabs[2].open:
    with tabs[2]:
        xs = x[:SMALL, :SMALL].contiguous()
        if d * (k - 1) + 1 > xs.shape[0] + 2 * p:
            st.error(t("convolution.too_big", span=d * (k - 1) + 1, padded=xs.shape[0] + 2 * p))
        else:
            mv = matrix_view(xs.numpy(), w.numpy(), s, p, d, seed)
            st.plotly_chart(figs.matrix(mv["matrix"], title=t("convolution.fig.matrix_title", r=mv["matrix"].shape[0],
                                                              c=mv["matrix"].shape[1]),
                                        x=t("convolution.fig.matrix_x"), y=t("convolution.fig.matrix_y")),
                            key="convolution.matrix_fig")
            st.dataframe(pd.DataFrame({t("convolution.check.what"): [t(f"convolution.check.c{i}") for i in range(3)],
                                       t("convolution.check.error"): mv["errors"]}), hide_index=True)
if tabs[3].open:
    with tabs[3]:
        up = conv.upsample_x2(conv.smooth_image())
        st.plotly_chart(figs.grids([(t("convolution.fig.overlaps", k=k, s=s), conv.overlap_counts(6, 6, k, s).numpy())],
                                   title=t("convolution.fig.overlap_title"), colorscale="Blues", zmid=None),
                        key="convolution.overlap_fig")
        st.plotly_chart(figs.images([(t("convolution.fig.up_k3"), up.transposed_k3.numpy()),
                                     (t("convolution.fig.up_k4"), up.transposed_k4.numpy()),
                                     (t("convolution.fig.up_resize"), up.resize_conv.numpy())],
                                    title=t("convolution.fig.upsample_title"), cols=3, height_per_row=320),
                        key="convolution.upsample_fig")
        st.caption(t("convolution.notice.checker"))
if tabs[4].open:
    with tabs[4]:
        f1, f2 = st.columns(2)
        f1.selectbox(t("convolution.filter"), list(filters), key="convolution.filter", format_func=filters.get)
        f2.slider(t("convolution.channels"), 1, 8, key="convolution.channels")
        rgb = conv.rgb_photo(96)
        grey = conv.to_grey(rgb)
        filtered = conv.feature_maps(grey[None], conv.classic_kernels()[v["filter"]][None, None])[0]
        maps = conv.feature_maps(rgb, conv.random_layer(3, v["channels"], 3, seed))
        st.plotly_chart(figs.images([(t("convolution.fig.grey"), grey.numpy()),
                                     (filters[v["filter"]], filtered.numpy())]
                                    + [(t("convolution.fig.channel", i=i + 1), m.numpy()) for i, m in enumerate(maps)],
                                    title=t("convolution.fig.maps_title"), cols=5), key="convolution.maps_fig")
        st.caption(t("convolution.notice.channels", luma=", ".join(map(str, conv.LUMA))))
        st.markdown(f"**{t('convolution.cost.title')}**")
        q = st.columns(6)
        dims = [q[i].number_input(t(f"convolution.cost.{name}"), lo, hi, default, step=1, key=f"convolution.cost_{name}")
                for i, (name, lo, hi, default) in enumerate([("h", 1, 512, 56), ("w", 1, 512, 56), ("n", 1, 2048, 64),
                                                              ("m", 1, 2048, 128), ("k", 1, 11, 3), ("g", 1, 64, 4)])]
        h, wd, cin, cout, kk, g = (int(z) for z in dims)
        rows = [conv.conv_cost(h, wd, cin, cout, kk, kind, g) for kind in ("standard", "depthwise", "pointwise", "separable")]
        if cin % g == 0 and cout % g == 0:
            rows.insert(1, conv.conv_cost(h, wd, cin, cout, kk, "grouped", g))
        else:
            st.warning(t("convolution.cost.bad_groups", g=g, n=cin, m=cout))
        st.dataframe(pd.DataFrame({t("convolution.cost.kind"): [t(f"convolution.cost.{r.kind}") for r in rows],
                                   t("convolution.cost.params"): [r.params for r in rows],
                                   t("convolution.cost.madds"): [r.mult_adds for r in rows],
                                   t("convolution.cost.ratio"): [r.mult_adds / rows[0].mult_adds for r in rows]}),
                     hide_index=True)
        st.caption(t("convolution.notice.cost", m=cout, k=kk, ratio=1 / cout + 1 / kk**2))

lesson.presets(bound, [lesson.Preset(name, values) for name, values in experiment.PRESETS.items()])
lesson.code_that_ran(conv.conv_output_size, conv.conv_transpose_output_size, conv.conv2d_trace,
                     conv.conv_transpose2d_views, conv.conv_matrix, conv.upsample_x2, conv.conv_cost)
sync_url(bound)
