import math

import numpy as np
import pytest
import torch

from dlcore import data


def test_digits_split_shapes_range_and_sizes():
    x_tr, y_tr = data.digits("train")
    x_te, y_te = data.digits("test")
    assert x_tr.shape == (1437, 1, 8, 8) and x_te.shape == (360, 1, 8, 8)
    assert x_tr.dtype == torch.float32 and y_tr.dtype == torch.int64
    assert float(x_tr.min()) == 0.0 and float(x_tr.max()) == 1.0
    assert len(y_tr) + len(y_te) == 1797


def test_digits_split_is_stratified_and_disjoint():
    _, y_tr = data.digits("train")
    x_te, y_te = data.digits("test")
    counts = torch.bincount(y_te, minlength=10)
    assert int(counts.min()) >= 35 and int(counts.max()) <= 37  # ~20% of ~180 per class
    x_tr, _ = data.digits("train")
    flat_tr = {tuple(r) for r in (x_tr.reshape(len(x_tr), -1) * 16).round().int().tolist()}
    overlap = sum(tuple(r) in flat_tr for r in (x_te.reshape(len(x_te), -1) * 16).round().int().tolist())
    assert overlap < 5  # a handful of identical images exist in the raw data; the split does not copy rows


def test_digits_matches_sklearn_pixels():
    from sklearn.datasets import load_digits

    raw = load_digits().images / 16.0
    x_tr, _ = data.digits("train")
    # every training image is one of the raw images
    first = x_tr[0, 0].numpy()
    assert np.isclose(raw, first).all(axis=(1, 2)).any()


def test_digits_split_is_exactly_sklearns_stratified_split():
    # the images come from scikit-learn's file and the split from assets/data: both equal to what sklearn computes
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0)[:, None]
    x_tr, x_te, y_tr, y_te = train_test_split(x, d.target, test_size=0.2, random_state=0, stratify=d.target)
    for split, (xs, ys) in {"train": (x_tr, y_tr), "test": (x_te, y_te)}.items():
        ours_x, ours_y = data.digits(split)
        np.testing.assert_array_equal(ours_x.numpy(), xs)
        np.testing.assert_array_equal(ours_y.numpy(), ys)


def test_the_lessons_data_load_without_importing_sklearn():
    # a training worker imports the lesson code only: scikit-learn would add ~75 MB to every worker
    import subprocess
    import sys

    code = ("import sys; from dlcore import data; data.digits('test'); data.sample_image('flower'); "
            "sys.exit('sklearn' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=data.ASSETS.parent, timeout=120).returncode == 0


def test_a_moved_sklearn_file_falls_back_to_sklearns_loaders(monkeypatch, tmp_path):
    reference = (data.digits("test"), data.sample_image("china"))
    monkeypatch.setattr(data, "_sklearn_file", lambda *parts: tmp_path.joinpath(*parts))   # nothing there
    data._digits_split.cache_clear()
    data._sample_image.cache_clear()
    try:
        x, y = data.digits("test")
        assert torch.equal(x, reference[0][0]) and torch.equal(y, reference[0][1])
        assert torch.equal(data.sample_image("china"), reference[1])
    finally:
        data._digits_split.cache_clear()
        data._sample_image.cache_clear()


def test_digits_returns_copies():
    x, _ = data.digits("train")
    x += 1
    x2, _ = data.digits("train")
    assert float(x2.max()) == 1.0


def test_digits_rejects_unknown_split():
    with pytest.raises(AssertionError):
        data.digits("val")


@pytest.mark.parametrize("name", data.SAMPLE_IMAGES)
def test_sample_image_shape_and_range(name):
    from sklearn.datasets import load_sample_images

    img = data.sample_image(name)
    assert img.shape == (3, 427, 640) and img.dtype == torch.float32
    assert 0.0 <= float(img.min()) and float(img.max()) <= 1.0
    images = load_sample_images()
    theirs = images.images[[f.endswith(f"{name}.jpg") for f in images.filenames].index(True)]
    np.testing.assert_array_equal((img.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8), theirs)


def test_ring_of_gaussians_points_sit_near_their_modes():
    x = data.ring_of_gaussians(4000, modes=8, radius=2.0, std=0.05, seed=1)
    centres = data.ring_centres(8, 2.0)
    d = torch.cdist(x, centres).min(dim=1).values
    assert x.shape == (4000, 2)
    assert float(d.mean()) == pytest.approx(0.05 * math.sqrt(math.pi / 2), rel=0.1)  # Rayleigh mean
    nearest = torch.cdist(x, centres).argmin(dim=1)
    assert torch.bincount(nearest, minlength=8).min() > 400  # all modes used
    torch.testing.assert_close(x, data.ring_of_gaussians(4000, modes=8, radius=2.0, std=0.05, seed=1))


def test_grid_of_gaussians_covers_all_25_modes():
    x = data.grid_of_gaussians(5000, side=5, spacing=0.5, std=0.02)
    nearest = torch.cdist(x, data.grid_centres(5, 0.5)).argmin(dim=1)
    assert torch.bincount(nearest, minlength=25).min() > 100
    assert float(data.grid_centres(5, 0.5).mean()) == pytest.approx(0.0, abs=1e-6)


def test_two_moons_noise_free_lies_on_the_two_arcs():
    x, y = data.two_moons(200, noise=0.0)
    upper, lower = x[y == 0], x[y == 1]
    torch.testing.assert_close(upper.norm(dim=1), torch.ones(len(upper)))
    torch.testing.assert_close((lower - torch.tensor([1.0, 0.5])).norm(dim=1), torch.ones(len(lower)))
    assert len(upper) == len(lower) == 100


def test_two_moons_matches_sklearn_shape_of_construction():
    from sklearn.datasets import make_moons

    xs, ys = make_moons(200, noise=0.0, shuffle=False)
    x, y = data.two_moons(200, noise=0.0)
    ours = sorted(map(tuple, np.round(x.numpy(), 4).tolist()))
    theirs = sorted(map(tuple, np.round(xs.astype(np.float32), 4).tolist()))
    np.testing.assert_allclose(np.array(ours), np.array(theirs), atol=1e-3)


def test_spiral_radius_grows_with_angle():
    x = data.spiral(500, noise=0.0)
    r = x.norm(dim=1)
    assert float(r.max()) <= 1.0 + 1e-5 and float(r.min()) >= 0.0


def test_circles_radii():
    x, y = data.circles(400, factor=0.4, noise=0.0)
    torch.testing.assert_close(x[y == 0].norm(dim=1), torch.ones(200))
    torch.testing.assert_close(x[y == 1].norm(dim=1), torch.full((200,), 0.4))
