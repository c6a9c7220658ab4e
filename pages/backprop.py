"""Lesson: backpropagation node by node, gradient checking and the matrix case (notes 003 §4, 001 BP, 004 MLP)."""

import streamlit as st
import torch

from dlcore import backprop as bp
from dlcore.expr import ExpressionError
from ui import lesson
from ui.controls import control
from ui.experiments import backprop as experiment
from ui.figures import backprop as figs
from ui.figures.common import freeze, thaw
from ui.i18n import labels, lang, t
from ui.runtime import safely
from ui.state import bind, global_seed, sync_url

S = "backprop"

lesson.header(S)
lesson.concept(S, expanded=False)
bound = bind(S, experiment.SETTINGS)
GRAPH_TAB = {f"{S}.tab": t(f"{S}.tabs.graph")}
PRESETS = [lesson.Preset(name, values, GRAPH_TAB) for name, values in experiment.PRESETS.items()]
lesson.predict(bound, PRESETS)
c = st.columns([3, 2])
control(bound, "expression", c[0])
control(bound, "values", c[1])
v, seed = bound.values(), global_seed()


def refusal(e: ExpressionError) -> str:
    """The translated reason an expression or a values text cannot be used."""
    why = t(f"{S}.errors.{e.code}", detail=e.detail, limit=bp.MAX_LENGTH, variables=bp.MAX_VARIABLES,
            nodes=bp.MAX_GRAPH_NODES, biggest=f"{bp.MAX_INPUT:g}") if e.code in experiment.ERRORS else e.code
    return t(f"{S}.bad_expression", why=why)


@lesson.cached(64)
def graph(expression: str, given: tuple[tuple[str, float], ...], language: str):
    """The trace's graph animation (frozen spec), its node table against autograd, and whether all is finite."""
    tr = bp.trace(expression, dict(given))
    spec = freeze(figs.graph_animation(tr, bp.staged_lines(tr), labels(f"{S}.fig", figs.GRAPH_LABELS)))
    table = figs.node_table(tr, bp.autograd_node_grads(tr), labels(f"{S}.table", figs.NODE_COLUMNS))
    return spec, table, tr.finite, tr.value


@lesson.cached(64)
def check(expression: str, given: tuple[tuple[str, float], ...], h: float, single: bool, language: str):
    """The gradient check's error-vs-h figure (frozen spec; float32 too if ``single``), its table at ``h``, and the
    best step (float64, and float32 or None)."""
    result = bp.gradient_check(expression, dict(given))
    result32 = bp.gradient_check(expression, dict(given), dtype=torch.float32) if single else None
    return (freeze(figs.check_figure(result, h, labels(f"{S}.fig", figs.CHECK_LABELS), result32)),
            figs.check_table(result, h, labels(f"{S}.table", figs.CHECK_COLUMNS)), bp.best_step(result),
            bp.best_step(result32) if single else None)


@lesson.cached(64)
def matrix(config: bp.NetConfig, mistake: str, language: str):
    """The matrix case's agreement figure (frozen spec), its shape table, and the chosen wrong transpose."""
    net, wrong = bp.two_layer_gradients(config), bp.wrong_transpose(config, mistake)
    sizes = {"N": config.n, "D": config.d, "H": config.hidden, "C": config.c}
    return (freeze(figs.shapes_figure(sizes, bp.PRODUCTS, wrong, labels(f"{S}.fig", figs.SHAPES_LABELS))),
            figs.shape_table(net, bp.GRADIENTS, labels(f"{S}.table", figs.SHAPE_COLUMNS)), net.loss, wrong)


try:
    expression, given, missing = experiment.inputs(v)
    pairs = tuple(given.items())
    spec, table, finite, value = graph(expression, pairs, lang())
except ExpressionError as e:
    st.error(refusal(e), icon=":material/error:")
    expression, pairs = None, ()
else:
    if missing:
        st.info(t(f"{S}.missing", names=", ".join(missing), value=experiment.DEFAULT_VALUE), icon=":material/info:")
tabs = st.tabs([t(f"{S}.tabs.{name}") for name in experiment.TABS], key=f"{S}.tab", on_change="rerun")
if tabs[0].open:
    with tabs[0], safely():
        if expression is not None:
            lesson.chart(thaw(spec), f"{S}.graph_fig")
            st.caption(t(f"{S}.notice.graph", value=figs.num(value)))
            if not finite:
                st.warning(t(f"{S}.not_finite"), icon=":material/warning:")
            st.markdown(f"**{t(f'{S}.autograd_title')}**")
            st.dataframe(table, hide_index=True)
if tabs[1].open:
    with tabs[1], safely():
        c = st.columns([3, 1])
        control(bound, "h", c[0])
        control(bound, "float32", c[1])
        st.latex(t(f"{S}.formula_check"))
        if expression is not None and pairs:
            check_spec, check_rows, best, best32 = check(expression, pairs, float(v["h"]), v["float32"], lang())
            lesson.chart(thaw(check_spec), f"{S}.check_fig")
            st.dataframe(check_rows, hide_index=True)
            st.caption(t(f"{S}.notice.check", best=f"{best:.0e}"))
            if best32 is not None:
                st.caption(t(f"{S}.notice.float32", best=f"{best32:.0e}"))
        elif expression is not None:
            st.info(t(f"{S}.no_variables"), icon=":material/info:")
if tabs[2].open:
    with tabs[2], safely():
        st.latex(t(f"{S}.formula_net"))
        st.latex(t(f"{S}.formula_net_back"))
        for name, col in zip(("n", "d", "hidden", "c"), st.columns(4)):
            control(bound, name, col)
        net_spec, shapes, loss, wrong = matrix(experiment.net_config(v, seed), v["mistake"], lang())
        st.dataframe(shapes, hide_index=True)
        st.caption(t(f"{S}.notice.net", loss=f"{loss:.4f}"))
        st.markdown(f"**{t(f'{S}.mistake_title')}**")
        control(bound, "mistake", horizontal=True)
        lesson.chart(thaw(net_spec), f"{S}.shapes_fig")
        (ra, ca), (rb, cb) = wrong.operands
        st.markdown(t(f"{S}.mistake_shapes", target=wrong.target, formula=wrong.formula, ra=ra, ca=ca, rb=rb, cb=cb,
                      expected=" × ".join(map(str, wrong.expected))))
        if wrong.error:
            st.code(f"RuntimeError: {wrong.error}", language=None)
            st.caption(t(f"{S}.notice.mistake_error"))
        else:
            st.warning(t(f"{S}.mistake_silent", right=t(f"{S}.yes") if wrong.values_right else t(f"{S}.no")),
                       icon=":material/warning:")

lesson.presets(bound, PRESETS)
lesson.code_that_ran(bp.trace, bp.local_gradients, bp.staged_lines, bp.gradient_check, bp.two_layer_gradients,
                     bp.wrong_transpose)
sync_url(bound)
