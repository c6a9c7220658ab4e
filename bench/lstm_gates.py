"""LSTM-gates lesson: gate heatmaps for a 100-step sequence, the step-through, gradient flow, training speed."""

from __future__ import annotations

import time

import torch

from bench import Row, best_of


def run() -> list[Row]:
    from dlcore.sequences import rnn, tasks
    from ui.figures import lstm_gates as figs

    rows: list[Row] = []
    blob = torch.load("assets/models/lstm_gates/recall.pt", weights_only=True)
    model, config = tasks.unpack(blob)
    roles = tasks.unit_roles(model, config)
    tokens = ["a"] + list("1234567890" * 10)[:99]                        # 100 steps, the cap

    def heatmaps():
        tr = tasks.trace(model, "recall", tokens)
        panels = [(k, tr.gates[k], k == "c") for k in "ifoc"]
        return figs.gate_heatmaps(tr.tokens, panels, [f"u{k}" for k in range(4)], tr.prediction, tr.target,
                                  title="t", pred_name="p", target_name="y", answer_axis="a", step="s")
    rows.append(Row("lstm_gates", "gate trace, 100 steps (hand-written cell)",
                    best_of(lambda: tasks.trace(model, "recall", tokens)), "ms", "target <= 100 ms with the figure"))
    rows.append(Row("lstm_gates", "gate trace + heatmap figure, 100 steps", best_of(heatmaps), "ms",
                    f"JSON {len(heatmaps().to_json()) / 1024:.0f} KB"))
    rows.append(Row("lstm_gates", "unit roles (512 eval sequences)", best_of(lambda: tasks.unit_roles(model, config),
                                                                            repeat=3), "ms", str(roles.role)))
    cfg = rnn.CellConfig(hidden=4, h=(0.5,) * 4, c=(1.0,) * 4)
    rows.append(Row("lstm_gates", "step-through (1 step + 20 memory steps)",
                    best_of(lambda: rnn.step_through(cfg)), "ms"))
    for T, H in [(100, 16), (rnn.MAX_FLOW_LEN, rnn.MAX_FLOW_HIDDEN)]:
        fc = rnn.FlowConfig(seq_len=T, hidden=H)
        rows.append(Row("lstm_gates", f"gradient flow, 4 kinds, T={T}, H={H}",
                        best_of(lambda fc=fc: [rnn.flow(k, fc) for k in rnn.KINDS], repeat=3), "ms"))

    # training speed: our train_steps against a plain PyTorch loop of the same model and data
    tc = tasks.TrainConfig.for_task("recall", max_len=40, target=None, eval_every=10_000)
    state = tasks.init_training(tc)
    t0 = time.perf_counter()
    tasks.train_steps(state, 200)
    ours = 200 / (time.perf_counter() - t0)
    plain = tasks.make_model(tc)
    opt = torch.optim.Adam(plain.parameters(), lr=tc.lr)
    g = torch.Generator().manual_seed(1)
    t0 = time.perf_counter()
    for _ in range(200):
        n = int(torch.randint(5, 41, (1,), generator=g))
        x, y = tasks.batch("recall", tc.batch, n, g)
        loss = torch.nn.functional.cross_entropy(plain(x)[:, -1], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    base = 200 / (time.perf_counter() - t0)
    rows.append(Row("lstm_gates", "train steps/s, recall LSTM (ours: clip + schedule)", ours, "steps/s"))
    rows.append(Row("lstm_gates", "train steps/s, plain PyTorch loop", base, "steps/s", f"ratio {ours / base:.2f}"))
    for task in tasks.TASKS:
        st = tasks.init_training(tasks.TrainConfig.for_task(task, target=0.95))
        t0 = time.perf_counter()
        while not st.done:
            tasks.train_steps(st, 50)
        rows.append(Row("lstm_gates", f"live retrain {task} to >= 95%", time.perf_counter() - t0, "s",
                        f"{st.step} steps, accuracy {st.accuracy:.3f}; cap 30 s"))
    return rows
