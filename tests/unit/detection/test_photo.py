"""dlcore.detection.photo: a learner's upload fitted to the 640 x 427 frame, and refused with a reason when it
cannot be used."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from dlcore.classifiers import ImageRejected
from dlcore.detection.photo import MAX_PHOTO_BYTES, photo_from_upload


def _png(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=kw.pop("format", "PNG"), **kw)
    return buf.getvalue()


def test_a_wide_upload_is_scaled_to_the_height_and_centre_cropped():
    """A 200 x 50 image with a left half red and a right half blue: scaled by 427/50 to cover the frame, its middle
    640 columns are kept, half red and half blue."""
    arr = np.zeros((50, 200, 3), dtype=np.uint8)
    arr[:, :100, 0] = 255
    arr[:, 100:, 2] = 255
    out = photo_from_upload(_png(Image.fromarray(arr)))
    assert out.shape == (3, 427, 640) and float(out.min()) >= 0 and float(out.max()) <= 1
    assert float(out[0, :, :300].mean()) > 0.99 and float(out[2, :, 340:].mean()) > 0.99


def test_a_grey_upload_becomes_three_equal_channels():
    out = photo_from_upload(_png(Image.new("L", (64, 48), 128)))
    np.testing.assert_allclose(out.numpy(), 128 / 255, atol=1e-6)


@pytest.mark.parametrize("make, reason", [
    (lambda: b"", "empty"),
    (lambda: b"this is not an image", "not_image"),
    (lambda: b"\x00" * (MAX_PHOTO_BYTES + 1), "too_large"),
    (lambda: _png(Image.new("RGB", (5000, 4000))), "too_many_pixels"),
    (lambda: _png(Image.new("CMYK", (8, 8)), format="JPEG"), "mode"),
])
def test_unusable_uploads_are_refused_with_a_reason(make, reason):
    with pytest.raises(ImageRejected) as e:
        photo_from_upload(make())
    assert e.value.reason == reason and isinstance(e.value, ValueError)


def test_an_animated_gif_is_refused():
    frames = [Image.new("RGB", (10, 10), (80 * i, 0, 0)) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(ImageRejected) as e:
        photo_from_upload(buf.getvalue())
    assert e.value.reason == "animated"
