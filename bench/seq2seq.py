"""Seq2seq lesson: translating one number, beam search with its tree, exhaustive search at its cap, BLEU over the
held-out set, live training against a plain PyTorch loop, and the page's reruns.

Targets (the lesson's issue): greedy translation of one number <= 10 ms; beam 8 with the tree figure <= 100 ms;
BLEU over the 500 held-out numbers per strategy <= 2 s (cached for the class); live training >= 90% of a plain
PyTorch loop's steps/s; any page interaction <= 150 ms of server CPU.
"""

from __future__ import annotations

import json
import time

import torch

from bench import Row, best_of

B = "seq2seq"


def _labels() -> dict[str, str]:
    from ui.figures import seq2seq as figs
    from ui.i18n import strings

    table = strings("en")
    return {k: table[f"seq2seq.fig.{k}"] for k in figs.LABELS}


def _search_rows() -> list[Row]:
    from dlcore.seq2seq import greedy_search
    from dlcore.seq2seq import model as s2s
    from dlcore.seq2seq import number_words as nw
    from ui.experiments import seq2seq as experiment

    rows = []
    for attention in (False, True):
        m = experiment.model("digits-en", attention)
        kind = "attention" if attention else "plain"

        def greedy(m=m):   # a fresh scorer: encode once, then one decoder step per token
            return greedy_search(s2s.StepScorer(m, m.src_vocab.ids(nw.to_digits(7777))), 0, 1, 10)
        rows.append(Row(B, f"greedy translation of 7777 (9 tokens), {kind}", best_of(greedy, repeat=10), "ms",
                        "target <= 10 ms"))
    lab = _labels()
    for beam, max_len in ((8, 10), (16, 16)):
        tr = experiment.Translation("trained", "digits-en", True, "7777")
        s = experiment.Search(beam, 0.75, max_len)
        view = lambda tr=tr, s=s: json.dumps(experiment.decode_view(tr, s, lab)[0])   # noqa: E731
        rows.append(Row(B, f"beam {beam} + greedy + tree figure + JSON, T={max_len}, attention", best_of(view, 3),
                        "ms", f"target <= 100 ms; JSON {len(view()) / 1024:.0f} KB"))
    for source in ("early", "trained"):
        tr = experiment.Translation(source, "digits-zh", True, "7777")
        walk = lambda tr=tr: json.dumps(experiment.walk_view(tr, 2, lab)[0])   # noqa: E731
        rows.append(Row(B, f"encoder-decoder tab: walkthrough + 4 figures + JSON, {source}, attention",
                        best_of(walk, 3), "ms", f"target <= 150 ms; JSON {len(walk()) / 1024:.0f} KB"))
    tr = experiment.Translation("trained", "digits-en", False, "7")
    s = experiment.Search(4, 0.75, 3)   # |Y|^T = 32^3 = 32,768 <= the cap
    rows.append(Row(B, "all three strategies, exhaustive at its cap (32^3 sequences)",
                    best_of(lambda: experiment.decode(tr, s), 3), "ms", "cached per setting"))
    for early in (False, True):
        t0 = time.perf_counter()
        experiment.heldout_bleu("digits-en", False, early, 8, 0.75, 4)
        rows.append(Row(B, f"BLEU of greedy and beam 8 on 500 held-out numbers, {'early' if early else 'trained'}",
                        (time.perf_counter() - t0) * 1000, "ms", "target <= 2 s per strategy; cached for the class"))
    return rows


def _training_rows() -> list[Row]:
    from dlcore.seq2seq import model as s2s

    cfg = s2s.TrainConfig(steps=s2s.MAX_STEPS, eval_every=s2s.MAX_STEPS)
    n, rounds = 20, 4
    state = s2s.init_training(cfg)
    plain = s2s.make_model(cfg.model)
    opt = torch.optim.Adam(plain.parameters(), lr=cfg.lr)
    g = torch.Generator().manual_seed(1)

    def plain_steps():   # the same model and data as ours: a fresh batch of numbers written out each step
        for _ in range(n):
            src, tgt_in, tgt_out = s2s.encode_batch(plain, s2s.sample_numbers(cfg.batch, g))
            logits = plain(src, tgt_in)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1),
                                                     ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            opt.step()

    ours_t, base_t = [], []
    for _ in range(rounds):   # interleaved, best of each: the machine is shared
        t0 = time.perf_counter()
        s2s.train_steps(state, n)
        ours_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        plain_steps()
        base_t.append(time.perf_counter() - t0)
    ours, base = n / min(ours_t), n / min(base_t)
    return [Row(B, "train steps/s, digits-en plain (ours: data + clip + schedule)", ours, "steps/s"),
            Row(B, "train steps/s, plain PyTorch loop (same model and data)", base, "steps/s",
                f"ratio {ours / base:.2f}; target >= 0.90")]


def _page_rows() -> list[Row]:
    import tests.support  # noqa: F401  (AppTest navigation-mode pin)
    from tests.support import open_page, widget

    at = open_page("pages/seq2seq.py", "en")
    rows = []
    reruns = []
    for _ in range(3):
        t0 = time.process_time()
        at.run()
        reruns.append(time.process_time() - t0)
    rows.append(Row(B, "page rerun at defaults (cached), server CPU", min(reruns) * 1000, "ms", "target <= 150 ms"))
    cpu = []
    for k in (5, 6, 7):
        t0 = time.process_time()
        widget(at, "seq2seq.beam").set_value(k).run()
        cpu.append(time.process_time() - t0)
    rows.append(Row(B, "page rerun after a new beam width (uncached), server CPU", max(cpu) * 1000, "ms",
                    "target <= 150 ms"))
    for tab in ("encdec", "bleu", "train"):
        from ui.i18n import strings

        at.session_state["seq2seq.tab"] = strings("en")[f"seq2seq.tabs.{tab}"]
        at.run()                                        # fills the class caches
        t0 = time.process_time()
        at.run()
        rows.append(Row(B, f"page rerun on the {tab} tab (cached), server CPU", (time.process_time() - t0) * 1000,
                        "ms", "target <= 150 ms"))
    return rows


def run() -> list[Row]:
    return _search_rows() + _training_rows() + _page_rows()
