"""Train the seq2seq lesson's bundled number translators deterministically.

    python scripts/train_seq2seq.py            # 4 directions x (plain, attention): ~2-3 min on one idle CPU thread
    python scripts/train_seq2seq.py digits-en  # one direction

Writes assets/models/seq2seq/<direction>-<plain|attention>.pt (float16 weights of the final model and of the
snapshot after EARLY steps, ~250 KB each) and summary.json (the stored models' test accuracy, measured after
rounding to float16). One thread and fixed seeds give the same weights on every run with the same torch version.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dlcore.seq2seq import model as s2s  # noqa: E402

OUT = ROOT / "assets" / "models" / "seq2seq"
EARLY = 100   # an under-trained snapshot, on which greedy and beam search disagree more often


def train(direction: str, attention: bool) -> dict:
    cfg = s2s.TrainConfig(model=s2s.ModelConfig(direction=direction, attention=attention), seed=0)
    state = s2s.init_training(cfg)
    t0 = time.perf_counter()
    while not state.done:
        s2s.train_steps(state, 200, snapshot_at=(EARLY,))
        step, loss, acc, test_loss = state.history[-1]
        print(f"{direction} {'attention' if attention else 'plain'}: step {step:5d}  loss {loss:.4f}  "
              f"test accuracy {acc:.3f}  {time.perf_counter() - t0:.0f} s", flush=True)
    blob = s2s.pack(state)
    blob["history"] = [list(h) for h in state.history]
    blob["accuracy"] = s2s.evaluate(s2s.unpack(blob))[0]                # the float16 weights the app loads
    blob["early_accuracy"] = s2s.evaluate(s2s.unpack(blob, EARLY))[0]
    torch.save(blob, OUT / f"{direction}-{'attention' if attention else 'plain'}.pt")
    return {"accuracy": blob["accuracy"], "early_accuracy": blob["early_accuracy"], "steps": state.step,
            "seconds": round(time.perf_counter() - t0, 1)}


def main(directions: list[str]) -> None:
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "summary.json"
    summary = json.loads(path.read_text()) if path.is_file() else {}
    for direction in directions:
        for attention in (False, True):
            summary[f"{direction}-{'attention' if attention else 'plain'}"] = train(direction, attention)
    path.write_text(json.dumps(dict(sorted(summary.items())), indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:] or list(s2s.DIRECTIONS))
