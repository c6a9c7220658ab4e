"""Lesson: attention heatmaps — by hand, heads, positions, a trained toy Transformer, MiniLM (seed 004, 001)."""

from pathlib import Path

import numpy as np
import streamlit as st
import torch

from dlcore import attention as att
from dlcore import bert_attention as bert
from dlcore import transformer as tr
from ui import lesson
from ui.experiments import attention as experiment
from ui.figures import attention as figs
from ui.figures.common import freeze, thaw
from ui.grid_input import grid_editor
from ui.i18n import lang, t
from ui.runtime import heavy_slot, safely, train_in_chunks
from ui.state import Param, bind, global_seed, sync_url

MODELS = Path(__file__).resolve().parent.parent / "assets" / "models" / "attention"
VIEWS, KINDS = ("hand", "heads", "positions", "toy", "bert"), ("encoder", "decoder", "cross")
TEMPS = (0.01, 0.03, 0.1, 0.3, 0.5, 1.0, 2.0, 5.0, 10.0)
RUN, JUMP, PICK_MINE, TRAIN_BUDGET_S = "attention._run", "attention._jump", "attention._pick_mine", 40

lesson.header("attention")
lesson.concept("attention", expanded=False)
D = experiment.DEFAULTS
bound = bind("attention", [
    Param.choice("view", D["view"], VIEWS), Param.choice("source", D["source"], ["typed", "random"]),
    Param.bool("scaled", D["scaled"]), Param.int("n_tokens", D["n_tokens"], lo=2, hi=att.MAX_TOKENS),
    Param.choice("d_k", D["d_k"], att.D_K_STEPS), Param.bool("causal", D["causal"]), Param.choice("temperature", D["temperature"], TEMPS),
    Param.int("n_pad", D["n_pad"], lo=0, hi=att.MAX_TOKENS - 1), Param.choice("d_model", D["d_model"], [8, 16, 32, 64]),
    Param.choice("n_heads", D["n_heads"], [1, 2, 4, 8]), Param.bool("heads_causal", D["heads_causal"]),
    Param.int("pe_len", D["pe_len"], lo=2, hi=att.MAX_POSITIONS), Param.choice("pe_dim", D["pe_dim"], [8, 16, 32, 64]),
    Param.text("words", D["words"], max_len=80), Param.bool("use_pe", D["use_pe"]), Param.choice("kind", D["kind"], KINDS),
    Param.choice("task", D["task"], list(tr.TASKS)), Param.text("digits", D["digits"], max_len=40),
    Param.choice("model", D["model"], ["bundled", "mine"]), Param.text("sentence", D["sentence"], max_len=bert.MAX_CHARS),
    Param.int("layer", D["layer"], lo=1, hi=6), Param.int("head", D["head"], lo=1, hi=12),
    Param.int("token", D["token"], lo=0, hi=bert.MAX_TOKENS - 1),
])
seed, CACHE = global_seed(), {"max_entries": 64, "ttl": 3600, "show_spinner": False}


@st.cache_data(**CACHE)
def hand(q: np.ndarray, k: np.ndarray, v: np.ndarray, cfg: att.HandConfig):
    r = att.attention_by_hand(*(torch.from_numpy(m) for m in (q, k, v)), cfg)
    return {f: getattr(r, f).numpy() for f in ("scores", "logits", "weights", "output", "additive_weights", "row_sums")}


@st.cache_data(**CACHE)
def figure(name: str, language: str, *args) -> dict | tuple[dict, ...]:   # built once per inputs and language
    built = getattr(figs, name)(*args, t)                                     # (Plotly is the slow part)
    return tuple(map(freeze, built)) if isinstance(built, tuple) else freeze(built)


saturation = st.cache_data(**CACHE)(att.saturation_curve)    # keyed on (d_ks, n_tokens, seed)
heads = st.cache_data(**CACHE)(att.heads_demo)               # keyed on the frozen HeadsConfig
permuted = st.cache_data(**CACHE)(att.permutation_demo)      # keyed on (words, use_positions, seed)


@st.cache_resource(show_spinner=False)
def bundled(task: str) -> tuple[tr.TinyTransformer, float]:
    return tr.unpack(blob := torch.load(MODELS / f"{task}.pt", weights_only=True)), float(blob["accuracy"])


minilm = st.cache_resource(show_spinner=False)(lambda: bert.load_minilm(bert.model_dir()))  # read-only, shared by all


@st.cache_data(**CACHE)
def sentence_attention(text: str) -> tuple[bert.BertAttention, dict, float]:
    model, tokenizer = minilm()
    ours, theirs = bert.attention_from_scratch(model, tokenizer, text, layer=0)
    ba = bert.bert_attention(model, tokenizer, text)
    return ba, bert.head_panels(ba), float((ours - theirs).abs().max())


