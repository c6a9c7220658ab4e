"""Bundled data every lesson shares: scikit-learn's digits and sample images, and 2D toy sets.

Nothing is downloaded: the digits (UCI optical digits, 8x8) and the two sample
photos ship inside scikit-learn (read from its files, without importing it); the digits'
train / test split is bundled in ``assets/data``. Toy sets are generated from a seed.
"""

from __future__ import annotations

import importlib.util
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

SAMPLE_IMAGES = ("china", "flower")


ASSETS = Path(__file__).resolve().parent.parent / "assets"


def _sklearn_file(*parts: str) -> Path:
    """A data file shipped inside scikit-learn, found without importing it (~40 MB in the server, 75 MB in a
    training worker, for two small files)."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("scikit-learn is not installed")
    return Path(spec.submodule_search_locations[0], *parts)


@lru_cache(maxsize=1)
def _digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``load_digits()`` split by ``train_test_split(test_size=0.2, random_state=0, stratify=y)``: the images
    read from scikit-learn's own ``digits.csv.gz``, the split from the indices bundled in
    ``assets/data/digits_split.npz`` (both tested equal to what scikit-learn computes)."""
    try:
        table = np.loadtxt(_sklearn_file("datasets", "data", "digits.csv.gz"), delimiter=",", dtype=np.float32)
        images, target = table[:, :-1].reshape(-1, 8, 8), table[:, -1].astype(np.int64)
    except OSError:   # a scikit-learn that moved the file: ask it
        from sklearn.datasets import load_digits

        d = load_digits()
        images, target = d.images.astype(np.float32), d.target.astype(np.int64)
    x = (images / 16.0)[:, None, :, :]  # (N, 1, 8, 8) in [0, 1]
    split = np.load(ASSETS / "data" / "digits_split.npz")
    tr, te = split["train"].astype(np.int64), split["test"].astype(np.int64)
    return x[tr], target[tr], x[te], target[te]


def digits(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """The 8x8 handwritten digits as ``(x, y)``.

    x: float32 in [0, 1], shape (N, 1, 8, 8); y: int64 labels 0-9.
    ``split`` is "train" (1437 images) or "test" (360), a fixed stratified 80/20
    split (random_state=0), the same for every lesson.
    """
    assert split in ("train", "test"), f"split must be 'train' or 'test', got {split!r}"
    x_tr, y_tr, x_te, y_te = _digits_split()
    x, y = (x_tr, y_tr) if split == "train" else (x_te, y_te)
    return torch.from_numpy(x.copy()), torch.from_numpy(y.copy())


@lru_cache(maxsize=2)
def _sample_image(name: str) -> np.ndarray:
    """scikit-learn's ``load_sample_images()`` photo ``name`` (uint8, H x W x 3), read from its file."""
    try:
        from PIL import Image

        with Image.open(_sklearn_file("datasets", "images", f"{name}.jpg")) as img:
            return np.asarray(img.convert("RGB"))
    except OSError:   # a scikit-learn that moved the file: ask it
        from sklearn.datasets import load_sample_images

        images = load_sample_images()
        by_name = {f.rsplit("/", 1)[-1].split(".")[0]: img for f, img in zip(images.filenames, images.images)}
        return by_name[name]


def sample_image(name: str = "china") -> torch.Tensor:
    """One of scikit-learn's bundled photos as float32 (3, H, W) in [0, 1] (427 x 640).

    name: "china" (a temple) or "flower".
    """
    assert name in SAMPLE_IMAGES, f"unknown sample image {name!r}; choose from {SAMPLE_IMAGES}"
    img = _sample_image(name)
    return torch.from_numpy(img.astype(np.float32) / 255.0).permute(2, 0, 1).contiguous()


def ring_of_gaussians(n: int, modes: int = 8, radius: float = 1.0, std: float = 0.05, seed: int = 0) -> torch.Tensor:
    r"""``n`` points from ``modes`` Gaussians evenly spaced on a circle, shape (n, 2).

    Mode k has centre radius * (cos(2\pi k / modes), sin(2\pi k / modes)) and
    isotropic standard deviation ``std``; each point picks a mode uniformly.
    """
    g = torch.Generator().manual_seed(seed)
    k = torch.randint(0, modes, (n,), generator=g)
    angle = 2 * math.pi * k.float() / modes
    centres = radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    return centres + std * torch.randn(n, 2, generator=g)


def ring_centres(modes: int = 8, radius: float = 1.0) -> torch.Tensor:
    """The mode centres of :func:`ring_of_gaussians`, shape (modes, 2)."""
    angle = 2 * math.pi * torch.arange(modes).float() / modes
    return radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)


