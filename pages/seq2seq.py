"""Lesson: sequence to sequence — a GRU encoder-decoder translating numbers; greedy, beam and exhaustive search; BLEU;
teacher forcing and perplexity (notes 004: d2l "Seq2Seq", "Beam Search"; 001: bidirectional RNN)."""

from functools import partial

import streamlit as st

from dlcore.seq2seq import model as s2s
from dlcore.seq2seq import number_words as nw
from dlcore.seq2seq import search
from ui import lesson, progress
from ui.controls import control
from ui.experiments import seq2seq as experiment
from ui.figures import seq2seq as figs
from ui.figures.common import thaw
from ui.i18n import labels, option_names, t
from ui.runtime import offload, safely
from ui.state import bind, global_seed, sync_url

S = "seq2seq"
lab = partial(labels, f"{S}.fig", figs.LABELS)   # the figures' labels in the learner's language (they key the caches)
decode = lesson.cached(64)(experiment.decode_view)
walk = lesson.cached(64)(experiment.walk_view)
bleu_one = lesson.cached(64)(experiment.bleu_view)
test_bleu = lesson.cached(32, ttl=None)(experiment.heldout_bleu_figure)
perplexity = lesson.cached(16, ttl=None)(experiment.perplexity_view)
train_fig = lesson.cached(32)(experiment.train_figure)


@lesson.cached(64, ttl=None)
def trained(what: str, config: s2s.TrainConfig) -> object:
    """One short training run in the training workers, kept for the class: its history, or its test accuracy."""
    return offload(s2s.train_curves if what == "curves" else s2s.encoder_accuracy, config)


lesson.header(S)
lesson.concept(S, expanded=False)
bound, seed = bind(S, experiment.SETTINGS), global_seed()
names = labels(f"{S}.tabs", experiment.VIEWS)
PRESETS = [lesson.Preset(name, values, {f"{S}.tab": names[values["view"]]})
           for name, values in experiment.PRESETS.items()]   # a preset opens its tab
lesson.predict(bound, PRESETS)
if st.session_state.get(f"{S}.tab") not in names.values():   # first run, a shared link, or a new language
    st.session_state[f"{S}.tab"] = names[st.session_state[f"{S}.view"]]

c = st.columns([1.3, 1.2, 0.9, 1.3])
control(bound, "source", c[0])
toy = st.session_state[f"{S}.source"] in ("greedy_trap", "too_short")
control(bound, "direction", c[1], disabled=toy)
control(bound, "attention", c[2], disabled=toy)
control(bound, "text", c[3], disabled=toy)
v = bound.values()
tr = experiment.translation(v)
if not toy:
    try:
        nw.parse(tr.text)
    except nw.NumberTextError as err:
        st.error(t(f"{S}.problems.{err.code}", pos=err.position + 1, token=err.token, n=nw.MAX_NUMBER,
                   chars=nw.MAX_CHARS, mark=experiment.mark(tr.text, err)), icon=":material/error:")
        tr = experiment.translation(experiment.DEFAULTS | {"source": tr.source, "direction": tr.direction,
                                                           "attention": tr.attention})
tabs = dict(zip(experiment.VIEWS, st.tabs(list(names.values()), key=f"{S}.tab", on_change="rerun")))
st.session_state[f"{S}.view"] = next((view for view, tab in tabs.items() if tab.open), "decode")
strategy = option_names(f"{S}.strategies", experiment.STRATEGIES)

if tabs["decode"].open:
    with tabs["decode"], safely():
        for name, col in zip(("beam", "alpha", "max_len"), st.columns(3)):
            control(bound, name, col)
        spec, r = decode(tr, experiment.search_of(v := bound.values()), lab())
        if r.read_as is not None:
            st.caption(t(f"{S}.read_as", n=r.read_as, src=r.source_text))
        lesson.chart(thaw(spec), f"{S}.tree_fig")
        st.dataframe(experiment.shown_table(r, strategy, labels(f"{S}.cols", experiment.COLUMNS)), hide_index=True)
        if r.exhaustive_size > experiment.MAX_EXHAUSTIVE:
            st.warning(t(f"{S}.exhaustive_refused", y=r.vocab, t=v["max_len"], size=f"{r.exhaustive_size:.2g}",
                         cap=f"{experiment.MAX_EXHAUSTIVE:,}"), icon=":material/block:")
        st.caption(t(f"{S}.notice.{'toy' if toy else 'decode'}", k=v["beam"], y=r.vocab))

