"""dlcore.classifiers: the bundled weights meet the lesson's accuracy claims and are reproduced by the
training script; the models normalise inside; uploads become digits or are refused with a reason."""

import io
import json
import struct
import warnings
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from dlcore import adversarial as adv
from dlcore import classifiers as clf
from dlcore.data import digits


@pytest.fixture(scope="module")
def digits_test():
    """The 360 test digits and their labels (named so pytest does not collect it as a test)."""
    return digits("test")


def _png(a: np.ndarray, mode: str | None = None, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a, mode=mode).save(buf, format=fmt, **kw)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# Bundled weights
# ---------------------------------------------------------------------------------------------

def test_standard_cnn_reaches_97_percent_test_accuracy(digits_test):
    acc = clf.accuracy(clf.load_digits_cnn(robust=False), *digits_test)
    assert acc >= 0.97
    report = json.loads((clf.MODELS_DIR / "training.json").read_text())
    assert acc == pytest.approx(report["standard"]["history"]["test_accuracy"][-1])


def test_robust_twin_keeps_95_percent_clean_and_resists_pgd_far_better(digits_test):
    x, y = digits_test
    std, rob = clf.load_digits_cnn(robust=False), clf.load_digits_cnn(robust=True)
    clean_rob = clf.accuracy(rob, x, y)
    assert 0.95 <= clean_rob <= clf.accuracy(std, x, y)          # robustness costs a little clean accuracy
    pgd_std = adv.adversarial_accuracy(std, x, y, "pgd", 0.1)
    pgd_rob = adv.adversarial_accuracy(rob, x, y, "pgd", 0.1)
    assert pgd_rob >= 0.8 and pgd_rob >= pgd_std + 0.2


def test_bundled_weight_files_are_small():
    for name in ("standard.pt", "robust.pt", "moons.pt"):
        assert (clf.MODELS_DIR / name).stat().st_size < 1_000_000


def test_loaded_model_is_eval_frozen_normalises_inside_and_returns_logits(digits_test):
    model = clf.load_digits_cnn()
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    norm = model.net[0]
    assert isinstance(norm, clf.Normalize)
    x_tr, _ = digits("train")
    assert float(norm.mean) == pytest.approx(float(x_tr.mean()), rel=1e-5)
    assert float(norm.std) == pytest.approx(float(x_tr.std()), rel=1e-5)
    x = digits_test[0][:5]
    with torch.inference_mode():
        logits = model(x)
        assert logits.shape == (5, 10)
        manual = model.net[1:]((x - x_tr.mean()) / x_tr.std())
    torch.testing.assert_close(logits, manual, rtol=1e-5, atol=1e-5)
    with pytest.raises(AssertionError, match=r"\(N, 1, 8, 8\)"):
        model(torch.zeros(2, 64))


def test_moons_mlp_separates_the_moons_in_the_unit_square():
    x, y = clf.moons_unit(400, noise=0.1, seed=0)
    assert float(x.min()) >= 0 and float(x.max()) <= 1
    assert clf.accuracy(clf.load_moons_mlp(), x, y) >= 0.97


def _same_model(trained: torch.nn.Module, bundled: torch.nn.Module, name: str) -> None:
    """The script reproduces the bundled weights up to float drift between CPUs (different SIMD kernels
    round differently, and training amplifies it to ~1e-2 in a weight): same predictions, same accuracy."""
    x, y = digits("test")
    with torch.inference_mode():
        mine, theirs = trained.eval()(x).argmax(1), bundled(x).argmax(1)
    assert float((mine == theirs).float().mean()) >= 0.99, name
    assert abs(float((mine == y).float().mean()) - float((theirs == y).float().mean())) <= 0.01, name
    saved = torch.load(clf.MODELS_DIR / name, weights_only=True)
    for k, v in trained.state_dict().items():
        torch.testing.assert_close(v, saved[k], rtol=0, atol=0.1, msg=f"{name}: {k}")


@pytest.mark.slow
def test_training_script_reproduces_the_standard_and_moons_weights():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model, history = clf.train_digits_cnn(clf.TrainConfig())
        moons = clf.train_moons_mlp()
    finally:
        torch.set_num_threads(threads)
    _same_model(model, clf.load_digits_cnn(), "standard.pt")
    x, _ = clf.moons_unit(400, noise=0.1, seed=0)
    with torch.inference_mode():
        agree = (moons.eval()(x).argmax(1) == clf.load_moons_mlp()(x).argmax(1)).float().mean()
    assert float(agree) >= 0.99
    assert history.test_accuracy[-1] >= 0.97