def grid_of_gaussians(n: int, side: int = 5, spacing: float = 0.5, std: float = 0.02, seed: int = 0) -> torch.Tensor:
    """``n`` points from a ``side`` x ``side`` grid of Gaussians centred on the origin, shape (n, 2)."""
    g = torch.Generator().manual_seed(seed)
    centres = grid_centres(side, spacing)
    k = torch.randint(0, side * side, (n,), generator=g)
    return centres[k] + std * torch.randn(n, 2, generator=g)


def grid_centres(side: int = 5, spacing: float = 0.5) -> torch.Tensor:
    """The mode centres of :func:`grid_of_gaussians`, shape (side*side, 2)."""
    coords = (torch.arange(side).float() - (side - 1) / 2) * spacing
    gx, gy = torch.meshgrid(coords, coords, indexing="xy")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)


def two_moons(n: int, noise: float = 0.05, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two interleaving half circles: points (n, 2) and labels (n,) in {0, 1}.

    Same construction as scikit-learn's ``make_moons``: the upper moon is
    (cos t, sin t), the lower (1 - cos t, 0.5 - sin t), t in [0, pi].
    """
    g = torch.Generator().manual_seed(seed)
    n_upper = n // 2 + n % 2
    n_lower = n // 2
    t_up = torch.linspace(0, math.pi, n_upper)
    t_lo = torch.linspace(0, math.pi, n_lower)
    upper = torch.stack([torch.cos(t_up), torch.sin(t_up)], dim=1)
    lower = torch.stack([1 - torch.cos(t_lo), 0.5 - torch.sin(t_lo)], dim=1)
    x = torch.cat([upper, lower]) + noise * torch.randn(n, 2, generator=g)
    y = torch.cat([torch.zeros(n_upper, dtype=torch.long), torch.ones(n_lower, dtype=torch.long)])
    perm = torch.randperm(n, generator=g)
    return x[perm], y[perm]


def spiral(n: int, turns: float = 1.5, noise: float = 0.02, seed: int = 0) -> torch.Tensor:
    r"""``n`` points on an Archimedean spiral r = t / (2\pi turns), t in [0, 2\pi turns], shape (n, 2).

    The radius runs from 0 to 1; Gaussian noise of std ``noise`` is added.
    """
    g = torch.Generator().manual_seed(seed)
    t = torch.rand(n, generator=g) * 2 * math.pi * turns
    r = t / (2 * math.pi * turns)
    x = torch.stack([r * torch.cos(t), r * torch.sin(t)], dim=1)
    return x + noise * torch.randn(n, 2, generator=g)


def circles(n: int, factor: float = 0.5, noise: float = 0.05, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two concentric circles (radius 1 and ``factor``): points (n, 2), labels (n,) with 1 = inner."""
    assert 0 < factor < 1, f"factor must be in (0, 1), got {factor}"
    g = torch.Generator().manual_seed(seed)
    n_out = n // 2 + n % 2
    n_in = n // 2
    t_out = 2 * math.pi * torch.rand(n_out, generator=g)
    t_in = 2 * math.pi * torch.rand(n_in, generator=g)
    outer = torch.stack([torch.cos(t_out), torch.sin(t_out)], dim=1)
    inner = factor * torch.stack([torch.cos(t_in), torch.sin(t_in)], dim=1)
    x = torch.cat([outer, inner]) + noise * torch.randn(n, 2, generator=g)
    y = torch.cat([torch.zeros(n_out, dtype=torch.long), torch.ones(n_in, dtype=torch.long)])
    perm = torch.randperm(n, generator=g)
    return x[perm], y[perm]
