"""dlcore.sequences.tasks: typed-sequence validation, data, the bundled models actually solving their tasks, and
the hand-written gate trace agreeing with the torch layer."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from dlcore.device import generator
from dlcore.sequences import tasks

MODELS = Path(__file__).resolve().parents[3] / "assets" / "models" / "lstm_gates"


@pytest.mark.parametrize("task,text,valid,code", [
    ("recall", "b 1 2 3", ["b", "1", "2", "3"], None),
    ("recall", "B123", ["b", "1", "2", "3"], None),            # upper case is read as lower case
    ("recall", "5123", [], "bad_first"),
    ("recall", "b12x34", ["b", "1", "2"], "bad_symbol"),
    ("recall", "", [], "empty"),
    ("recall", "   ", [], "empty"),
    ("brackets", "(a)(", ["(", "a", ")", "("], None),
    ("brackets", "(a))", ["(", "a", ")"], "unbalanced"),
    ("brackets", "((((((()))))))", ["("] * 6, "too_deep"),
    ("brackets", "(a1)", ["(", "a"], "bad_symbol"),
    ("adding", "1*23*4", ["1", "*2", "3", "*4"], None),
    ("adding", "1**2", ["1"], "mark"),
    ("adding", "*1*2*3", ["*1", "*2"], "marks"),
    ("adding", "12*", ["1", "2"], "mark"),
    ("adding", "1a", ["1"], "bad_symbol"),
])
def test_tokenize_keeps_the_valid_prefix_and_names_the_problem(task, text, valid, code):
    tokens, problem = tasks.tokenize(task, text)
    assert tokens == valid
    assert (problem.code if problem else None) == code


def test_tokenize_cuts_overlong_sequences_at_the_cap():
    tokens, problem = tasks.tokenize("recall", "a" + "1" * 150)
    assert len(tokens) == tasks.MAX_TYPED and problem.code == "too_long"


def test_targets_are_first_symbol_depth_and_running_sum():
    np.testing.assert_array_equal(tasks.targets("recall", ["c", "1", "2"]), [2, 2, 2])
    np.testing.assert_array_equal(tasks.targets("brackets", list("((a)(")), [1, 2, 2, 1, 2])
    np.testing.assert_allclose(tasks.targets("adding", ["9", "*9", "3", "*4"]), [0, 1, 1, 1 + 4 / 9])


@pytest.mark.parametrize("task", list(tasks.TASKS))
def test_random_batches_have_the_promised_structure(task):
    x, y = tasks.batch(task, 64, 30, generator(0))
    assert x.shape == (64, 30, tasks.TASKS[task].n_in)
    if task == "recall":
        assert y.shape == (64,) and (x[:, 0, :4].argmax(-1) == y).all() and (x[:, 1:, :4] == 0).all()
    elif task == "brackets":
        step = x[..., 0] - x[..., 1]                     # +1 on "(", -1 on ")"
        torch.testing.assert_close(step.cumsum(1).long(), y)
        assert y.min() >= 0 and y.max() <= tasks.MAX_DEPTH
    else:
        assert (x[..., 1].sum(1) == 2).all()             # exactly two marks
        torch.testing.assert_close(y[:, -1], (x[..., 0] * x[..., 1]).sum(1))


def test_encode_matches_the_training_encoding():
    tokens, _ = tasks.tokenize("brackets", "(a)")
    torch.testing.assert_close(tasks.encode("brackets", tokens), torch.eye(3)[[0, 2, 1]])
    torch.testing.assert_close(tasks.encode("adding", ["*9", "0"]), torch.tensor([[1.0, 1.0], [0.0, 0.0]]))


@pytest.fixture(scope="module")
def bundled():
    out = {}
    for task in tasks.TASKS:
        blob = torch.load(MODELS / f"{task}.pt", weights_only=True)
        out[task] = (*tasks.unpack(blob), blob)
    return out


def test_bundled_weight_files_are_small():
    files = list(MODELS.glob("*.pt"))
    assert len(files) == 3
    assert all(f.stat().st_size < 100_000 for f in files)


@pytest.mark.parametrize("task,overall,longest", [("recall", 0.99, 0.99), ("brackets", 0.98, 0.98),
                                                  ("adding", 0.95, 0.90)])
def test_bundled_models_solve_their_tasks_on_fresh_sequences(bundled, task, overall, longest):
    model, config, blob = bundled[task]
    assert config.kind == "lstm"
    assert tasks.evaluate(model, config) >= overall                          # lengths min_len..max_len
    assert tasks.accuracy_at(model, task, config.max_len) >= longest        # only the longest training length


def test_bundled_recall_model_holds_the_symbol_beyond_its_training_length(bundled):
    model, config, _ = bundled["recall"]
    tokens = ["d"] + list("0123456789" * 9)                                  # 91 steps, trained up to 40
    tr = tasks.trace(model, "recall", tokens)
    assert tasks.answer_text("recall", tr.prediction[-1]) == "d"


@pytest.mark.parametrize("task", list(tasks.TASKS))
def test_trace_uses_hand_written_cell_equal_to_the_torch_layer(bundled, task):
    model, _, _ = bundled[task]
    tokens, _ = tasks.tokenize(task, tasks.TASKS[task].example)
    tr = tasks.trace(model, task, tokens)
    with torch.inference_mode():
        out, _ = model.rnn(tasks.encode(task, tokens)[None])
    np.testing.assert_allclose(tr.gates["h"], out[0].T.numpy(), rtol=1e-5, atol=1e-6)
    for k in ("i", "f", "o"):
        assert ((tr.gates[k] >= 0) & (tr.gates[k] <= 1)).all()
    np.testing.assert_allclose(tr.prediction[-1], tr.target[-1], atol=tasks.ADD_TOLERANCE)


def test_unit_roles_find_memories_and_counters(bundled):
    model, config, _ = bundled["recall"]
    assert tasks.unit_roles(model, config).role.count("memory") >= 1
    for task in ("brackets", "adding"):
        model, config, _ = bundled[task]
        roles = tasks.unit_roles(model, config)
        assert roles.role.count("counter") >= 1 and roles.score.max() >= tasks.COUNTER_SCORE
        assert ((roles.keep > 0) & (roles.keep < 1)).all()


def test_sweep_shows_tanh_rnn_failing_where_lstm_succeeds():
    sweep = json.loads((MODELS / "sweep.json").read_text())
    lengths, acc = sweep["lengths"], sweep["accuracy"]
    at = {kind: dict(zip(lengths, a)) for kind, a in acc.items()}
    assert all(at["lstm"][n] >= 0.95 for n in lengths)
    assert at["rnn_tanh"][5] >= 0.95
    assert all(at["rnn_tanh"][n] < 0.6 for n in lengths if n >= 20)


def test_training_is_deterministic_and_bounded():
    cfg = tasks.TrainConfig.for_task("recall", max_len=10, steps=60, eval_every=30)
    a, b = tasks.init_training(cfg), tasks.init_training(cfg)
    tasks.train_steps(a, 100), tasks.train_steps(b, 100)
    assert a.step == b.step == 60 and len(a.history) == 2
    for p, q in zip(a.model.parameters(), b.model.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


@pytest.mark.parametrize("change,match", [
    ({"steps": tasks.MAX_TRAIN_STEPS + 1}, "Invalid steps"), ({"max_len": tasks.MAX_TRAIN_LEN + 1}, "Invalid max_len"),
    ({"max_len": 2}, "Invalid max_len: 2"), ({"hidden": tasks.MAX_HIDDEN + 1}, "Invalid hidden size"),
    ({"kind": "transformer"}, "Invalid model kind"), ({"task": "shuffle"}, "Invalid task"),
])
def test_train_config_caps_are_value_errors(change, match):
    with pytest.raises(ValueError, match=match):
        tasks.TrainConfig(**change)


def test_typed_input_over_the_cap_is_a_value_error():
    model = tasks.make_model(tasks.TrainConfig.for_task("recall"))
    with pytest.raises(ValueError, match="Invalid sequence length"):
        tasks.trace(model, "recall", ["a"] + ["1"] * tasks.MAX_TYPED)
    with pytest.raises(ValueError, match="Invalid task"):
        tasks.tokenize("shuffle", "abc")


@pytest.mark.slow
def test_live_retraining_reaches_95_percent_on_recall_and_brackets_quickly():
    """Quickly in steps, not seconds (tests never fail on timing; ``python -m bench`` reports the seconds): the
    target is reached with steps of the run's budget to spare."""
    for task in ("recall", "brackets"):
        state = tasks.init_training(tasks.TrainConfig.for_task(task, target=0.95))
        while not state.done:
            tasks.train_steps(state, 50)
        assert state.accuracy >= 0.95 and state.step < state.config.steps, (task, state.step, state.accuracy)