if tabs["encdec"].open:
    with tabs["encdec"], safely():
        if toy:
            st.info(t(f"{S}.toy_has_no_encoder"), icon=":material/info:")
        else:
            control(bound, "force")
            specs, txt = walk(tr, bound.values()["force"], lab())
            st.markdown(t(f"{S}.exposure", **txt, rank=bound.values()["force"]))
            for spec, key in zip(specs, ("steps_fig", "states_fig", "dist_fig", "align_fig")):
                lesson.chart(thaw(spec), f"{S}.{key}")
            st.caption(t(f"{S}.notice.{'attention' if tr.attention else 'plain'}"))
            st.page_link("pages/attention.py", label=t(f"{S}.attention_link"), icon=":material/visibility:")

if tabs["bleu"].open:
    with tabs["bleu"], safely():
        c = st.columns([2, 2, 1])
        for name, col in zip(("candidate", "reference", "bleu_k"), c):
            control(bound, name, col)
        v = bound.values()
        if not experiment.bleu_tokens(v["reference"]):
            st.error(t(f"{S}.empty_reference"), icon=":material/error:")
        else:
            parts, spec = bleu_one(v["candidate"], v["reference"], v["bleu_k"], lab())
            lesson.chart(thaw(spec), f"{S}.bleu_fig")
            st.dataframe(experiment.ngram_table(parts, labels(f"{S}.ngram_cols", experiment.NGRAM_COLUMNS)),
                         hide_index=True)
        if toy:
            st.info(t(f"{S}.toy_has_no_test_set"), icon=":material/info:")
        else:
            r = decode(tr, experiment.search_of(v), lab())[1]
            st.markdown(t(f"{S}.model_bleu", src=r.source_text, ref=experiment.render(r.reference, r.language)))
            cols = labels(f"{S}.cols", ("strategy", "output", "bleu"))
            st.dataframe(experiment.bleu_rows(r, v["bleu_k"], strategy, cols), hide_index=True)
            with st.spinner(t(f"{S}.computing")):
                spec, res = test_bleu(tr.direction, tr.attention, tr.source == "early", v["beam"], v["alpha"],
                                      v["bleu_k"], strategy, lab())
            lesson.chart(thaw(spec), f"{S}.test_fig")
            st.caption(t(f"{S}.notice.test_bleu", k=v["beam"], alpha=v["alpha"], n=s2s.TEST_SIZE))

if tabs["train"].open:
    with tabs["train"], safely():
        direction, attention = ("digits-en", False) if toy else (tr.direction, tr.attention)
        for what in ("curves", "encoders"):
            st.markdown(t(f"{S}.intro.{what}", steps=experiment.CURVE_STEPS))
            if asked := st.button(t(f"{S}.go.{what}"), key=f"{S}.go_{what}", icon=":material/model_training:"):
                st.session_state[f"{S}._{what}"] = True
            configs = experiment.train_configs(what, direction, attention, seed)
            with progress.training(f"{S}.{what}_run", what="", job=configs, asked=asked,
                                   auto=bool(st.session_state.get(f"{S}._{what}"))) as run:
                if run:   # each run kept for the class
                    out = [trained(what, c) for c in run.track(configs, lambda _, i, n: t(f"{S}.training", i=i, n=n))]
                    names = labels(f"{S}.runs", experiment.RUNS[what])
                    lesson.chart(thaw(train_fig(what, out, names, lab())), f"{S}.{what}_fig")
                    st.caption(t(f"{S}.notice.{what}"))
        spec, p = perplexity(direction, attention, tr.source == "early", labels(f"{S}.lms", experiment.LMS), lab())
        lesson.chart(thaw(spec), f"{S}.ppl_fig")
        st.caption(t(f"{S}.notice.perplexity", model=f"{p.seq2seq:.3f}", bigram=f"{p.bigram:.2f}",
                     unigram=f"{p.unigram:.2f}", y=p.vocab))

lesson.presets(bound, PRESETS)
lesson.code_that_ran(search.beam_search, search.beam_trace, search.greedy_search, search.exhaustive_trace,
                     search.bleu_parts, s2s.Seq2Seq, s2s.StepScorer, s2s.walkthrough, s2s.train_steps, s2s.perplexities)
sync_url(bound)
