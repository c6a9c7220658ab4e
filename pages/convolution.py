"""Lesson: convolution and transposed convolution, animated (notes 001, 004: d2l 6.2-6.3 and 13.10)."""

import streamlit as st
import torch

from dlcore import conv
from ui import lesson
from ui.controls import control
from ui.experiments import convolution as experiment
from ui.figures import convolution as figs
from ui.figures.common import freeze, thaw
from ui.grid_input import grid_editor
from ui.i18n import labels, lang, option_names, t
from ui.runtime import safely
from ui.state import bind, global_seed, sync_url

S = "convolution"
TABS = ("slide", "transposed", "matrix", "checker", "channels")

lesson.header(S)
lesson.concept(S, expanded=False)
bound = bind(S, experiment.SETTINGS)
PRESETS = [lesson.Preset(name, values) for name, values in experiment.PRESETS.items()]
lesson.predict(bound, PRESETS)
for name, col in zip(experiment.SHAPE, st.columns(6)):
    control(bound, name, col)
for name, col in zip(("source", "kernel"), st.columns(2)):
    control(bound, name, col)
v, seed = bound.values(), global_seed()
if v["kernel"] not in ("random", "ones") and v["k"] != 3:
    st.info(t(f"{S}.classic_needs_3"), icon=":material/info:")
typed = None
if v["source"] == "typed":
    with st.expander(t(f"{S}.typed_title"), expanded=True):
        typed, bad = grid_editor(f"{S}.grid", conv.make_input("random", v["size"], seed).numpy())
    if typed is None:
        st.error(t(f"{S}.bad_grid", cells=", ".join(f"({r}, {c})" for r, c in bad[:6])))
config = experiment.conv_config(v, seed, typed)
n, k, s, p, d, op = (getattr(config, name) for name in experiment.SHAPE)
sizes = conv.sizes(n, k, s, p, d, op)
st.markdown(figs.formula_text(sizes, config, labels(S, figs.FORMULA_LABELS)))
# Stateful tabs: only the open tab's content runs, so a rerun pays for one view, not five.
tabs = st.tabs([t(f"{S}.tabs.{name}") for name in TABS], key=f"{S}.tab", on_change="rerun")


@lesson.cached(32)
def slide(config: conv.ConvConfig, language: str) -> dict:
    """The sliding-window animation's frozen spec: one frame per output cell."""
    trace = conv.conv2d_trace(config.input(), config.weight(), stride=config.stride, padding=config.padding,
                              dilation=config.dilation)
    return freeze(figs.sliding_window(trace, config.padding, labels(f"{S}.fig", figs.SLIDE_LABELS)))


@lesson.cached(32)
def transposed(config: conv.ConvConfig, language: str):
    """Both views of the block's transposed convolution, and whether both give PyTorch's numbers."""
    views = conv.conv_transpose2d_views(experiment.block(config), config.weight(), stride=config.stride,
                                        padding=config.padding, dilation=config.dilation,
                                        output_padding=config.output_padding)
    direct = conv.direct_output(views, config.dilation)
    same = torch.allclose(conv.scatter_output(views, config.padding), views.output) and \
        torch.allclose(direct, views.output)
    texts = labels(f"{S}.fig", figs.TRANSPOSED_LABELS)
    return (freeze(figs.transposed_stamping(views, config.padding, texts)),
            freeze(figs.direct_view(views, direct.numpy(), texts)), same)


@lesson.cached(32)
def matrix(config: conv.ConvConfig, language: str):
    """The block's convolution matrix C (frozen spec) and the table of what it checks."""
    view = conv.matrix_view(experiment.block(config), config.weight(), stride=config.stride, padding=config.padding,
                            dilation=config.dilation, seed=config.seed)
    return (freeze(figs.matrix(view.matrix.numpy(), labels(f"{S}.fig", figs.MATRIX_LABELS))),
            figs.check_table(view, labels(f"{S}.check", figs.CHECK_LABELS)))


@lesson.cached(32)
def checker(k: int, stride: int, language: str):
    """Overlap counts of a transposed convolution of a 6 x 6 input, and a smooth image upsampled three ways."""
    texts = labels(f"{S}.fig", figs.CHECKER_LABELS)
    return (freeze(figs.overlaps(conv.overlap_counts(6, 6, k, stride).numpy(), k, stride, texts)),
            freeze(figs.upsampling(conv.upsample_x2(conv.smooth_image()), texts)))


