"""Train the attention lesson's bundled toy Transformers (copy, reverse, sort) deterministically.

    python scripts/train_attention.py            # all three tasks, ~4 minutes on one CPU thread
    python scripts/train_attention.py sort       # one task

Writes assets/models/attention/<task>.pt (float16 weights, < 1 MB each) and summary.json (the accuracy
of each stored model, measured after rounding to float16). One thread and a fixed seed give the same
bytes on every run with the same torch version.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dlcore.attention import transformer as tr  # noqa: E402

OUT = ROOT / "assets" / "models" / "attention"


def train(task: str) -> dict:
    cfg = tr.TrainConfig(task=task, steps=tr.TASK_STEPS[task], seed=0)
    state = tr.init_training(cfg)
    t0 = time.perf_counter()
    while not state.done:
        tr.train_steps(state, 250)
        step, loss, acc = state.history[-1]
        print(f"{task}: step {step:5d}  loss {loss:.4f}  token accuracy {acc:.3f}  {time.perf_counter() - t0:.0f} s",
              flush=True)
    blob = tr.pack(state, accuracy=0.0)
    stored = tr.unpack(blob)                                   # the float16 weights the app will load
    blob["accuracy"] = tr.sequence_accuracy(stored, task)
    blob["per_length"] = [tr.sequence_accuracy(stored, task, lengths=(n,), n=100) for n in range(1, tr.MAX_LEN + 1)]
    torch.save(blob, OUT / f"{task}.pt")
    print(f"{task}: exact-answer accuracy {blob['accuracy']:.3f}  per length {blob['per_length']}", flush=True)
    return {"accuracy": blob["accuracy"], "per_length": blob["per_length"], "steps": state.step}


def main(tasks: list[str]) -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    OUT.mkdir(parents=True, exist_ok=True)
    summary_path = OUT / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    for task in tasks:
        summary[task] = train(task)
    summary_path.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:] or list(tr.TASKS))
