"""A learner's own photo for the box lab: an upload decoded safely and fitted to the bundled photos' 640 x 427
frame, so the typed boxes keep their meaning. The checks are the adversarial lesson's
(:func:`dlcore.classifiers.image_to_digit`): size, format, pixel count read from the header, no animation."""

from __future__ import annotations

import io

import numpy as np
import torch
from torch import Tensor

from dlcore.classifiers import MAX_UPLOAD_PIXELS, UPLOAD_FORMATS, UPLOAD_MODES, ImageRejected

MAX_PHOTO_BYTES = 2 << 20       # 2 MiB: a phone photo saved for the web fits; the app keeps 6 MB a session
UPLOAD_TYPES = ("png", "jpg", "jpeg", "bmp", "gif", "webp")


def photo_from_upload(data: bytes, width: int = 640, height: int = 427) -> Tensor:
    """The uploaded image scaled to cover ``width`` x ``height`` and centre-cropped to it: float32 (3, H, W) in
    [0, 1], like :func:`dlcore.data.sample_image`. Raises :class:`dlcore.classifiers.ImageRejected` (``reason``:
    empty, too_large, not_image, too_many_pixels, animated, mode) before decoding anything it refuses."""
    from PIL import Image, UnidentifiedImageError

    if len(data) == 0:
        raise ImageRejected("empty")
    if len(data) > MAX_PHOTO_BYTES:
        raise ImageRejected("too_large", f"{len(data)} bytes")
    try:
        img = Image.open(io.BytesIO(data), formats=UPLOAD_FORMATS)   # the header only: format and size
    except Image.DecompressionBombError as e:
        raise ImageRejected("too_many_pixels", str(e)) from e
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise ImageRejected("not_image") from e
    with img:
        w, h = img.size
        if w * h > MAX_UPLOAD_PIXELS or w < 1 or h < 1:
            raise ImageRejected("too_many_pixels", f"{w}x{h}")
        if getattr(img, "n_frames", 1) > 1:
            raise ImageRejected("animated", f"{img.n_frames} frames")
        if img.mode not in UPLOAD_MODES:
            raise ImageRejected("mode", img.mode)
        scale = max(width / w, height / h)                           # cover the frame, then crop the overflow
        size = (max(width, round(w * scale)), max(height, round(h * scale)))
        try:
            rgb = img.convert("RGB").resize(size, Image.Resampling.BILINEAR)
        except (OSError, ValueError, Image.DecompressionBombError) as e:
            raise ImageRejected("not_image") from e
    left, top = (size[0] - width) // 2, (size[1] - height) // 2
    arr = np.asarray(rgb, dtype=np.float32)[top:top + height, left:left + width] / 255.0
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()