@lesson.cached(32)
def feature_maps(filter_name: str, channels: int, seed: int, language: str) -> dict:
    """A hand-designed filter and a random layer of ``channels`` kernels on the photo (frozen spec)."""
    rgb = conv.rgb_photo(96)
    grey = conv.to_grey(rgb)
    filtered = conv.feature_maps(grey[None], conv.classic_kernels()[filter_name][None, None])[0]
    maps = conv.feature_maps(rgb, conv.random_layer(3, channels, 3, seed))
    name = option_names(f"{S}.filters", [filter_name])[filter_name]
    return freeze(figs.feature_maps(grey.numpy(), filtered.numpy(), name, [m.numpy() for m in maps],
                                    labels(f"{S}.fig", figs.MAPS_LABELS)))


if tabs[0].open:
    with tabs[0], safely():
        if sizes.output is not None:
            lesson.chart(thaw(slide(config, lang())), f"{S}.slide_fig")
            st.caption(t(f"{S}.notice.slide"))
        else:
            st.error(t(f"{S}.too_big", span=sizes.span, padded=sizes.padded))
if tabs[1].open:
    with tabs[1], safely():
        try:
            scatter_spec, direct_spec, same = transposed(config, lang())
        except ValueError as e:
            st.error(t(f"{S}.bad_transposed", s=s, d=d, op=op, why=str(e)))
        else:
            lesson.chart(thaw(scatter_spec), f"{S}.scatter_fig")
            lesson.chart(thaw(direct_spec), f"{S}.direct_fig")
            same_text = t(f"{S}.yes") if same else t(f"{S}.no")
            st.caption(t(f"{S}.notice.transposed", n=min(n, experiment.BLOCK), same=same_text))
if tabs[2].open:
    with tabs[2], safely():
        block = conv.sizes(min(n, experiment.BLOCK), k, s, p, d)
        if block.output is None:
            st.error(t(f"{S}.too_big", span=block.span, padded=block.padded))
        else:
            matrix_spec, checks = matrix(config, lang())
            lesson.chart(thaw(matrix_spec), f"{S}.matrix_fig")
            st.dataframe(checks, hide_index=True)
if tabs[3].open:
    with tabs[3], safely():
        overlap_spec, upsample_spec = checker(k, s, lang())
        lesson.chart(thaw(overlap_spec), f"{S}.overlap_fig")
        lesson.chart(thaw(upsample_spec), f"{S}.upsample_fig")
        st.caption(t(f"{S}.notice.checker"))
if tabs[4].open:
    with tabs[4], safely():
        for name, col in zip(("filter", "channels"), st.columns(2)):
            control(bound, name, col)
        lesson.chart(thaw(feature_maps(v["filter"], v["channels"], seed, lang())), f"{S}.maps_fig")
        st.caption(t(f"{S}.notice.channels", luma=", ".join(map(str, conv.LUMA))))
        st.markdown(f"**{t(f'{S}.cost.title')}**")
        for name, col in zip(experiment.COST, st.columns(6)):
            control(bound, name, col, label=t(f"{S}.cost.{name.removeprefix('cost_')}"))
        h, w, n_in, m, kk, g = (v[name] for name in experiment.COST)
        if n_in % g or m % g:
            st.warning(t(f"{S}.cost.bad_groups", g=g, n=n_in, m=m))
        st.dataframe(figs.cost_table(conv.cost_rows(h, w, n_in, m, kk, g), labels(f"{S}.cost", figs.COST_LABELS)),
                     hide_index=True)
        st.caption(t(f"{S}.notice.cost", m=m, k=kk, ratio=1 / m + 1 / kk**2))

lesson.presets(bound, PRESETS)
lesson.code_that_ran(conv.conv_output_size, conv.conv_transpose_output_size, conv.conv2d_trace,
                     conv.conv_transpose2d_views, conv.conv_matrix, conv.matrix_view, conv.upsample_x2, conv.conv_cost)
sync_url(bound)