labels = {view: t(f"attention.tabs.{view}") for view in VIEWS}
if st.session_state.get("attention.tab") not in labels.values():   # first run, a shared link, or a new language
    st.session_state["attention.tab"] = labels[st.session_state["attention.view"]]
tabs = dict(zip(VIEWS, st.tabs(list(labels.values()), key="attention.tab", on_change="rerun")))
st.session_state["attention.view"] = next((v for v, tab in tabs.items() if tab.open), "hand")

if tabs["hand"].open:
    with tabs["hand"]:
        c = st.columns([1.2, 1, 1.6, 1, 1])
        c[0].segmented_control(t("attention.source"), ["typed", "random"], key="attention.source", required=True,
                               format_func={o: t(f"attention.sources.{o}") for o in ("typed", "random")}.get)
        c[1].toggle(t("attention.scaled"), key="attention.scaled", help=t("attention.help.scaled"))
        c[2].select_slider(t("attention.temperature"), TEMPS, key="attention.temperature", help=t("attention.help.temperature"))
        c[3].toggle(t("attention.causal"), key="attention.causal", help=t("attention.help.causal"))
        c[4].number_input(t("attention.n_pad"), 0, att.MAX_TOKENS - 1, step=1, key="attention.n_pad", help=t("attention.help.n_pad"))
        v = bound.values()
        if v["source"] == "random":
            c = st.columns(2)
            c[0].slider(t("attention.n_tokens"), 2, att.MAX_TOKENS, key="attention.n_tokens")
            c[1].select_slider(t("attention.d_k"), att.D_K_STEPS, key="attention.d_k", help=t("attention.help.d_k"))
            q, k, val = (m.numpy() for m in experiment.random_qkv(v, seed))
        else:
            st.caption(t("attention.typed_help", n=att.MAX_TOKENS, d=att.MAX_TYPED_DIM))
            c = st.columns(4)
            dims = [c[i].number_input(t(f"attention.shape.{name}"), 1, hi, default, step=1, key=f"attention.shape_{name}")
                    for i, (name, hi, default) in enumerate([("n_q", att.MAX_TOKENS, experiment.TYPED_SHAPE["n_q"]),
                                                             ("n_k", att.MAX_TOKENS, experiment.TYPED_SHAPE["n_k"]),
                                                             ("d_k", att.MAX_TYPED_DIM, experiment.TYPED_SHAPE["d_k"]),
                                                             ("d_v", att.MAX_TYPED_DIM, experiment.TYPED_SHAPE["d_v"])])]
            starts = dict(zip("QKV", (m.numpy() for m in att.example_qkv(*(int(x) for x in dims)))))
            typed = {}
            for col, (name, start) in zip(st.columns(3), starts.items()):
                col.markdown(f"**{name}**")
                with col:
                    typed[name], bad = grid_editor(f"attention.grid_{name}", start)
                if typed[name] is None:
                    st.error(t("attention.bad_grid", name=name, cells=", ".join(map(str, bad[:6]))), icon=":material/error:")
            q, k, val = (typed[n] if typed[n] is not None else starts[n] for n in "QKV")
        if (cfg := experiment.hand_config(v, seed, k.shape[0])).n_pad < v["n_pad"]:
            st.warning(t("attention.pad_capped", n=k.shape[0]))
        with safely():
            r = hand(q, k, val, cfg)
            scale = 1 / float(np.sqrt(q.shape[1])) if v["scaled"] else 1.0
            st.plotly_chart(thaw(figure("hand_figure", lang(), r, scale, v["temperature"])), key="attention.hand_fig")
            n_live, dev, dead = att.row_sum_report(torch.from_numpy(r["row_sums"]))
            st.success(t("attention.rows_sum", n=n_live, dev=f"{dev:.1e}") + " " + (
                t("attention.dead_rows", rows=", ".join(f"q{i + 1}" for i in dead)) if dead else ""), icon=":material/functions:")
            st.plotly_chart(thaw(figure("compare_figure", lang(), r)), key="attention.compare_fig")
            st.caption(t("attention.notice.additive"))
            if v["source"] == "random":
                sat = saturation(att.D_K_STEPS, v["n_tokens"], seed)
                st.plotly_chart(figs.saturation_figure(sat.d_k.numpy(), sat.max_weight.numpy(), sat.entropy.numpy(), v["d_k"], t),
                                key="attention.saturation_fig")

