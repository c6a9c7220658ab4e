"""ui.figures.seq2seq: the beam tree shows what the search kept and pruned; every spec is valid Plotly."""

import plotly.graph_objects as go
import pytest

from dlcore.seq2seq import beam_trace, greedy_search, search
from ui.figures import seq2seq as figs

LAB = {k: k for k in figs.LABELS}


def _tree(toy, k, max_pruned=2):
    tr = beam_trace(toy.step_log_probs, 0, 1, k, 5)
    nodes = [(n.step, n.tokens, n.log_prob, n.kept) for n in tr.nodes]
    greedy = greedy_search(toy.step_log_probs, 0, 1, 5)[0]
    spec = figs.beam_tree(nodes, toy.vocab, tr.results[0][0], LAB, greedy=greedy, max_pruned=max_pruned).to_dict()
    go.Figure(spec)                                       # Plotly validates the plain JSON
    return tr, {t["name"]: t for t in spec["data"] if t.get("name")}


def test_tree_of_the_greedy_trap_labels_every_kept_candidate_with_its_log_probability():
    tr, traces = _tree(search.toy_greedy_trap(), 2)
    kept = [n for n in tr.nodes if n.kept]
    assert len(traces["kept"]["text"]) == len(kept)
    assert "B -0.92" in traces["kept"]["text"] and "A -0.69" in traces["kept"]["text"]
    assert list(traces["best"]["x"]) == [0, 1, 2, 3]       # <bos> B D <eos>
    assert list(traces["greedy_path"]["x"]) == [0, 1, 2, 3]
    assert traces["best"]["y"][1] != traces["greedy_path"]["y"][1]   # they part at step 1


@pytest.mark.parametrize("max_pruned", [0, 1, 2])
def test_tree_shows_at_most_max_pruned_pruned_children_per_parent(max_pruned):
    tr, traces = _tree(search.toy_too_short(), 1, max_pruned)
    parents = {n.tokens[:-1] for n in tr.nodes if n.kept and n.tokens[-1] != 1} | {()}
    assert len(traces["pruned"]["text"]) <= max_pruned * len(parents)


def test_other_figures_are_valid_and_keep_their_values():
    import numpy as np

    probs = np.full((2, 3), 1 / 3)
    for fig in (figs.distributions(probs, ["<bos>", "<eos>", "a"], ["a", "<eos>"], LAB),
                figs.encoder_states(np.zeros((3, 20)), list("123"), LAB),
                figs.alignment(np.eye(2), list("12"), ["a", "b"], LAB),
                figs.bleu_bars([0.5, 0.25], 0.9, 0.3, LAB),
                figs.test_bleu(["g", "b"], [0.5, 0.6], [0.2, 0.3], LAB),
                figs.curves({"x": [(50, 1.0, 0.5, 0.9), (100, 0.5, 0.8, 0.4)]}, LAB),
                figs.perplexity_bars(["m", "u"], [1.01, 32.0], LAB),
                figs.encoder_bars(["a", "b"], [0.8, 0.9], LAB)):
        go.Figure(fig.to_dict())
    assert list(figs.bleu_bars([0.5, 0.25], 0.9, 0.3, LAB).data[0].y) == [0.5, 0.25, 0.9, 0.3]
    from ui.figures.common import unpack

    assert unpack(figs.encoder_states(np.zeros((3, 20)), list("123"), LAB).to_dict())["data"][0]["z"].shape == (16, 3)


def test_encoder_states_reveal_one_more_token_per_frame():
    import numpy as np

    from ui.figures.common import unpack

    states = np.arange(3 * 20, dtype=np.float32).reshape(3, 20) / 100
    spec = unpack(figs.encoder_states(states, list("123"), LAB).to_dict())
    go.Figure(spec)
    assert [f["name"] for f in spec["frames"]] == ["1: 1", "2: 2", "3: 3"]
    for s, frame in enumerate(spec["frames"]):
        z = frame["data"][0]["z"]
        assert np.isnan(z[:, s + 1:]).all() and not np.isnan(z[:, :s + 1]).any()
        np.testing.assert_allclose(z[:, :s + 1], states[:s + 1, :16].T)
    np.testing.assert_allclose(spec["data"][0]["z"], states[:, :16].T)   # opens on every state