@pytest.mark.slow
def test_training_script_reproduces_the_robust_weights():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model, _ = clf.train_digits_cnn(clf.TrainConfig(adv_eps=0.2, adv_steps=7), attack=adv.pgd)
    finally:
        torch.set_num_threads(threads)
    _same_model(model, clf.load_digits_cnn(robust=True), "robust.pt")


# ---------------------------------------------------------------------------------------------
# Uploads
# ---------------------------------------------------------------------------------------------

def _paper(digit: np.ndarray, scale: int = 6) -> np.ndarray:
    """A test digit as a photo would show it: dark ink on white paper, upscaled, with a border."""
    big = np.kron(digit, np.ones((scale, scale)))
    big = np.pad(big, scale * 2)
    return (255 * (1 - big)).astype(np.uint8)


def test_upscaled_test_digits_on_paper_round_trip_to_the_same_class(digits_test):
    x, y = digits_test
    model = clf.load_digits_cnn()
    correct = 0
    for i in range(40):
        d = clf.image_to_digit(_png(_paper(x[i, 0].numpy())))
        assert d.shape == (1, 1, 8, 8) and float(d.min()) >= 0 and float(d.max()) == pytest.approx(1.0)
        with torch.inference_mode():
            correct += int(model(d).argmax(1)) == int(y[i])
    assert correct >= 36


def test_light_ink_on_dark_rgba_and_jpeg_give_the_same_digit(digits_test):
    digit = digits_test[0][0, 0].numpy()
    dark_on_light = clf.image_to_digit(_png(_paper(digit)))
    light_on_dark = clf.image_to_digit(_png(255 - _paper(digit)))
    torch.testing.assert_close(dark_on_light, light_on_dark)
    rgba = np.zeros((*_paper(digit).shape, 4), dtype=np.uint8)
    rgba[..., 3] = 255 - _paper(digit)                            # black ink, transparent paper
    torch.testing.assert_close(clf.image_to_digit(_png(rgba, "RGBA")), dark_on_light, atol=0.02, rtol=0)
    rgb = np.repeat(_paper(digit)[..., None], 3, axis=2)
    torch.testing.assert_close(clf.image_to_digit(_png(rgb, fmt="JPEG", quality=95)), dark_on_light, atol=0.06, rtol=0)


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"),
    (b"GIF89a but not really an image", "not_image"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not_image"),
    (b"x" * (clf.MAX_UPLOAD_BYTES + 1), "too_large"),
])
def test_bad_bytes_are_refused_with_a_reason(data, reason):
    with pytest.raises(clf.ImageRejected) as e:
        clf.image_to_digit(data)
    assert e.value.reason == reason


def test_animated_odd_mode_huge_and_blank_images_are_refused():
    frames = [Image.fromarray(np.full((16, 16), v, dtype=np.uint8)) for v in (0, 255)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    cases = {
        "animated": buf.getvalue(),
        "mode": _png(np.full((16, 16), 30000, dtype=np.uint16)),               # 16-bit grey
        "blank": _png(np.full((32, 32), 200, dtype=np.uint8)),
    }
    cmyk = io.BytesIO()
    Image.new("CMYK", (16, 16), (0, 0, 0, 255)).save(cmyk, format="JPEG")
    big = io.BytesIO()
    Image.new("1", (5000, 5000)).save(big, format="PNG")                       # tiny file, 25 M pixels
    for reason, data in [*cases.items(), ("mode", cmyk.getvalue()), ("too_many_pixels", big.getvalue())]:
        with pytest.raises(clf.ImageRejected) as e:
            clf.image_to_digit(data)
        assert e.value.reason == reason, reason


def _png_header(width: int, height: int) -> bytes:
    """A PNG that only claims a size: a valid header (8-bit grey) and a few bytes of image data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [20_000, 10_000, 5_000])
def test_a_header_claiming_too_many_pixels_is_refused_before_decoding(side):
    """20000 x 20000 is past Pillow's own decompression-bomb error, 10000 x 10000 past its warning, 5000 x 5000
    past ours (MAX_UPLOAD_PIXELS): each file is ~100 bytes and every one is refused from its header."""
    data = _png_header(side, side)
    assert len(data) < 200
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with pytest.raises(clf.ImageRejected) as e:
            clf.image_to_digit(data)
    assert e.value.reason == "too_many_pixels"


def test_formats_outside_the_list_are_refused_as_not_an_image():
    buf = io.BytesIO()
    Image.fromarray(np.zeros((16, 16), dtype=np.uint8)).save(buf, format="TIFF")
    with pytest.raises(clf.ImageRejected) as e:
        clf.image_to_digit(buf.getvalue())
    assert e.value.reason == "not_image"