if tabs["heads"].open:
    with tabs["heads"]:
        c = st.columns(4)
        c[0].slider(t("attention.n_tokens"), 2, att.MAX_TOKENS, key="attention.n_tokens")
        c[1].select_slider(t("attention.d_model"), [8, 16, 32, 64], key="attention.d_model")
        c[2].segmented_control(t("attention.n_heads"), [1, 2, 4, 8], key="attention.n_heads", required=True)
        c[3].toggle(t("attention.causal"), key="attention.heads_causal")
        v = bound.values()
        hd = heads(experiment.heads_config(v, seed))
        toks, d_head = [f"x{i + 1}" for i in range(v["n_tokens"])], v["d_model"] // v["n_heads"]
        st.plotly_chart(thaw(figure("heads_figure", lang(), hd.result.weights[0].numpy(), toks, d_head)), key="attention.heads_fig")
        st.plotly_chart(thaw(figure("concat_figure", lang(), hd.result.concat[0].numpy(), hd.result.output[0].numpy(), toks, d_head)),
                        key="attention.concat_fig")
        st.success(t("attention.same_as_torch", **{k: f"{e:.1e}" for k, e in hd.max_error.items()}), icon=":material/check:")

if tabs["positions"].open:
    with tabs["positions"]:
        c = st.columns(2)
        c[0].slider(t("attention.pe_len"), 2, att.MAX_POSITIONS, key="attention.pe_len")
        c[1].select_slider(t("attention.pe_dim"), [8, 16, 32, 64], key="attention.pe_dim")
        v = bound.values()
        pe = att.positional_encoding(v["pe_len"], v["pe_dim"])
        st.plotly_chart(thaw(figure("positions_figure", lang(), pe.numpy(), (pe @ pe.T).numpy())), key="attention.pe_fig")
        c = st.columns([3, 1])
        c[0].text_input(t("attention.words"), key="attention.words", max_chars=80, help=t("attention.help.words", n=att.MAX_TOKENS))
        c[1].toggle(t("attention.use_pe"), key="attention.use_pe")
        words = tuple(st.session_state["attention.words"].split())
        if not 2 <= len(words) <= att.MAX_TOKENS:
            st.error(t("attention.bad_words", n=att.MAX_TOKENS), icon=":material/error:")
            words = tuple("the cat sat on the mat".split())
        p, use_pe = permuted(words, st.session_state["attention.use_pe"], seed), st.session_state["attention.use_pe"]
        st.plotly_chart(figs.permutation_figure(p.weights.numpy(), list(words), p.order, p.change.numpy(), t), key="attention.perm_fig")
        st.caption(t(f"attention.notice.{'with' if use_pe else 'without'}_pe", change=f"{float(p.change.max()):.2g}"))


def retrain_panel(task: str) -> None:
    steps = st.slider(t("attention.rt_steps"), 100, tr.MAX_TRAIN_STEPS, 600, step=100, key="attention.rt_steps")
    if st.button(t("attention.retrain"), key="attention.retrain_btn", type="primary", icon=":material/model_training:"):
        with heavy_slot() as ok, safely():
            if ok:
                state = tr.init_training(tr.TrainConfig(task=task, steps=steps, batch=64, seed=seed))
                bar = st.progress(0.0, text=t("attention.training"))
                state = train_in_chunks(tr.train_steps, state, budget_s=TRAIN_BUDGET_S, on_chunk=lambda s: bar.progress(
                    s.step / steps, text=t("attention.progress", step=s.step, steps=steps)))
                st.session_state[RUN], st.session_state[PICK_MINE] = state, True   # the selector may already be drawn: switch it next run
                st.rerun()
    if (state := st.session_state.get(RUN)) is not None and state.history:
        st.plotly_chart(figs.training_figure(state.history, t(f"attention.tasks.{state.config.task}"), state.seconds, t),
                        key="attention.training_fig")


