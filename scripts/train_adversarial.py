"""Train the adversarial lesson's bundled models deterministically on one CPU thread.

    python scripts/train_adversarial.py            # ~25 s; identical files on every run

Writes assets/models/adversarial/
  standard.pt   DigitsCNN, plain training                 (state dict, ~155 KB)
  robust.pt     DigitsCNN, PGD-7 adversarial training      (state dict, ~155 KB)
  moons.pt      MoonsMLP for the 2D geometry view          (state dict, ~8 KB)
  training.json the training histories and the configs that produced them
Read with ``dlcore.classifiers.load_digits_cnn(robust=...)`` and ``load_moons_mlp()``.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dlcore import adversarial, classifiers  # noqa: E402

STANDARD = classifiers.TrainConfig()
ROBUST = classifiers.TrainConfig(adv_eps=0.2, adv_steps=7)


def state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone().contiguous() for k, v in model.state_dict().items()}


def main() -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    out = classifiers.MODELS_DIR
    out.mkdir(parents=True, exist_ok=True)
    report = {}
    for name, config in (("standard", STANDARD), ("robust", ROBUST)):
        t0 = time.perf_counter()
        model, history = classifiers.train_digits_cnn(config, attack=adversarial.pgd)
        torch.save(state_dict(model), out / f"{name}.pt")
        report[name] = {"config": asdict(config), "history": asdict(history)}
        print(f"{name}: test accuracy {history.test_accuracy[-1]:.4f} in {time.perf_counter() - t0:.1f} s")
    moons = classifiers.train_moons_mlp()
    torch.save(state_dict(moons), out / "moons.pt")
    x, y = classifiers.moons_unit(400, noise=0.1, seed=0)
    report["moons"] = {"train_accuracy": classifiers.accuracy(moons, x, y)}
    print(f"moons: train accuracy {report['moons']['train_accuracy']:.4f}")
    (out / "training.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
