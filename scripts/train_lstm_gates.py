"""Train the LSTM-gates lesson's bundled models and the RNN-vs-LSTM length sweep, deterministically.

    python scripts/train_lstm_gates.py          # ~1 minute on one CPU thread

Writes assets/models/lstm_gates/{recall,brackets,adding}.pt (dicts for ``torch.load(weights_only=True)``,
read by ``dlcore.sequences.tasks.unpack``) and sweep.json (recall accuracy at the training length, per model kind).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dlcore.sequences import tasks as seq_tasks  # noqa: E402

OUT = ROOT / "assets" / "models" / "lstm_gates"
SWEEP_LENGTHS = (5, 10, 20, 30, 40, 60)
SWEEP_KINDS = ("lstm", "gru", "rnn_tanh")


def train(config: seq_tasks.TrainConfig) -> seq_tasks.TrainState:
    state = seq_tasks.init_training(config)
    while not state.done:
        seq_tasks.train_steps(state, 100)
    return state


def main() -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    OUT.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for task in seq_tasks.TASKS:
        state = train(seq_tasks.TrainConfig.for_task(task, target=None))  # the full schedule: cleaner gates
        torch.save(seq_tasks.pack(state), OUT / f"{task}.pt")
        print(f"{task}: {state.step} steps, accuracy {state.accuracy:.3f}, {state.seconds:.1f} s")
    sweep: dict[str, list[float]] = {}
    for kind in SWEEP_KINDS:
        sweep[kind] = []
        for length in SWEEP_LENGTHS:
            state = train(seq_tasks.TrainConfig.for_task("recall", kind=kind, max_len=length, hidden=8, target=None))
            sweep[kind].append(round(seq_tasks.accuracy_at(state.model, "recall", length), 4))
        print(f"sweep {kind}: {sweep[kind]}")
    doc = {"task": "recall", "lengths": list(SWEEP_LENGTHS), "accuracy": sweep,
           "note": "accuracy on 512 fresh sequences of exactly the training length; chance = 0.25"}
    (OUT / "sweep.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"done in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