if tabs["toy"].open:
    with tabs["toy"]:
        c = st.columns([1, 1, 1.4, 1])
        c[0].selectbox(t("attention.task"), tr.TASKS, key="attention.task", format_func={o: t(f"attention.tasks.{o}") for o in tr.TASKS}.get)
        c[1].selectbox(t("attention.kind"), KINDS, key="attention.kind", format_func={o: t(f"attention.kinds.{o}") for o in KINDS}.get)
        c[2].text_input(t("attention.digits"), key="attention.digits", max_chars=40, help=t("attention.help.digits", n=tr.MAX_LEN))
        if st.session_state.pop(PICK_MINE, False):   # just retrained: show my model (before its selector is drawn)
            st.session_state["attention.model"] = "mine"
        v, mine = bound.values(), st.session_state.get(RUN)
        if has_mine := mine is not None and mine.config.task == v["task"]:
            c[3].segmented_control(t("attention.model"), ["bundled", "mine"], key="attention.model", required=True,
                                   format_func={o: t(f"attention.models.{o}") for o in ("bundled", "mine")}.get)
        digits, problem = tr.parse_digits(v["digits"])
        if problem is not None:
            st.error(t(f"attention.problems.{problem.code}", pos=problem.position, sym=problem.symbol, n=tr.MAX_LEN), icon=":material/error:")
            digits = [3, 1, 4, 1, 5, 9, 2, 6]
        with safely():
            use_mine = has_mine and v["model"] == "mine"
            rd = tr.run_on(mine.model if use_mine else bundled(v["task"])[0], v["task"], digits)   # ~10 ms: not worth a cache
            st.markdown(t("attention.readout", src=" ".join(rd.source), out=" ".join(rd.output) or "∅", exp=" ".join(rd.expected),
                          ok=t(f"attention.{'right' if rd.correct else 'wrong'}")))
            st.plotly_chart(thaw(figure("toy_figure", lang(), getattr(rd.maps, v["kind"]).numpy(), v["kind"],
                                              t(f"attention.tasks.{v['task']}"), *rd.labels(v["kind"]))), key="attention.toy_fig")
            st.caption(t(f"attention.notice.toy_{v['kind']}") + ("" if use_mine else " " + t("attention.bundled_acc", acc=100 * bundled(v["task"])[1])))
        with st.expander(t("attention.retrain_title"), icon=":material/model_training:"):
            st.fragment(retrain_panel)(v["task"])

if tabs["bert"].open:
    with tabs["bert"]:
        if bert.model_dir() is None:
            st.info(t("attention.no_minilm"), icon=":material/download:")
        else:
            st.text_area(t("attention.sentence"), key="attention.sentence", max_chars=bert.MAX_CHARS, height=70,
                         help=t("attention.help.sentence", n=bert.MAX_TOKENS))
            text = st.session_state["attention.sentence"]
            if (why := bert.check_sentence(text)) is not None:
                st.error(t(f"attention.sentence_{why}", n=bert.MAX_CHARS), icon=":material/error:")
                text = bert.EXAMPLE
            with st.spinner(t("attention.loading")), safely():
                ba, panels, err = sentence_attention(text)
                L, H, T = ba.weights.shape[0], ba.weights.shape[1], len(ba.tokens)
                if (jump := st.session_state.pop(JUMP, None)) in panels:
                    st.session_state["attention.layer"], st.session_state["attention.head"] = (x + 1 for x in panels[jump][2])
                st.session_state["attention.token"] = min(st.session_state["attention.token"], T - 1)
                st.markdown(" ".join(f"`{tok}`" for tok in ba.tokens))
                if ba.cut or ba.n_unknown:
                    st.warning((t("attention.cut", n=ba.cut, cap=bert.MAX_TOKENS) if ba.cut else "") + " " + (
                        t("attention.unknown", n=ba.n_unknown) if ba.n_unknown else ""), icon=":material/translate:")
                st.plotly_chart(thaw(figure("bert_grid_figure", lang(), ba.weights, ba.tokens)), key="attention.grid_fig")
                c = st.columns(3)
                c[0].slider(t("attention.layer"), 1, L, key="attention.layer")
                c[1].slider(t("attention.head"), 1, H, key="attention.head")
                c[2].selectbox(t("attention.token"), list(range(T)), key="attention.token", format_func={i: f"{i}: {tok}" for i, tok in enumerate(ba.tokens)}.get)
                v = bound.values()
                pair = figure("bert_head_figures", lang(), ba.weights[v["layer"] - 1, v["head"] - 1], ba.tokens, v["layer"],
                              v["head"], v["token"])
                for col, fig, name in zip(st.columns([1.4, 1]), pair, ("head_fig", "lines_fig")):
                    col.plotly_chart(thaw(fig), key=f"attention.{name}")
                st.plotly_chart(thaw(figure("roles_figure", lang(), panels)), key="attention.roles_fig")
                st.plotly_chart(thaw(figure("averaged_figure", lang(), ba.averaged, ba.tokens)), key="attention.avg_fig")
                st.caption(t("attention.notice.bert", err=f"{err:.1e}"))

st.markdown(t("attention.notice.main"))
lesson.presets(bound, [lesson.Preset(name, values, {"attention.tab": labels[values["view"]],
                                                    **({JUMP: experiment.JUMP_TO[name]} if name in experiment.JUMP_TO else {})})
                       for name, values in experiment.PRESETS.items()])
lesson.code_that_ran(att.scaled_dot_product, att.masked_softmax, att.additive_attention, att.attention_by_hand, att.multi_head_attention,
                     att.positional_encoding, att.permutation_experiment, tr.Block, tr.run_on, tr.train_steps, bert.bert_attention, bert.head_roles)
sync_url(bound)
